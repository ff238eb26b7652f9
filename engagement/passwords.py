"""Which passwords staff may choose, after NIST SP 800-63B: long enough, not common, not the account's own name.

No composition rules (no "one digit, one symbol"): length and a list of common passwords stop the guesses that
matter, and a long phrase that is easy to remember is welcome. Every character counts, spaces included.
"""

import gzip
import re
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 1000
# The 20,000 most common passwords of leaked lists, lower case (see data/README.txt for where it comes from).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt.gz"
# A common password with digits or symbols added at its end ("Password2026!") is as easily guessed.
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _is_common(password: str) -> bool:
    lowered = password.lower()
    base = _TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    return lowered in common_passwords() or (len(base) >= 4 and base in common_passwords())


def _is_pattern(password: str) -> bool:
    """One short piece repeated ("aaaaaaaaaaaa", "abcabcabcabc") or characters in a row ("abcdefghijkl")."""
    text = password.lower()
    if any(text == text[:size] * (len(text) // size) for size in range(1, len(text) // 2 + 1)
           if len(text) % size == 0):
        return True
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return steps in ({1}, {-1})


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password cannot be used for this account (in the reader's language), or None when it can."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(min)s characters (a few words make a good password).", min=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(max)s characters.", max=MAX_LENGTH))
    lowered = password.strip().lower()
    email = email.strip().lower()
    if email and lowered in {email, email.partition("@")[0]}:
        return str(_l("The password must not be your email address or the part before the @."))
    if _is_common(password):
        return str(_l("This password is one of the most common ones, which are tried first. Choose another."))
    if _is_pattern(password):
        return str(_l("This password is a repeated or sequential pattern, which is guessed at once. Choose another."))
    return None
