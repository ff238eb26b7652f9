"""Personal invitation links: unguessable, derived from SECRET_KEY, stored only as a hash.

The token is HMAC-SHA256(SECRET_KEY, "invitation:<id>:<salt>") (256 bits): the Secretariat can print or mail the
link again at any time (reminders, exports) while the database holds only SHA-256(token), so a copy of the
database alone opens no survey. Changing SECRET_KEY changes every link.
"""

import base64
import hashlib
import hmac
import re
import secrets

from flask import current_app, has_request_context, url_for

from engagement.extensions import db

from .models import Invitation

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what _signed makes


def new_salt() -> str:
    return secrets.token_hex(16)


def _signed(message: str, secret_key: str | None = None) -> str:
    """HMAC-SHA256(SECRET_KEY, message), URL-safe base64 without padding (43 characters)."""
    key = (secret_key or current_app.config["SECRET_KEY"]).encode()
    digest = hmac.digest(key, message.encode(), "sha256")  # the one-shot C implementation of hmac.new(...).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(invitation_id: int, salt: str, secret_key: str | None = None) -> str:
    return _signed(f"invitation:{invitation_id}:{salt}", secret_key)


def make_preview_token(preview_id: int, salt: str) -> str:
    """A preview's or test link's token: the same shape as an invitation's, from another message."""
    return _signed(f"preview:{preview_id}:{salt}")


def form_token(token: str) -> str:
    """The CSRF token of the forms behind a link: HMAC-SHA256(SECRET_KEY, "form:<link token>").

    The link is the partner's credential, so the token is bound to it rather than to a session cookie: a partner's
    browser needs no cookie, a page left open for days still saves, and only someone who can read a page opened
    from the link (which carries it) can post to it.
    """
    return _signed(f"form:{token}")


def form_token_matches(token: str, sent: str | None) -> bool:
    """Compare a posted form token in constant time."""
    return bool(sent) and hmac.compare_digest(sent.encode(), form_token(token).encode())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(invitation: Invitation) -> str:
    return make_token(invitation.id, invitation.salt)


def assign_token(invitation: Invitation) -> None:
    """Give a flushed invitation (it has an id) its salt and token hash."""
    invitation.salt = invitation.salt or new_salt()
    invitation.token_hash = hash_token(make_token(invitation.id, invitation.salt))


def link_for(invitation: Invitation) -> str:
    """The absolute personal link, as mailed and exported."""
    base = current_app.config["BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for("partner.welcome", token=token_for(invitation))
    with current_app.test_request_context():  # commands and mail jobs build links outside any request
        return base + url_for("partner.welcome", token=token_for(invitation))


def lookup_hash(token: str) -> str | None:
    """The hash to look a token up by, or None for a malformed token (refused before touching the database)."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    return hash_token(token)


def hash_matches(stored: str | None, wanted: str) -> bool:
    """Compare the stored hash in constant time, whatever the database's own comparison did."""
    return stored is not None and hmac.compare_digest(stored, wanted)


def find_invitation(token: str) -> Invitation | None:
    """The invitation a token opens, or None; malformed tokens are refused before touching the database."""
    wanted = lookup_hash(token)
    if wanted is None:
        return None
    invitation = db.session.scalar(db.select(Invitation).filter_by(token_hash=wanted))
    return invitation if invitation is not None and hash_matches(invitation.token_hash, wanted) else None
