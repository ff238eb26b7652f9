"""A round read from the database into tidy pandas frames, in a few streamed queries (none per response).

The same streamed reads feed the exports one response at a time (`iter_responses`), so an export never holds
a whole round in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from partners.models import Contact, Organisation
from surveys.answers import partner_attributes, visible_questions
from surveys.definition import SurveyDefinition
from surveys.models import Answer, Invitation, Response, Round
from surveys.versions import definition_for

CHUNK = 20_000  # rows fetched per round trip; also the size of the frames concatenated while loading

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


def utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives them back naive, in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def round_and_definition(session: Session, round_id: int) -> tuple[Round, SurveyDefinition]:
    """The round and its survey definition; LookupError when there is no such round."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round {round_id}")
    return round_, definition_for(round_.survey_version)


def known_names(definition: SurveyDefinition) -> list[str]:
    """Names an answer may be stored under, in form order: each answerable question, then its "other" text."""
    names = []
    for question in definition.questions():
        if question.answerable:
            names.append(question.name)
            if question.or_other:
                names.append(question.other_name)
    return names


def _streamed(session: Session, statement) -> Iterator:
    """Rows of a query fetched CHUNK at a time (a server-side cursor on PostgreSQL)."""
    # Core rows, not ORM ones: several times faster for plain columns.
    result = session.connection().execute(statement, execution_options={"yield_per": CHUNK})
    try:
        yield from result
    finally:
        result.close()


def respondent_rows(session: Session, round_id: int) -> Iterator[Respondent]:
    """The round's responses ordered by id, streamed, each with its organisation."""
    statement = (
        select(
            Response.id,
            Organisation.id,
            Organisation.name,
            Organisation.category,
            Organisation.region,
            Organisation.country,
            Organisation.pathfinder,
            Organisation.action_groups,
            Organisation.gcg_member,
            Response.status,
            Response.language,
            Response.started_at,
            Response.submitted_at,
        )
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Contact, Invitation.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Invitation.round_id == round_id)
        .order_by(Response.id)
    )
    for row in _streamed(session, statement):
        yield Respondent(*row[:11], utc(row[11]), utc(row[12]))


def answer_rows(session: Session, round_id: int) -> Iterator[tuple[int, str, str]]:
    """(response_id, question, value) of every stored answer of the round, ordered by response, streamed."""
    responses = (
        select(Response.id)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(Invitation.round_id == round_id)
    )
    # IN (subquery) rather than a join: SQLite then walks the (response_id, question) index in order, no sort.
    statement = (
        select(Answer.response_id, Answer.question, Answer.value)
        .where(Answer.response_id.in_(responses.scalar_subquery()))
        .order_by(Answer.response_id, Answer.question)
    )
    yield from _streamed(session, statement)


def shown_answers(
    definition: SurveyDefinition, respondent: Respondent, values: dict[str, str], known: set[str]
) -> dict[str, str]:
    """Answers to questions of the definition; for a response in progress, only those its conditions show.

    The partner pages drop hidden answers when a page is left or the response submitted, so only a response in
    progress can still hold one (on the page the partner is on).
    """
    values = {name: value for name, value in values.items() if name in known and value != ""}
    if respondent.status == "submitted" or not values:
        return values
    shown = visible_questions(definition, values, respondent.partner)
    keep = set()
    for name in shown:
        keep.add(name)
        keep.add(f"{name}_other")
    return {name: value for name, value in values.items() if name in keep}


def iter_responses(
    session: Session, round_id: int, definition: SurveyDefinition
) -> Iterator[tuple[Respondent, dict[str, str]]]:
    """Each response of the round with its shown answers, one at a time (a merge of two streamed queries)."""
    known = set(known_names(definition))
    answers = answer_rows(session, round_id)
    pending = next(answers, None)
    try:
        for respondent in respondent_rows(session, round_id):
            values = {}
            while pending is not None and pending[0] < respondent.response_id:
                pending = next(answers, None)  # an answer whose response is not in the round: cannot happen
            while pending is not None and pending[0] == respondent.response_id:
                values[pending[1]] = pending[2]
                pending = next(answers, None)
            yield respondent, shown_answers(definition, respondent, values, known)
    finally:
        answers.close()


def _timestamps(values: list) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True)


def load_round(session: Session, round_id: int) -> RoundData:
    """Load a round as tidy frames: its answers (one row per answer), respondents, invitations and definition.

    A fixed number of queries whatever the size of the round; rows are read in chunks and the repeated texts
    (question names, categories, regions, answer codes) are held once each.
    """
    round_, definition = round_and_definition(session, round_id)
    questions = pd.CategoricalDtype(known_names(definition))
    interned: dict[str, str] = {}
    answer_chunks, respondent_records = [], []
    ids: list[int] = []
    names: list[str] = []
    values: list[str] = []

    def flush():
        if ids:
            answer_chunks.append(
                pd.DataFrame(
                    {
                        "response_id": pd.array(ids, dtype="int64"),
                        "question": pd.Categorical(names, dtype=questions),
                        "value": pd.array(values, dtype=object),
                    }
                )
            )
            ids.clear(), names.clear(), values.clear()

    for respondent, answers in iter_responses(session, round_id, definition):
        respondent_records.append(tuple(getattr(respondent, column) for column in RESPONDENT_COLUMNS))
        for name, value in answers.items():
            ids.append(respondent.response_id)
            names.append(name)
            values.append(interned.setdefault(value, value))
        if len(ids) >= CHUNK:
            flush()
    flush()
    if answer_chunks:
        answers_frame = pd.concat(answer_chunks, ignore_index=True)
    else:
        answers_frame = pd.DataFrame(
            {
                "response_id": pd.array([], dtype="int64"),
                "question": pd.Categorical([], dtype=questions),
                "value": pd.array([], dtype=object),
            }
        )
    return RoundData(
        round_id=round_.id,
        round_name=round_.name,
        definition=definition,
        answers=answers_frame,
        respondents=_respondents_frame(respondent_records),
        invitations=load_invitations(session, round_id),
    )


def _respondents_frame(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=RESPONDENT_COLUMNS)
    frame["response_id"] = frame["response_id"].astype("int64")
    frame["organisation_id"] = frame["organisation_id"].astype("int64")
    frame["pathfinder"] = frame["pathfinder"].astype(bool)
    for column in ("category", "region", "status", "language"):
        frame[column] = frame[column].astype("category")
    frame["started_at"] = _timestamps(frame["started_at"].tolist())
    frame["submitted_at"] = _timestamps(frame["submitted_at"].tolist())
    return frame


def load_invitations(session: Session, round_id: int) -> pd.DataFrame:
    """Every invitation of the round with its organisation's attributes and its response (if started)."""
    statement = (
        select(
            Invitation.id,
            Organisation.id,
            Organisation.category,
            Organisation.region,
            Organisation.pathfinder,
            Invitation.ineligible,
            Response.status,
            Response.id,
        )
        .join(Contact, Invitation.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.round_id == round_id)
        .order_by(Invitation.id)
    )
    frame = pd.DataFrame.from_records(
        [tuple(row) for row in _streamed(session, statement)], columns=INVITATION_COLUMNS
    )
    frame["invitation_id"] = frame["invitation_id"].astype("int64")
    frame["organisation_id"] = frame["organisation_id"].astype("int64")
    frame["pathfinder"] = frame["pathfinder"].astype(bool)
    frame["response_id"] = frame["response_id"].astype("Int64")
    frame["response_status"] = (
        frame["response_status"].astype(object).where(frame["response_status"].notna(), None)
    )
    for column in ("category", "region"):
        frame[column] = frame[column].astype("category")
    return frame
