"""A round's responses as CSV (one row per response), long CSV (one row per answer) and XLSX, streamed.

Every export is written from the round's responses given one at a time (analysis.loader.iter_responses reads
them from the database while they are written) and yields bytes in chunks, so memory stays flat whatever the size
of the round. Nothing here touches Flask or the database.

Formula injection: every text cell (headers, codebook and labels included) that starts with =, +, -, @, a tab
or a carriage return gets a leading single quote, so a spreadsheet shows it as text (and one that starts with
quotes before such a character gets one more, so `unneutralise` gives back the exact answer). Answers to numeric
questions (integer, decimal, range) that are numbers are data, not formulas: they are written as they are in
CSV ("-5") and as numbers in XLSX. The same value given to a text question is neutralised ("'-5").

Excel: every CSV starts with a UTF-8 byte-order mark unless asked not to (bom=False); the workbook has its header
row frozen with a filter on it, timestamps and date answers as dates, numbers as numbers. Choice answers are their
codes (a scale's 1..5 stay numbers, in order); with labels asked for, each choice column is followed by a
`<name>_label` column in that language and the header row gives each column's question ("label [column]").
Anonymised (analysis.anonymisation): a zip of the file and a README that says what was removed.

Column names: the responses table starts with response_id, round, organisation, category, region, country, pathfinder,
language, status, started_at, submitted_at (the registry's view of the partner). A question with one of these names
(the default survey asks `category` and `region`) keeps its name, and the registry's column becomes `partner_<name>`,
so no two columns share a name. Repeats: a block and an XLSX sheet each, a long CSV `repeat_index`
(analysis.repeat_tables).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from engagement.spreadsheets import BOM as BOM_TEXT
from engagement.spreadsheets import RISKY_FIRST, neutralise
from surveys.definition import UPLOAD_TYPES, Question, SurveyDefinition, pick

from . import repeat_tables
from .anonymisation import ALWAYS_REMOVED, GROUPS, Anonymisation
from .frames import Respondent

FORMATS = ("csv", "long", "xlsx")
MIMETYPES = {
    "csv": "text/csv",
    "long": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ZIP_MIMETYPE = "application/zip"
BOM = BOM_TEXT.encode()
NUMERIC_TYPES = ("integer", "decimal", "range")
COMPUTED_TYPES = ("calculate", "hidden")
LEADING_ZERO = re.compile(r"[+-]?0\d")
INTEGER = re.compile(r"[+-]?\d+")
NUMBER = re.compile(r"[+-]?(\d{1,15}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
META_COLUMNS = ["response_id", "round", "organisation", "category", "region", "country", "pathfinder", "language",
                "status", "started_at", "submitted_at"]
TIMESTAMP_COLUMNS = ("started_at", "submitted_at")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
LONG_COLUMNS = ["response_id", "question", "option", "value", "label"]
THEME_OPTION = "theme"  # the option column of a long row giving a theme coded for a free-text answer
LABEL_SEPARATOR = "; "  # between the labels of a select_multiple answer (codes are separated by spaces)
FLUSH_BYTES = 64 * 1024
XLSX_CHUNK = 256 * 1024

Cell = str | int | float | None
Responses = Iterable[tuple[Respondent, dict[str, str]]]  # each response with its shown answers, in order


class Number(str):
    """A numeric answer as it was stored: CSV writes the text unchanged, XLSX a number; never neutralised."""

    def value(self) -> int | float:
        return int(self) if INTEGER.fullmatch(self) else float(self)


class Day(str):
    """A date answer as it was stored (2001-02-03): CSV writes the text, XLSX a date."""

    def value(self) -> date | str:
        try:
            return date.fromisoformat(self)
        except ValueError:
            return str(self)


def as_number(question: Question, value: str) -> Number | str:
    """A numeric question's or a calculation's stored number as a Number, a date question's as a Day (else left as
    text)."""
    if question.type in NUMERIC_TYPES and NUMBER.fullmatch(value):
        return Number(value)
    if question.type in COMPUTED_TYPES and NUMBER.fullmatch(value) and not LEADING_ZERO.match(value):
        return Number(value)  # a calculation's number (never a code such as '007', kept as text)
    if question.type == "date" and ISO_DAY.fullmatch(value):
        return Day(value)
    return value


def as_code(value: str | None) -> Number | str | None:
    """A choice code as a Number when it is one (a scale's 1..5), so the workbook keeps them as numbers in order."""
    if value is not None and INTEGER.fullmatch(value) and str(int(value)) == value:  # "007" stays text
        return Number(value)
    return value


def iso(moment: datetime | date | None) -> str:
    """ISO 8601 in UTC to the second (2026-11-25T13:40:00Z), or the day alone (2026-11-25)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


def utc_naive(moment: datetime | None) -> datetime | None:
    """A UTC timestamp without its zone: spreadsheets know no zones, the header says UTC in the codebook."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


@dataclass
class Export:
    """An export asked for and checked (round found, language known) before any byte is streamed."""

    round_id: int
    round_name: str
    definition: SurveyDefinition
    format: str = "csv"
    labels: str | None = None
    bom: bool = True
    anonymisation: Anonymisation | None = None
    registry_titles: dict[str, str] = field(default_factory=dict)  # META_COLUMNS in words, in the labels' language
    # The themes coded for each comment, {(response_id, question): [theme names]}: a row each in the long CSV, and
    # a "themes" sheet in the XLSX. Left out when anonymised (the free text they describe is left out too).
    themes: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    files_url: str = ""  # where staff download uploaded files: <files_url>/<response id>/<question>

    @property
    def anonymised(self) -> bool:
        return self.anonymisation is not None

    @property
    def removed(self) -> set[str]:
        """Answer columns left out (free text and registry repeats when anonymised)."""
        return set(self.anonymisation.removed_questions) if self.anonymisation else set()

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.round_name).strip("-").lower()[:60] or "round"
        suffix = {"csv": "responses", "long": "answers-long", "xlsx": "responses"}[self.format]
        extras = "".join(
            part for part, on in ((f"-{self.labels}", self.labels), ("-anonymised", self.anonymised)) if on
        )
        extension = "zip" if self.anonymised else self.data_extension
        return f"round-{self.round_id}-{slug}-{suffix}{extras}.{extension}"

    def audit_details(self, **more) -> dict:
        """What the audit log says of this export: only what differs from a plain one ("Labels in: Français")."""
        details = {"format": self.format, "name": self.round_name}
        if self.labels:
            details["labels"] = self.labels
        if not self.bom:
            details["without_bom"] = True
        if self.anonymisation:
            details.update(anonymised=True, threshold=self.anonymisation.threshold)
        return {**details, **more}

    @property
    def data_extension(self) -> str:
        return "xlsx" if self.format == "xlsx" else "csv"

    @property
    def mimetype(self) -> str:
        return ZIP_MIMETYPE if self.anonymised else MIMETYPES[self.format]

    @property
    def language(self) -> str:
        """The language of choice labels: the one asked for, else the survey's default."""
        return self.labels or self.definition.default_language

    def chunks(self, responses: Responses, readme: str = "") -> Iterator[bytes]:
        """The file's bytes, in chunks, written while the responses are read (and the bytes sent).

        Anonymised, the file goes into a zip beside `readme` (the plan's README when none is given).
        """
        if self.anonymised:
            return _zipped(
                f"{self.filename.removesuffix('.zip')}.{self.data_extension}",
                self._data(responses),
                readme or self.anonymisation.readme(self.round_name),
            )
        return self._data(responses)

    def _data(self, responses: Responses) -> Iterator[bytes]:
        if self.format == "csv":
            return self._csv(responses)
        if self.format == "long":
            return self._long(responses)
        return self._xlsx(responses)

    # -- one row per response -------------------------------------------------------------------------------

    def blocks(self) -> list[tuple[list[str], Callable[..., list[Cell]]]]:
        """The responses table in blocks of columns: the registry's block first, then one block per question."""
        removed = self.removed
        questions = [
            _upload_block(q, self.files_url) if q.type in UPLOAD_TYPES
            else _location_block(q) if q.type == "geopoint"
            else _question_block(q, self.definition, self.labels, removed)
            for q in self.definition.questions()
            if q.answerable and q.name not in removed
        ] + repeat_tables.wide_blocks(self.definition, removed)
        taken = {header for headers, _cells in questions for header in headers}
        round_name, plan = self.round_name, self.anonymisation
        if plan is None:
            meta = list(META_COLUMNS)
        else:
            meta = [n for n in META_COLUMNS if n not in ALWAYS_REMOVED and (n not in GROUPS or n in plan.kept)]

        def meta_cells(r: Respondent) -> list[Cell]:
            status = "submitted" if r.status == "submitted" else "partial"
            pathfinder = "yes" if r.pathfinder else "no"
            if plan is not None:
                values = {"category": r.category, "region": r.region, "pathfinder": pathfinder,
                          "language": r.language}
                return [
                    plan.new_id(),
                    round_name,
                    *(plan.shown(name, values[name] or "") for name in GROUPS if name in plan.kept),
                    status,
                    r.started_at.date() if r.started_at else None,
                    r.submitted_at.date() if r.submitted_at else None,
                ]
            return [
                r.response_id,
                round_name,
                r.organisation,
                r.category,
                r.region,
                r.country or "",
                pathfinder,
                r.language,
                status,
                utc_naive(r.started_at),
                utc_naive(r.submitted_at),
            ]

        meta_headers = [f"partner_{name}" if name in taken else name for name in meta]
        return [(meta_headers, meta_cells), *questions]

    def headers(self) -> list[str]:
        return [header for headers, _cells in self.blocks() for header in headers]

    def titles(self) -> dict[str, str]:
        """With labels asked for, each answer column's header in words: "question – option [column]"."""
        if not self.labels:
            return {}
        language, default = self.labels, self.definition.default_language
        titles = {}
        for question in self.definition.questions():
            if not question.answerable:
                continue
            label = pick(question.label, language, default) or question.name
            choices = {c.name: pick(c.label, language, default) for c in question.choices}
            for column in (question.name, f"{question.name}_label", question.other_name):
                titles[column] = f"{label} [{column}]"
            for code, text in choices.items():
                titles[f"{question.name}/{code}"] = f"{label} – {text} [{question.name}/{code}]"
        return titles

    def rows(self, responses: Responses) -> Iterator[list[Cell]]:
        """The header, then one row per response, every cell neutralised."""
        (meta_headers, meta_cells), *questions = self.blocks()
        titles = self.titles()
        if self.labels:
            for header in meta_headers:
                name = header.removeprefix("partner_") if header not in META_COLUMNS else header
                if name in self.registry_titles:
                    titles[header] = f"{self.registry_titles[name]} [{header}]"
        yield [neutralise(titles.get(h, h)) for h in meta_headers] + [
            neutralise(titles.get(h, h)) for headers, _c in questions for h in headers
        ]
        builders = [(cells, getattr(cells, "per_response", False)) for _headers, cells in questions]
        for respondent, answers in responses:
            row = meta_cells(respondent)
            for cells, per_response in builders:
                row.extend(cells(answers, respondent.response_id) if per_response else cells(answers))
            # neutralise() inlined for the common cells (None, numbers, codes): a call per cell is a tenth of the time.
            yield [neutralise(cell) if cell.__class__ is str and cell[:1] in RISKY_FIRST else cell for cell in row]

    def _csv(self, responses: Responses) -> Iterator[bytes]:
        (meta_headers, _cells), *_questions = self.blocks()
        moments = [i for i, name in enumerate(meta_headers) if name in TIMESTAMP_COLUMNS]

        def as_text(rows: Iterator[list[Cell]]) -> Iterator[list[Cell]]:
            yield next(rows)
            for row in rows:
                for i in moments:
                    row[i] = iso(row[i])
                yield row

        return _csv_stream(as_text(self.rows(responses)), self.bom)

    # -- one row per answer ---------------------------------------------------------------------------------

    def long_rows(self, responses: Responses) -> Iterator[list[Cell]]:
        """The header, then one row per answer (per ticked option, per ranked option) in form order."""
        yield list(LONG_COLUMNS)
        language, default = self.language, self.definition.default_language
        removed, plan = self.removed, self.anonymisation
        questions = [
            (q, {c.name: pick(c.label, language, default) for c in q.choices})
            for q in self.definition.questions()
            if q.answerable and q.name not in removed
        ]
        for respondent, answers in responses:
            rid = plan.new_id() if plan else respondent.response_id
            for question, labels in questions:
                value = answers.get(question.name)
                if value is not None:
                    for option, cell, label in _long_cells(question, value, labels):
                        yield [rid, question.name, neutralise(option), neutralise(cell), neutralise(label)]
                    if not plan:
                        for theme in self.themes.get((respondent.response_id, question.name), ()):
                            yield [rid, question.name, THEME_OPTION, neutralise(theme), ""]
                    if question.type in UPLOAD_TYPES and self.files_url:
                        link = file_link(self.files_url, respondent.response_id, question.name)
                        yield [rid, question.name, "link", neutralise(link), ""]
                if question.or_other and question.other_name not in removed and answers.get(question.other_name):
                    yield [rid, question.other_name, "", neutralise(answers[question.other_name]), ""]
            yield from repeat_tables.long_export_rows(self.definition, rid, answers, neutralise)

    def _long(self, responses: Responses) -> Iterator[bytes]:
        return _csv_stream(repeat_tables.with_repeat_index(self.definition, self.long_rows(responses)), self.bom)

    # -- XLSX -----------------------------------------------------------------------------------------------

    def codebook_rows(self) -> Iterator[list[Cell]]:
        """One row per question (name, type, labels, relevance, columns), then one per choice."""
        languages = self.definition.languages
        yield ["name", "type", "choice", *(f"label::{code}" for code in languages), "relevant", "columns"]
        _meta, *blocks = self.blocks()
        removed = self.removed
        questions = [q for q in self.definition.questions() if q.answerable and q.name not in removed]
        for question, (headers, _cells) in zip(questions, blocks):
            conditions = [f"({c.source})" for c in question.conditions]
            if question.relevant_source:
                conditions.append(f"({question.relevant_source})" if conditions else question.relevant_source)
            kind = " ".join(filter(None, (question.type, question.list_name, question.or_other and "or_other")))
            labels = [question.label.get(code, "") for code in languages]
            yield [
                neutralise(cell)
                for cell in (question.name, kind, "", *labels, " and ".join(conditions), " ".join(headers))
            ]
            for choice in question.choices:
                labels = [choice.label.get(code, "") for code in languages]
                yield [neutralise(cell) for cell in (question.name, "", choice.name, *labels, "", "")]
        yield from repeat_tables.codebook_rows(self.definition, languages)

    def _xlsx(self, responses: Responses) -> Iterator[bytes]:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("responses")
        sheet.freeze_panes = "A2"
        count, width, recorded = 0, 0, repeat_tables.Recorded(self.definition, responses)
        for count, row in enumerate(self.rows(recorded), 1):
            width = recorded.row_width(row, count)
            sheet.append([_xlsx_cell(cell) for cell in row])
        recorded.add_sheets(workbook, _xlsx_cell)
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(width, 1))}{max(count, 1)}"
        codebook = workbook.create_sheet("codebook")
        for row in self.codebook_rows():
            codebook.append([_xlsx_cell(cell) for cell in row])
        if self.themes and not self.anonymised:
            themes = workbook.create_sheet("themes")
            themes.append(["response_id", "question", "theme"])
            for (response_id, question), names in sorted(self.themes.items()):
                for name in names:
                    themes.append([response_id, question, _xlsx_cell(neutralise(name))])
        with tempfile.TemporaryFile() as file:
            workbook.save(file)
            file.seek(0)
            while chunk := file.read(XLSX_CHUNK):
                yield chunk


def _question_block(question: Question, definition: SurveyDefinition, labels: str | None, removed: set[str]):
    """The headers of one question's columns in the responses table, and a function from answers to its cells."""
    name, other = question.name, question.other_name
    codes = question.choice_names()
    names = (
        {c.name: pick(c.label, labels, definition.default_language) for c in question.choices}
        if labels
        else {}
    )
    with_other = question.or_other and other not in removed
    tail = [other] if with_other else []
    labelled = [f"{name}_label"] if labels else []

    if question.type == "rank":
        blank = [None] * len(codes)

        def cells(answers):
            value = answers.get(name)
            if value is None:
                return list(blank)
            position = {code: i for i, code in enumerate(value.split(), 1)}
            return [position.get(code) for code in codes]

        return [f"{name}/{code}" for code in codes], cells

    if question.type == "select_multiple":
        blank = [None] * (1 + len(codes))

        def cells(answers):
            value = answers.get(name)
            row = list(blank) if value is None else _ticks(value, codes)
            if names:
                row.insert(1, None if value is None else LABEL_SEPARATOR.join(names.get(c, c) for c in value.split()))
            if with_other:
                row.append(answers.get(other))
            return row

        return [name, *labelled, *(f"{name}/{code}" for code in codes), *tail], cells

    if question.type == "select_one":

        def cells(answers):
            value = answers.get(name)
            row = [as_code(value)]
            if names:
                row.append(None if value is None else names.get(value, value))
            if with_other:
                row.append(answers.get(other))
            return row

        return [name, *labelled, *tail], cells

    def cells(answers):
        value = answers.get(name)
        return [None if value is None else as_number(question, value)]

    return [name], cells


def file_link(files_url: str, response_id: int, question: str) -> str:
    return f"{files_url.rstrip('/')}/{response_id}/{question}"


def _upload_block(question: Question, files_url: str):
    """An uploaded file's name as the partner gave it, and the link staff download it from (signed in)."""
    name = question.name

    def cells(answers, response_id):
        value = answers.get(name)
        if value is None:
            return [None, None]
        return [value, file_link(files_url, response_id, name) if files_url else None]

    cells.per_response = True
    return [name, f"{name}_link"], cells


def coordinates(value: str) -> tuple[float, float] | tuple[None, None]:
    """A stored location ("latitude longitude", or ODK's four numbers) as two numbers."""
    parts = value.split()
    try:
        return float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return None, None


def _location_block(question: Question):
    """A location as two numbers, latitude and longitude, each in its own column."""
    name = question.name

    def cells(answers):
        value = answers.get(name)
        return [None, None] if value is None else list(coordinates(value))

    return [f"{name}_latitude", f"{name}_longitude"], cells


def _ticks(value: str, codes: list[str]) -> list[Cell]:
    """A select_multiple answer: its codes, then 1 or 0 per option."""
    chosen = set(value.split())
    return [value, *(1 if code in chosen else 0 for code in codes)]


def _long_cells(question: Question, value: str, labels: dict[str, str]) -> Iterator[tuple[str, Cell, str]]:
    """(option, value, label) rows of one answer in the long table."""
    if question.type == "select_multiple":
        for code in value.split():
            yield code, 1, labels.get(code, "")
    elif question.type == "rank":
        for position, code in enumerate(value.split(), 1):
            yield code, position, labels.get(code, "")
    elif question.type == "geopoint":
        yield from zip(("latitude", "longitude"), coordinates(value), ("", ""), strict=True)
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


def _zipped(name: str, data: Iterable[bytes], readme: str) -> Iterator[bytes]:
    """A zip of README.txt and the data file, built in a temporary file (memory stays flat) and sent in chunks."""
    with tempfile.TemporaryFile() as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", BOM_TEXT + readme)
            with archive.open(name, "w") as member:
                for chunk in data:
                    member.write(chunk)
        file.seek(0)
        while chunk := file.read(XLSX_CHUNK):
            yield chunk


def _csv_stream(rows: Iterable[list[Cell]], bom: bool) -> Iterator[bytes]:
    """CSV bytes (UTF-8, BOM unless opted out), yielded about every FLUSH_BYTES; the header and the first row go alone.

    The first row is sent as soon as it is read, so the download shows progress before the first FLUSH_BYTES.
    """
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        yield BOM
    alone = 2
    for row in rows:
        writer.writerow(row)
        if alone or buffer.size >= FLUSH_BYTES:
            yield buffer.take()
            alone = max(alone - 1, 0)
    if buffer.size:
        yield buffer.take()


def _xlsx_cell(cell: Cell) -> Cell:
    """A value openpyxl stores as it is: numbers as numbers, dates as dates, text without XML-illegal characters."""
    if isinstance(cell, Number | Day):
        return cell.value()
    if isinstance(cell, str):
        return ILLEGAL_CHARACTERS_RE.sub("", cell)
    return cell


def prepare(
    round_id: int,
    round_name: str,
    definition: SurveyDefinition,
    format: str = "csv",
    labels: str | None = None,
    bom: bool = True,
    anonymisation: Anonymisation | None = None,
    files_url: str = "",
) -> Export:
    """Check an export request of a round found (analysis.loader.round_and_definition): ValueError for a bad format
    or language. Anonymised when given the plan (analysis.anonymisation.plan)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    labels = labels or None
    if labels is not None and labels not in definition.languages:
        raise ValueError(f"labels must be one of the survey's languages: {', '.join(definition.languages)}")
    return Export(round_id, round_name, definition, format, labels, bool(bom), anonymisation, files_url=files_url)


def write(export: Export, responses: Responses, file: io.BufferedIOBase, readme: str = "") -> int:
    """Write an export of these responses to an open binary file; returns the number of bytes written."""
    size = 0
    for chunk in export.chunks(responses, readme):
        file.write(chunk)
        size += len(chunk)
    return size
