"""A round read from the database into tidy pandas frames, in a few streamed queries (none per response).

The one module of the analysis (with its pages and commands) that touches the models and the session: it fills
analysis.frames' RoundData for the report, and feeds the exports one response at a time (`iter_responses`), so
an export never holds a whole round in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.timestamps import as_utc
from partners.models import Contact, Organisation
from surveys.definition import SurveyDefinition
from surveys.models import Answer, Invitation, Response, Round
from surveys.relevance import layout, partner_attributes
from surveys.versions import definition_for

from .frames import (
    INVITATION_COLUMNS,
    RESPONDENT_COLUMNS,
    Respondent,
    RoundData,
    hidden_rows,
    known_names,
    shown_answers,
)
from .repeat_tables import every_repeat

CHUNK = 20_000  # rows fetched per round trip; also the size of the frames concatenated while loading


def round_and_definition(session: Session, round_id: int) -> tuple[Round, SurveyDefinition]:
    """The round and its survey definition; LookupError when there is no such round."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round {round_id}")
    return round_, definition_for(round_.survey_version)


def _partitions(session: Session, statement, size: int = CHUNK) -> Iterator[list]:
    """Rows of a query, `size` at a time, streamed: a server-side cursor on PostgreSQL, SQLite's own on SQLite."""
    # Core rows on the session's connection, not ORM ones: several times faster for plain columns.
    result = session.connection().execute(statement, execution_options={"stream_results": True, "yield_per": size})
    try:
        yield from result.partitions()
    finally:
        result.close()


def _streamed(session: Session, statement) -> Iterator:
    """Rows of a query one by one, fetched CHUNK at a time."""
    for rows in _partitions(session, statement):
        yield from rows


def _response_ids(round_id: int):
    """The ids of the round's responses, as a scalar subquery to filter answers with."""
    return (
        select(Response.id)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(Invitation.round_id == round_id)
        .scalar_subquery()
    )


def _in_round(statement, round_id: int):
    """The statement, which reaches the invitation, joined to its contact and organisation and kept to the round."""
    return (
        statement.join(Contact, Invitation.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Invitation.round_id == round_id)
    )


def respondent_statement(round_id: int):
    """The round's responses ordered by id with their organisation: RESPONDENT_COLUMNS, then action_groups and
    gcg_member (which the conditions of a response in progress may read)."""
    return _in_round(
        select(
            Response.id,
            Organisation.id,
            Organisation.name,
            Organisation.category,
            Organisation.region,
            Organisation.country,
            Organisation.pathfinder,
            Response.status,
            Response.language,
            Response.started_at,
            Response.submitted_at,
            Organisation.action_groups,
            Organisation.gcg_member,
        )
        .join(Invitation, Response.invitation_id == Invitation.id),
        round_id,
    ).order_by(Response.id)


def respondent_rows(session: Session, round_id: int) -> Iterator[Respondent]:
    """The round's responses ordered by id, streamed, each with its organisation."""
    for row in _streamed(session, respondent_statement(round_id)):
        yield Respondent(*row[:7], row[11], row[12], row[7], row[8], as_utc(row[9]), as_utc(row[10]))


def answer_rows(session: Session, round_id: int) -> Iterator[tuple[int, str, str]]:
    """(response_id, question, value) of every stored answer of the round, ordered by response, streamed."""
    yield from _streamed(session, answer_statement(round_id))


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


def _timestamps(values) -> pd.Series:
    """Aware UTC timestamps: SQLite's driver gives ISO text in UTC, PostgreSQL's aware datetimes."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")


def load_round(session: Session, round_id: int) -> RoundData:
    """Load a round as tidy frames: its answers (one row per answer), respondents, invitations and definition.

    A fixed number of queries whatever the size of the round. Answers are read in chunks straight into arrays
    (question as a categorical code, each distinct value held once); only responses in progress are checked
    against the survey's conditions (the partner pages drop hidden answers when a response is submitted).
    """
    round_, definition = round_and_definition(session, round_id)
    known = known_names(definition)
    questions = pd.CategoricalDtype(known)
    respondents, partners = _respondents(session, round_id)
    try:
        response_id, code, value_code, distinct = _read_answers(session, round_id, known, aggregated=True)
    except _Ambiguous:
        response_id, code, value_code, distinct = _read_answers(session, round_id, known, aggregated=False)
    values = np.empty(len(distinct), dtype=object)
    values[:] = list(distinct)
    keep = code >= 0
    if "" in distinct:
        keep &= value_code != distinct[""]
    entries = _draft_entries(session, round_id) if layout(definition).read_repeats else {}
    keep &= ~hidden_rows(
        definition, known, respondents, partners, response_id, code, values[value_code], keep, entries
    )
    rank = np.argsort(np.argsort(np.array(known, dtype=object)))  # ORDER BY response, question (code points)
    keep = np.flatnonzero(keep)
    order = response_id[keep] * len(known) + rank[code[keep]]
    if len(order) and (order[1:] < order[:-1]).any():
        keep = keep[np.argsort(order, kind="stable")]
    answers_frame = pd.DataFrame(
        {
            "response_id": response_id[keep],
            "question": pd.Categorical.from_codes(code[keep], dtype=questions),
            "value": values[value_code[keep]],
        }
    )
    return RoundData(
        round_id=round_.id,
        round_name=round_.name,
        translated_names=dict(round_.translated_names or {}),
        definition=definition,
        answers=answers_frame,
        respondents=respondents,
        invitations=load_invitations(session, round_id),
        entries=_entry_counts(session, round_id, definition),
    )


def _entry_counts(session: Session, round_id: int, definition: SurveyDefinition) -> dict[str, dict[int, int]]:
    """How many entries each response holds, per repeat path (surveys.repeats: `<repeat>#entries` lists their ids;
    a repeat inside a repeat has one list per outer entry, `children[1]/cartoons#entries`, added up)."""
    paths = {path for path, _repeat in every_repeat(definition.repeats())}
    if not paths:
        return {}
    counts: dict[str, dict[int, int]] = {path: {} for path in paths}
    statement = select(Answer.response_id, Answer.question, Answer.value).where(
        Answer.response_id.in_(_response_ids(round_id)), Answer.question.like("%#entries"))
    for response_id, question, value in session.execute(statement):
        path = re.sub(r"\[\d+\]", "", question.removesuffix("#entries"))
        if path in counts:
            counts[path][response_id] = counts[path].get(response_id, 0) + len((value or "").split())
    return counts


class _Ambiguous(Exception):
    """An answer holds the separator the aggregated read splits on."""


SEPARATOR = "\x1f"  # the unit separator; the partner pages strip control characters from answers
RESPONSES_PER_FETCH = 500


def _read_answers(session: Session, round_id: int, known: list[str], *, aggregated: bool):
    """The round's answers as arrays: response ids, question codes (-1: unknown), value codes and the values.

    Aggregated, the database concatenates each response's questions and values (one row per response, several
    times cheaper to fetch than one per answer); a value holding the separator raises _Ambiguous, and the caller
    reads one row per answer instead.
    """
    names = pd.Index(known)
    ids, codes, value_codes = [], [], []
    distinct: dict[str, int] = {}
    if aggregated:
        chunks = _aggregated_chunks(session, round_id)
    else:
        chunks = (
            tuple(np.array(column, dtype=object) for column in zip(*rows))
            for rows in _partitions(session, answer_statement(round_id))
        )
    for chunk_ids, questions, values in chunks:
        local, uniques = pd.factorize(values, use_na_sentinel=False)
        mapping = np.fromiter(
            (distinct.setdefault(u, len(distinct)) for u in uniques), np.int64, len(uniques)
        )
        ids.append(np.asarray(chunk_ids, dtype=np.int64))
        codes.append(names.get_indexer(questions).astype(np.int32))
        value_codes.append(mapping[local])
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64), distinct
    return np.concatenate(ids), np.concatenate(codes), np.concatenate(value_codes), distinct


def _aggregated_chunks(session: Session, round_id: int):
    """(response ids, questions, values) per few hundred responses, split from per-response concatenations."""
    statement = (
        select(
            Answer.response_id,
            func.count(),
            func.aggregate_strings(Answer.question, SEPARATOR),
            func.aggregate_strings(Answer.value, SEPARATOR),
        )
        .where(Answer.response_id.in_(_response_ids(round_id)))
        .group_by(Answer.response_id)
        .order_by(Answer.response_id)
    )
    for rows in _partitions(session, statement, RESPONSES_PER_FETCH):
        response_ids, counts, questions, values = zip(*rows)
        total = sum(counts)
        questions = SEPARATOR.join(questions).split(SEPARATOR)
        values = SEPARATOR.join(values).split(SEPARATOR)
        if len(questions) != total or len(values) != total:
            raise _Ambiguous
        yield (
            np.repeat(np.array(response_ids, dtype=np.int64), counts),
            np.array(questions, dtype=object),
            np.array(values, dtype=object),
        )


def answer_statement(round_id: int):
    """(response_id, question, value) of every stored answer of the round, ordered by response and question."""
    # IN (subquery) rather than a join: SQLite then walks the (response_id, question) index in order, no sort.
    return (
        select(Answer.response_id, Answer.question, Answer.value)
        .where(Answer.response_id.in_(_response_ids(round_id)))
        .order_by(Answer.response_id, Answer.question)
    )


def _draft_entries(session: Session, round_id: int) -> dict[int, dict[str, str]]:
    """The repeat entries of the round's responses in progress (`people#entries`, `people[2]/age`), for the
    conditions that read them; only forms with such conditions ask (the partner pages cleaned submitted ones)."""
    drafts = _response_ids(round_id).element.where(Response.status != "submitted").scalar_subquery()
    statement = select(Answer.response_id, Answer.question, Answer.value).where(
        Answer.response_id.in_(drafts), Answer.question.like("%[%") | Answer.question.like("%#entries"))
    entries: dict[int, dict[str, str]] = {}
    for response_id, question, value in session.execute(statement):
        entries.setdefault(response_id, {})[question] = value
    return entries


def _respondents(session: Session, round_id: int) -> tuple[pd.DataFrame, dict[int, dict[str, str]]]:
    """The respondents frame, and the registry attributes of each response in progress (for its conditions)."""
    statement = respondent_statement(round_id)
    records = [tuple(row) for row in _streamed(session, statement)]
    columns = [*RESPONDENT_COLUMNS, "action_groups", "gcg_member"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    status = RESPONDENT_COLUMNS.index("status")
    partners = {
        record[0]: partner_attributes(SimpleNamespace(**dict(zip(columns, record))))
        for record in records
        if record[status] != "submitted"
    }
    frame = frame[RESPONDENT_COLUMNS].copy()
    frame["response_id"] = frame["response_id"].astype("int64")
    frame["organisation_id"] = frame["organisation_id"].astype("int64")
    frame["pathfinder"] = frame["pathfinder"].astype(bool)
    for column in ("category", "region", "status", "language"):
        frame[column] = frame[column].astype("category")
    frame["started_at"] = _timestamps(frame["started_at"])
    frame["submitted_at"] = _timestamps(frame["submitted_at"])
    return frame, partners


def load_invitations(session: Session, round_id: int) -> pd.DataFrame:
    """Every invitation of the round with its organisation's attributes and its response (if started)."""
    statement = _in_round(
        select(
            Invitation.id,
            Organisation.id,
            Organisation.category,
            Organisation.region,
            Organisation.pathfinder,
            Invitation.ineligible,
            Response.status,
            Response.id,
        ),
        round_id,
    ).outerjoin(Response, Response.invitation_id == Invitation.id).order_by(Invitation.id)
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
