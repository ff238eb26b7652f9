"""A round as the analysis reads it: tidy pandas frames, one respondent at a time for the exports, and which of a
response's answers its conditions still show.

Pure: analysis.loader fills these from the database (the only module of the analysis, with the pages and commands,
that touches it); everything here works on plain values, so the statistics, the report and the exports can be used
without Flask or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import numpy as np
import pandas as pd

from surveys.definition import SurveyDefinition
from surveys.relevance import hidden_questions, layout, partner_attributes, visible_questions

RESPONDENT_COLUMNS = [
    "response_id",
    "organisation_id",
    "organisation",
    "category",
    "region",
    "country",
    "pathfinder",
    "status",
    "language",
    "started_at",
    "submitted_at",
]


INVITATION_COLUMNS = [
    "invitation_id",
    "organisation_id",
    "category",
    "region",
    "pathfinder",
    "ineligible",
    "response_status",
    "response_id",
]


@dataclass
class RoundData:
    """Everything the collective analysis of one round needs, as plain frames and the survey definition."""

    round_id: int
    round_name: str
    definition: SurveyDefinition
    answers: pd.DataFrame  # response_id, question, value: one row per stored answer to a shown question
    respondents: pd.DataFrame  # one row per response (started or submitted)
    invitations: pd.DataFrame  # one row per invitation, with its response's status (None when never started)
    translated_names: dict[str, str] = field(default_factory=dict)  # the round's name in other languages
    entries: dict[str, dict[int, int]] = field(default_factory=dict)  # repeat -> response id -> number of entries

    def name_in(self, language: str | None) -> str:
        return self.translated_names.get(language or "") or self.round_name


@dataclass
class Respondent:
    """One response and what the registry knows of its organisation, as the exports write it."""

    response_id: int
    organisation_id: int
    organisation: str
    category: str
    region: str
    country: str | None
    pathfinder: bool
    action_groups: str
    gcg_member: bool
    status: str
    language: str
    started_at: datetime | None
    submitted_at: datetime | None

    @property
    def partner(self) -> dict[str, str]:
        """The registry attributes under the names a form's conditions use (${partner_category}...)."""
        return partner_attributes(self)


def known_names(definition: SurveyDefinition) -> list[str]:
    """Names an answer may be stored under, in form order: each answerable question, then its "other" text."""
    names = []
    for question in definition.questions():
        if question.answerable:
            names.append(question.name)
            if question.or_other:
                names.append(question.other_name)
    return names


def shown_answers(
    definition: SurveyDefinition, respondent: Respondent, values: dict[str, str], known: set[str]
) -> dict[str, str]:
    """Answers to questions of the definition; for a response in progress, only those its conditions show.

    The partner pages drop hidden answers when a page is left or the response submitted, so only a response in
    progress can still hold one (on the page the partner is on).
    """
    repeats = {repeat.name for repeat in definition.repeats()}
    values = {name: value for name, value in values.items()
              if (name in known or (repeats and _in_repeat(name, repeats))) and value != ""}
    if respondent.status == "submitted" or not values:
        return values
    shown = visible_questions(definition, values, respondent.partner)
    keep = {name for name in values if repeats and _in_repeat(name, repeats)}  # entries: see analysis.repeat_tables
    for name in shown:
        keep.add(name)
        keep.add(f"{name}_other")
    return {name: value for name, value in values.items() if name in keep}


def _in_repeat(name: str, repeats: set[str]) -> bool:
    """Whether a stored name is a repeat's entries list or an answer in one of its entries (surveys.repeats), at any
    depth: `people#entries`, `people[2]/age`, `children[1]/cartoons[2]/name`."""
    from surveys.repeats import parse_entry_key

    outermost = name.split("[", 1)[0].removesuffix("#entries")
    return outermost in repeats and (parse_entry_key(name) is not None or name.endswith("#entries"))


class _Context(dict):
    """Answers and registry attributes as conditions read them: a missing name reads as ""."""

    def __missing__(self, name):
        return ""


def _reader(condition) -> Callable[[dict], object]:
    """A function giving the values a condition reads (its cache key), empty text for a missing name."""
    names = sorted(condition.references)
    return itemgetter(*names) if names else (lambda _context: ())


class Relevance:
    """`visible_questions` for many responses at once, through the same engine (surveys.relevance.hidden_questions):
    each condition is evaluated once per distinct combination of the values it reads, and the answers dropped are
    worked out once per distinct set of hidden questions."""

    def __init__(self, definition: SurveyDefinition, known: list[str]):
        self.definition = definition
        self.known = known
        plan = layout(definition)
        self.read = plan.reads
        self._readers = {c: _reader(c) for _q, conditions in plan.conditions for c in conditions}
        conditional = {q.name for q, _conditions in plan.conditions}
        # An answer is kept while its question, or for an "other" text the question it belongs to, is shown.
        owners = [{n for n in (name, name.removesuffix("_other")) if n in plan.names} for name in known]
        self.droppable = [(i, frozenset(o)) for i, o in enumerate(owners) if o and o <= conditional]
        self._results: dict[tuple, bool] = {}
        self._dropped: dict[frozenset, list[int]] = {}
        # A condition that reads a repeat's entries (count(${people}) > 1) reads more than its references' values:
        # it is evaluated afresh, as on the partner pages (their memo is off for such forms too).
        self._remembered = not plan.read_repeats

    def _holds(self, condition, context: dict) -> bool:
        """A condition's result, remembered by the values it reads."""
        key = (condition, self._readers[condition](context))
        shown = self._results.get(key)
        if shown is None:
            shown = self._results[key] = condition.evaluate(context)
        return shown

    def hidden(self, values: dict[str, str], partner: dict[str, str]) -> frozenset[str]:
        """Questions hidden for these answers; as visible_questions, a hidden question reads as unanswered."""
        context = _Context(partner)
        context.update(values)
        return frozenset(hidden_questions(self.definition, context, self._holds if self._remembered else None))

    def dropped(self, hidden: frozenset[str]) -> list[int]:
        """Positions in `known` of the answers not kept when `hidden` are hidden (shown_answers' rule)."""
        if hidden not in self._dropped:
            self._dropped[hidden] = [i for i, owners in self.droppable if owners <= hidden]
        return self._dropped[hidden]


def hidden_rows(definition, known, respondents, partners, response_id, code, value, keep,
                entries: dict[int, dict[str, str]] | None = None) -> np.ndarray:
    """Answer rows of responses in progress that their conditions hide (a boolean per row); `entries` holds the
    repeat entries of each response in progress, for conditions that count or sum them."""
    drafts = respondents.loc[respondents["status"].astype(object) != "submitted", "response_id"].to_numpy()
    hidden_rows = np.zeros(len(response_id), dtype=bool)
    if not len(drafts):
        return hidden_rows
    relevance = Relevance(definition, known)
    in_draft = keep & np.isin(response_id, drafts)
    read = np.isin(code, [i for i, name in enumerate(known) if name in relevance.read])
    answered: dict[int, dict[str, str]] = {int(r): {} for r in np.unique(response_id[in_draft])}
    rows = np.flatnonzero(in_draft & read)
    for r, c, v in zip(response_id[rows].tolist(), code[rows].tolist(), value[rows].tolist()):
        answered[r][known[c]] = v
    dropped_keys = []
    width = len(known)
    entries = entries or {}
    for r, values in answered.items():
        values.update(entries.get(r, {}))
        dropped = relevance.dropped(relevance.hidden(values, partners[r]))
        dropped_keys.extend(r * width + c for c in dropped)
    if dropped_keys:
        hidden_rows = in_draft & np.isin(response_id * width + code, dropped_keys)
    return hidden_rows
