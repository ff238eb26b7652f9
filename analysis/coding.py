"""Coding the open answers, pure: keyword proposals, the blind sample, Cohen's kappa, the demo codebook.

Frames in, plain values out (no Flask, no SQLAlchemy): analysis.coding_store reads and writes the codes, the report
(analysis.report.themes) counts them.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

SAMPLE_SHARE = 0.2  # share of the comments a second coder codes blind
CODE_COLUMNS = ["response_id", "question", "theme_id"]
THEME_COLUMNS = ["theme_id", "question", "name"]


@dataclass
class CodingData:
    """A round's codes as plain frames: the codebook, the first coder's themes, quotable comments, the second coder."""

    themes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=THEME_COLUMNS))
    codes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CODE_COLUMNS))
    quotable: set[tuple[int, str]] = field(default_factory=set)  # (response_id, question)
    second_codes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CODE_COLUMNS))
    reviewed: set[tuple[int, str]] = field(default_factory=set)  # saved by the first coder
    second_reviewed: set[tuple[int, str]] = field(default_factory=set)  # saved by the second coder
    round_open: bool = False

    def questions(self) -> list[str]:
        """The free-text questions that have a codebook."""
        return list(dict.fromkeys(self.themes["question"].astype(str)))


def fold(text: str) -> str:
    """Lower case without accents, so "réseau" matches "reseau" and "Financiación" matches "financiacion"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def proposals(text: str, rules: Iterable[tuple[int, Sequence[str]]]) -> list[tuple[int, str]]:
    """(theme id, keyword) for each theme one of whose keywords starts a word of the text; the analyst decides."""
    folded = fold(text)
    found = []
    for theme_id, keywords in rules:
        for keyword in keywords:
            key = fold(keyword.strip())
            if key and re.search(r"(?<!\w)" + re.escape(key), folded):
                found.append((theme_id, keyword.strip()))
                break
    return found


def in_blind_sample(response_id: int, question: str, share: float = SAMPLE_SHARE) -> bool:
    """Whether a comment is in the second coder's sample: fixed by its identity, so both coders see the same one."""
    digest = hashlib.sha256(f"{response_id}:{question}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def cohen_kappa(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    """Cohen's kappa of two coders' yes/no decisions on the same comments; None when undefined (no comment, or both
    coders gave one answer throughout and so chance agreement is 1)."""
    if len(first) != len(second):
        raise ValueError("Both coders must decide on the same comments.")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second)) / n
    p1 = sum(bool(a) for a in first) / n
    p2 = sum(bool(b) for b in second) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    """Agreement between the two coders on one theme, over the comments both coded."""

    question: str
    theme: str
    comments: int
    agreed: int
    kappa: float | None


def agreement(coding: CodingData) -> list[Agreement]:
    """Cohen's kappa per theme over the comments both coders saved (the second coder's blind sample)."""
    both = sorted(coding.reviewed & coding.second_reviewed)
    rows = []
    first = set(map(tuple, coding.codes[CODE_COLUMNS].itertuples(index=False)))
    second = set(map(tuple, coding.second_codes[CODE_COLUMNS].itertuples(index=False)))
    for theme_id, question, name in coding.themes[THEME_COLUMNS].itertuples(index=False):
        pairs = [(response_id, q) for response_id, q in both if q == question]
        if not pairs:
            continue
        a = [(r, q, theme_id) in first for r, q in pairs]
        b = [(r, q, theme_id) in second for r, q in pairs]
        rows.append(Agreement(question, name, len(pairs), sum(x == y for x, y in zip(a, b)), cohen_kappa(a, b)))
    return rows


# The demo's codebook: a few themes per free-text question of the default survey, keywords in its three languages.
DEMO_CODEBOOK: dict[str, list[tuple[str, str, str]]] = {
    "services_missing": [
        ("Financing and funding", "Information on or access to funding.",
         "fund, financ, donor, grant, fondos, bailleur"),
        ("Peer exchange", "Learning from other partners or countries.",
         "peer, exchange, échange, intercambio, network, réseau, red "),
        ("Data and evidence", "Data, research and evidence products.",
         "data, donnée, datos, evidence, research, recherche, investigación"),
        ("Translation and languages", "Material and meetings in more languages.",
         "translat, tradu, language, langue, idioma, french, spanish, français, español"),
    ],
    "recommend_why": [
        ("Networking value", "Meeting and working with other partners.",
         "network, réseau, red, partner, partenaire, socio, collaborat"),
        ("Visibility and advocacy", "Voice and visibility for the cause.",
         "visib, advoca, plaidoyer, incidencia, voice, voix"),
        ("Little concrete benefit", "Doubts about what the partnership delivers.",
         "little, unclear, peu, poco, benefit, bénéfice, beneficio"),
    ],
    "one_change": [
        ("Fewer, better meetings", "Meetings, their number, timing and follow-up.",
         "meeting, réunion, reunión, time zone, fuseau"),
        ("Clearer roles", "What is expected of each partner.",
         "role, rôle, rol, clear, clair, clar, expect"),
        ("Funding for national action", "Money for roadmaps and national work.",
         "fund, financ, budget, money, argent, dinero, recursos"),
        ("Communication", "Information that is timely and short.",
         "communic, information, newsletter, email, courriel, correo"),
    ],
}
