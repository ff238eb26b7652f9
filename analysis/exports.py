"""A round's responses as CSV (one row per response), long CSV (one row per answer) and XLSX, streamed.

Every export reads the round one response at a time (analysis.frames.iter_responses) and yields bytes in
chunks, so memory stays flat whatever the size of the round.

Formula injection: every text cell (headers, codebook and labels included) that starts with =, +, -, @, a tab
or a carriage return gets a leading single quote, so a spreadsheet shows it as text (and one that starts with
quotes before such a character gets one more, so `restore` gives back the exact answer). Answers to numeric
questions (integer, decimal, range) that are numbers are data, not formulas: they are written as they are in
CSV ("-5") and as numbers in XLSX. The same value given to a text question is neutralised ("'-5").

Column names: the responses table starts with response_id, round, organisation, category, region, country,
pathfinder, language, status, started_at, submitted_at (the registry's view of the partner). A question with
one of these names (the default survey asks `category` and `region`) keeps its name, and the registry's column
becomes `partner_<name>`, so no two columns share a name.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import Session

from surveys.definition import Question, SurveyDefinition, pick

from .frames import Respondent, iter_responses, round_and_definition

FORMATS = ("csv", "long", "xlsx")
MIMETYPES = {
    "csv": "text/csv",
    "long": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff".encode()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISE = re.compile(r"'*[=+\-@\t\r]")
NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
NUMERIC_TYPES = ("integer", "decimal", "range")
NUMBER = re.compile(r"[+-]?(\d{1,15}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
IDENTIFYING_COLUMNS = (
    "organisation",
    "country",
)  # dropped by the anonymised option (no contact is ever exported)
LONG_COLUMNS = ["response_id", "question", "option", "value", "label"]
LABEL_SEPARATOR = "; "  # between the labels of a select_multiple answer (codes are separated by spaces)
FLUSH_BYTES = 64 * 1024
XLSX_CHUNK = 256 * 1024

Cell = str | int | float | None


class Number(float):
    """A numeric answer kept as it was stored, so CSV writes it unchanged and XLSX as a number."""

    text: str

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.text = text
        return number

    def value(self) -> int | float:
        return int(self.text) if re.fullmatch(r"[+-]?\d+", self.text) else float(self)


def neutralise(value: Cell) -> Cell:
    """Text a spreadsheet could run as a formula gets a leading quote; numbers and empty cells pass unchanged.

    Text that starts with quotes before such a character gets one more, so `restore` undoes it exactly.
    """
    if isinstance(value, str) and NEUTRALISE.match(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The text as it was before `neutralise` (for reading an export back)."""
    return value[1:] if NEUTRALISED.match(value) else value


def as_number(question: Question, value: str) -> Number | str:
    """A numeric question's stored answer as a Number (left as text when it is not one)."""
    if question.type in NUMERIC_TYPES and NUMBER.fullmatch(value):
        return Number(value)
    return value


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC to the second: 2026-11-25T13:40:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


@dataclass
class Export:
    """An export asked for and checked (round found, language known) before any byte is streamed."""

    round_id: int
    round_name: str
    definition: SurveyDefinition
    format: str = "csv"
    labels: str | None = None
    bom: bool = False
    anonymised: bool = False

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.round_name).strip("-").lower()[:60] or "round"
        suffix = {"csv": "responses", "long": "answers-long", "xlsx": "responses"}[self.format]
        extras = "".join(
            part for part, on in ((f"-{self.labels}", self.labels), ("-anonymised", self.anonymised)) if on
        )
        extension = "xlsx" if self.format == "xlsx" else "csv"
        return f"round-{self.round_id}-{slug}-{suffix}{extras}.{extension}"

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.format]

    @property
    def language(self) -> str:
        """The language of choice labels: the one asked for, else the survey's default."""
        return self.labels or self.definition.default_language

    def chunks(self, session: Session) -> Iterator[bytes]:
        """The file's bytes, in chunks, read from the database while they are sent."""
        if self.format == "csv":
            return self._csv(session)
        if self.format == "long":
            return self._long(session)
        return self._xlsx(session)

    # -- one row per response -------------------------------------------------------------------------------

    def columns(self) -> list[tuple[str, Callable[[Respondent, dict[str, str]], Cell]]]:
        """The responses table: each column's header and how to fill it from one response."""
        question_columns = []
        for question in self.definition.questions():
            if question.answerable:
                question_columns += _question_columns(question, self.definition, self.labels)
        taken = {name for name, _fill in question_columns}
        meta = [(f"partner_{name}" if name in taken else name, fill) for name, fill in self._meta_columns()]
        return meta + question_columns

    def _meta_columns(self):
        round_name = self.round_name
        columns = [
            ("response_id", lambda r, a: r.response_id),
            ("round", lambda r, a: round_name),
            ("organisation", lambda r, a: r.organisation),
            ("category", lambda r, a: r.category),
            ("region", lambda r, a: r.region),
            ("country", lambda r, a: r.country or ""),
            ("pathfinder", lambda r, a: "yes" if r.pathfinder else "no"),
            ("language", lambda r, a: r.language),
            ("status", lambda r, a: "submitted" if r.status == "submitted" else "partial"),
            ("started_at", lambda r, a: iso(r.started_at)),
            ("submitted_at", lambda r, a: iso(r.submitted_at)),
        ]
        return [
            (name, fill) for name, fill in columns if not (self.anonymised and name in IDENTIFYING_COLUMNS)
        ]

    def rows(self, session: Session) -> Iterator[list[Cell]]:
        """The header, then one row per response, every cell neutralised."""
        columns = self.columns()
        yield [neutralise(name) for name, _fill in columns]
        fills = [fill for _name, fill in columns]
        for respondent, answers in iter_responses(session, self.round_id, self.definition):
            yield [neutralise(fill(respondent, answers)) for fill in fills]

    def _csv(self, session: Session) -> Iterator[bytes]:
        return _csv_stream(self.rows(session), self.bom)

    # -- one row per answer ---------------------------------------------------------------------------------

    def long_rows(self, session: Session) -> Iterator[list[Cell]]:
        """The header, then one row per answer (per ticked option, per ranked option) in form order."""
        yield list(LONG_COLUMNS)
        language, default = self.language, self.definition.default_language
        questions = [q for q in self.definition.questions() if q.answerable]
        for respondent, answers in iter_responses(session, self.round_id, self.definition):
            rid = respondent.response_id
            for question in questions:
                value = answers.get(question.name)
                if value is not None:
                    for option, cell, label in _long_cells(question, value, language, default):
                        yield [rid, question.name, neutralise(option), neutralise(cell), neutralise(label)]
                if question.or_other and answers.get(question.other_name):
                    yield [rid, question.other_name, "", neutralise(answers[question.other_name]), ""]

    def _long(self, session: Session) -> Iterator[bytes]:
        return _csv_stream(self.long_rows(session), self.bom)

    # -- XLSX -----------------------------------------------------------------------------------------------

    def codebook_rows(self) -> Iterator[list[Cell]]:
        """One row per question (name, type, labels, relevance, columns), then one per choice."""
        languages = self.definition.languages
        yield ["name", "type", "choice", *(f"label::{code}" for code in languages), "relevant", "columns"]
        headers_by_question: dict[str, list[str]] = {}
        for name, _fill in self.columns():
            base = name.split("/", 1)[0]
            base = (
                base[: -len("_other")]
                if base.endswith("_other") and self.definition.question(base) is None
                else base
            )
            headers_by_question.setdefault(base, []).append(name)
        for question in self.definition.questions():
            if not question.answerable:
                continue
            relevance = " and ".join(f"({c.source})" for c in question.conditions)
            if question.relevant_source:
                relevance = (
                    f"{relevance} and ({question.relevant_source})" if relevance else question.relevant_source
                )
            kind = (
                question.type
                + (f" {question.list_name}" if question.list_name else "")
                + (" or_other" if question.or_other else "")
            )
            yield [
                neutralise(question.name),
                neutralise(kind),
                "",
                *(neutralise(question.label.get(code, "")) for code in languages),
                neutralise(relevance),
                neutralise(" ".join(headers_by_question.get(question.name, []))),
            ]
            for choice in question.choices:
                yield [
                    neutralise(question.name),
                    "",
                    neutralise(choice.name),
                    *(neutralise(choice.label.get(code, "")) for code in languages),
                    "",
                    "",
                ]

    def _xlsx(self, session: Session) -> Iterator[bytes]:
        workbook = Workbook(write_only=True)
        responses = workbook.create_sheet("responses")
        for row in self.rows(session):
            responses.append([_xlsx_cell(cell) for cell in row])
        codebook = workbook.create_sheet("codebook")
        for row in self.codebook_rows():
            codebook.append([_xlsx_cell(cell) for cell in row])
        with tempfile.TemporaryFile() as file:
            workbook.save(file)
            file.seek(0)
            while chunk := file.read(XLSX_CHUNK):
                yield chunk


def _question_columns(question: Question, definition: SurveyDefinition, labels: str | None):
    """The columns of one question in the responses table, with the functions that fill them."""
    name = question.name
    default = definition.default_language
    choice_labels = {c.name: pick(c.label, labels, default) for c in question.choices} if labels else {}
    columns = []
    if question.type == "rank":
        for choice in question.choices:
            columns.append((f"{name}/{choice.name}", _rank_fill(name, choice.name)))
        return columns
    if question.type == "select_one":
        columns.append(
            (
                name,
                (lambda r, a: choice_labels.get(a.get(name), a.get(name)))
                if labels
                else (lambda r, a: a.get(name)),
            )
        )
    elif question.type == "select_multiple":
        if labels:
            columns.append(
                (
                    name,
                    lambda r, a: (
                        LABEL_SEPARATOR.join(choice_labels.get(code, code) for code in a[name].split())
                        if name in a
                        else None
                    ),
                )
            )
        else:
            columns.append((name, lambda r, a: a.get(name)))
        for choice in question.choices:
            columns.append((f"{name}/{choice.name}", _ticked_fill(name, choice.name)))
    else:
        columns.append((name, lambda r, a: as_number(question, a[name]) if name in a else None))
    if question.or_other:
        other = question.other_name
        columns.append((other, lambda r, a: a.get(other)))
    return columns


def _ticked_fill(name: str, code: str):
    def fill(respondent, answers):
        if name not in answers:
            return None
        return 1 if code in answers[name].split() else 0

    return fill


def _rank_fill(name: str, code: str):
    def fill(respondent, answers):
        order = answers.get(name, "").split()
        return order.index(code) + 1 if code in order else None

    return fill


def _long_cells(
    question: Question, value: str, language: str, default: str
) -> Iterator[tuple[str, Cell, str]]:
    """(option, value, label) rows of one answer in the long table."""
    labels = {c.name: pick(c.label, language, default) for c in question.choices}
    if question.type == "select_multiple":
        for code in value.split():
            yield code, 1, labels.get(code, "")
    elif question.type == "rank":
        for position, code in enumerate(value.split(), 1):
            yield code, position, labels.get(code, "")
    else:
        yield "", as_number(question, value), labels.get(value, "")


class _Buffer:
    """A write target for csv.writer that hands its text over in chunks."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> bytes:
        data = "".join(self.parts).encode()
        self.parts, self.size = [], 0
        return data


def _csv_text(cell: Cell) -> Cell:
    return cell.text if isinstance(cell, Number) else cell


def _csv_stream(rows: Iterable[list[Cell]], bom: bool) -> Iterator[bytes]:
    """CSV bytes (UTF-8, optional BOM), yielded about every FLUSH_BYTES; the header comes first, alone."""
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        yield BOM
    first = True
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
        if first or buffer.size >= FLUSH_BYTES:
            yield buffer.take()
            first = False
    if buffer.size:
        yield buffer.take()


def _xlsx_cell(cell: Cell) -> Cell:
    """A value openpyxl stores as it is: numbers as numbers, text without XML-illegal control characters."""
    if isinstance(cell, Number):
        return cell.value()
    if isinstance(cell, str):
        return ILLEGAL_CHARACTERS_RE.sub("", cell)
    return cell


def prepare(
    session: Session,
    round_id: int,
    format: str = "csv",
    labels: str | None = None,
    bom: bool = False,
    anonymised: bool = False,
) -> Export:
    """Check an export request: LookupError for an unknown round, ValueError for a bad format or language."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    round_, definition = round_and_definition(session, round_id)
    labels = labels or None
    if labels is not None and labels not in definition.languages:
        raise ValueError(f"labels must be one of the survey's languages: {', '.join(definition.languages)}")
    return Export(round_.id, round_.name, definition, format, labels, bool(bom), bool(anonymised))


def write(export: Export, session: Session, file: io.BufferedIOBase) -> int:
    """Write an export to an open binary file; returns the number of bytes written."""
    size = 0
    for chunk in export.chunks(session):
        file.write(chunk)
        size += len(chunk)
    return size
