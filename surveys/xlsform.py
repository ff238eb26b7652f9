"""Read an XLSForm workbook (.xlsx, .xls) or the native YAML format into a SurveyDefinition.

Reading gives plain sheets (lists of row dicts, JSON-safe, each with its spreadsheet row under "_row"); one
normaliser turns sheets from either format into a definition and reports every problem at once, each naming its
sheet, row and column, so a secretariat can fix a form in one pass. See docs/XLSFORM.md for what is supported.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import yaml

from .definition import (
    CHOICE_TYPES,
    OTHER,
    SELECT_TYPES,
    Choice,
    Grid,
    Page,
    Question,
    Section,
    SurveyDefinition,
    Text,
)
from .expressions import NAME_PATTERN, PARTNER_ATTRIBUTES, Expression, ExpressionError, parse

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
SHEETS = ("settings", "survey", "choices")

OTHER_LABELS = {"en": "Other", "fr": "Autre", "es": "Otro", "pt": "Outro", "ar": "أخرى", "ru": "Другое"}

KNOWN_LANGUAGES = {
    "english": "en",
    "anglais": "en",
    "inglés": "en",
    "ingles": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "francés": "fr",
    "frances": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "espagnol": "es",
    "castellano": "es",
    "portuguese": "pt",
    "português": "pt",
    "portugues": "pt",
    "arabic": "ar",
    "العربية": "ar",
    "arabe": "ar",
    "russian": "ru",
    "русский": "ru",
    "chinese": "zh",
    "中文": "zh",
    "swahili": "sw",
    "kiswahili": "sw",
}

TEXT_COLUMNS = ("label", "hint", "constraint_message", "required_message", "form_title")
COLUMN_ALIASES = {
    "list name": "list_name",
    "caption": "label",
    "bind:relevant": "relevant",
    "relevance": "relevant",
    "bind:constraint": "constraint",
    "bind:required": "required",
    "control:appearance": "appearance",
    "constraint-msg": "constraint_message",
    "constraint_msg": "constraint_message",
    "constraining_message": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "bind:jr:constraintmsg": "constraint_message",
    "required-msg": "required_message",
    "required_msg": "required_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "bind:jr:requiredmsg": "required_message",
    "choice-filter": "choice_filter",
    "id_string": "form_id",
    "set_form_id": "form_id",
    "set_form_title": "form_title",
}

SIMPLE_TYPES = {
    "text": "text",
    "string": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "note": "note",
    "range": "range",
}
PHONE_TYPES = ("phone number", "phonenumber", "phone_number")
METADATA_TYPES = {
    "start",
    "end",
    "today",
    "deviceid",
    "imei",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "instanceid",
    "uri:deviceid",
    "uri:subscriberid",
    "uri:simserial",
    "uri:phonenumber",
    "uri:username",
    "uri:email",
}
UNSUPPORTED_TYPES = {
    "geopoint",
    "geotrace",
    "geoshape",
    "start-geopoint",
    "image",
    "photo",
    "audio",
    "background-audio",
    "video",
    "file",
    "barcode",
    "acknowledge",
    "trigger",
    "datetime",
    "time",
    "calculate",
    "hidden",
    "xml-external",
    "csv-external",
    "osm",
    "add image prompt",
    "add photo prompt",
    "add audio prompt",
    "add video prompt",
    "add file prompt",
    "begin repeat",
    "begin_repeat",
    "begin loop",
    "begin_loop",
    "begin lgroup",
    "begin looped group",
    "end loop",
    "end_loop",
}
UNSUPPORTED_REASONS = {
    "calculate": "calculations are not supported",
    "begin repeat": "repeats are not supported",
    "begin_repeat": "repeats are not supported",
}
_SELECT = re.compile(
    r"^(select_one_from_file|select_multiple_from_file|select one from file|select multiple from file"
    r"|select_one_external|select one external|select all that apply from|select one from|select_one"
    r"|select_multiple|select multiple|select all that apply|select one|select1|rank)(?:\s+(.*))?$",
    re.IGNORECASE,
)
_SELECT_KINDS = {
    "select_one": "select_one",
    "select one from": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select_multiple": "select_multiple",
    "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple",
    "rank": "rank",
}
_OTHER_SUFFIXES = ("or_other", "or specify other", "or other")
_LANGUAGE_WITH_CODE = re.compile(r"^(.*?)\s*\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\s*\)\s*$")
_PARTNER_DEFAULT = re.compile(r"^\$\{\s*([^}]*?)\s*\}$")
_PARAMETER = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*([^\s;,]*)")
_YES = {"yes", "true", "true()", "1"}
_NO = {"no", "false", "false()", "0", ""}


@dataclass
class Problem:
    """One thing wrong with a form, located as precisely as the file allows."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"{self.sheet} sheet")
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class SurveyFileError(Exception):
    """A form that cannot be used, with every problem found (not just the first)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _refuse(message: str) -> SurveyFileError:
    return SurveyFileError([Problem("", 0, "", message)])


# ------------------------------------------------------------------------------------------------ reading files


def read_sheets(path_or_bytes, filename: str) -> dict:
    """The raw sheets of a workbook or YAML file: {"survey": [...], "choices": [...], "settings": [...],
    "source": {"filename", "format"}}, rows as {column: text, "_row": n}; raises SurveyFileError."""
    data = _read_bytes(path_or_bytes)
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"'{filename}' is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".yaml", ".yml"):
        sheets = _read_yaml(data, filename)
        file_format = "yaml"
    elif data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        _check_zip(data, filename)
        sheets = _read_workbook(data, filename, ".xlsx")
        file_format = "xlsx"
    elif data.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        sheets = _read_workbook(data, filename, ".xls")
        file_format = "xls"
    else:
        raise _refuse(f"'{filename}' is not an XLSForm: upload an .xlsx or .xls workbook, or a .yaml file")
    sheets["source"] = {"filename": Path(filename or "survey").name, "format": file_format}
    return sheets


def build_definition(sheets: dict) -> SurveyDefinition:
    """The definition of stored sheets; raises SurveyFileError listing every problem found."""
    return _Builder(sheets).build()


def load_survey_file(path_or_bytes, filename: str) -> tuple[dict, SurveyDefinition]:
    """Read and normalise a form file: the sheets to store, and the definition built from them."""
    sheets = read_sheets(path_or_bytes, filename)
    return sheets, build_definition(sheets)


def _read_bytes(path_or_bytes) -> bytes:
    if isinstance(path_or_bytes, bytes | bytearray):
        return bytes(path_or_bytes)
    if isinstance(path_or_bytes, str | PathLike):
        try:
            return Path(path_or_bytes).read_bytes()
        except OSError as error:
            raise _refuse(f"cannot read the file: {error.strerror or error}") from error
    if hasattr(path_or_bytes, "read"):
        data = path_or_bytes.read(MAX_FILE_BYTES + 1)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise TypeError("path_or_bytes must be a path, bytes or a binary file")


def _check_zip(data: bytes, filename: str) -> None:
    """Refuse archives that are not zips or that would expand far beyond a real form (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise _refuse(
            f"'{filename}' is not a valid .xlsx workbook (the file is damaged or not a workbook)"
        ) from error
    if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(f"'{filename}' expands to far more data than a survey form holds; it was not opened")


def _read_workbook(data: bytes, filename: str, file_type: str) -> dict:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = get_xlsform(io.BytesIO(data), file_type=file_type)
    except PyXFormError as error:
        detail = (
            str(error).replace("Argument 'definition' was not recognized as a supported type.", "").strip()
        )
        raise _refuse(
            f"cannot read '{filename}' as an {file_type} workbook" + (f": {detail}" if detail else "")
        ) from error
    except Exception as error:  # third-party readers raise anything on a damaged file
        raise _refuse(
            f"cannot read '{filename}' as an {file_type} workbook (the file is damaged or not a workbook)"
        ) from error
    if workbook.survey is None:
        raise _refuse(f"'{filename}' has no 'survey' sheet")
    sheets = {}
    for sheet in SHEETS:
        rows = getattr(workbook, sheet) or []
        # pyxform keeps blank rows (as {}) so that the list index maps to the spreadsheet row; the header is row 1.
        sheets[sheet] = [
            {**{str(k): _cell_text(v) for k, v in row.items()}, "_row": index + 2}
            for index, row in enumerate(rows)
            if row
        ]
    return sheets


def _cell_text(value) -> str:
    return value if isinstance(value, str) else str(value)


class _TextLoader(yaml.SafeLoader):
    """YAML that keeps every scalar as written: `yes` stays the choice code "yes", `1.10` stays "1.10"."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(data: bytes, filename: str) -> dict:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(f"'{filename}' is not UTF-8 text") from error
    try:
        document = yaml.load(text, Loader=_TextLoader)  # a SafeLoader with fewer resolvers
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise _refuse(f"'{filename}' is not valid YAML{where}: {problem}") from error
    except RecursionError as error:
        raise _refuse(f"'{filename}' is nested too deeply to be a survey") from error
    if not isinstance(document, dict):
        raise _refuse(f"'{filename}' must be a mapping with the keys settings, survey and choices")
    problems = []
    unknown = sorted(str(key) for key in document if key not in SHEETS)
    if unknown:
        problems.append(
            Problem(
                "",
                0,
                "",
                f"unknown top-level keys {', '.join(unknown)} (expected settings, survey and choices)",
            )
        )
    sheets = {}
    for sheet in SHEETS:
        value = document.get(sheet)
        if sheet == "settings" and isinstance(value, dict):
            value = [value]
        if value is None:
            value = []
        if not isinstance(value, list):
            kind = "a mapping" if sheet == "settings" else "a list of rows"
            problems.append(Problem(sheet, 0, "", f"'{sheet}' must be {kind}"))
            continue
        rows = []
        for index, item in enumerate(value, start=1):
            if item is None:
                continue
            if not isinstance(item, dict):
                problems.append(Problem(sheet, index, "", "each row must be a mapping of column: value"))
                continue
            row = {}
            for key, cell in item.items():
                if isinstance(cell, dict | list):
                    problems.append(
                        Problem(sheet, index, str(key), "a cell must hold text, not a list or mapping")
                    )
                elif cell is not None and str(cell).strip():
                    row[str(key).strip()] = str(cell).strip()
            if row:
                rows.append({**row, "_row": index})
        sheets[sheet] = rows
    if not document.get("survey") and not any(p.sheet == "survey" for p in problems):
        problems.append(Problem("", 0, "", f"'{filename}' has no survey rows"))
    if problems:
        raise SurveyFileError(problems)
    return sheets


# ------------------------------------------------------------------------------------------------ normalising


@dataclass
class _Row:
    sheet: str
    number: int
    values: dict[str, str]  # canonical column -> text
    texts: dict[str, dict[str | None, str]]  # label/hint/... -> language (None: plain column) -> text
    headers: dict[str, str]  # canonical column -> the header as the form writes it

    def header(self, column: str, language: str | None = None) -> str:
        return self.headers.get(f"{column}::{language}" if language else column, column)


@dataclass
class _Language:
    code: str
    display: str


@dataclass
class _Group:
    kind: str  # page, section, grid, repeat, void (a group inside a refused repeat)
    node: Page | Section | Grid | None
    row: _Row
    relevant: Expression | None
    items: list = field(default_factory=list)
    page: Page | None = None  # set on top-level groups


def _split_column(header: str) -> tuple[str, str | None]:
    """('label', 'French (fr)') from 'label::French (fr)' or 'label:French (fr)'; ('relevant', None) from
    'bind:relevant'."""
    header = " ".join(header.split())
    if "::" in header:
        base, language = header.split("::", 1)
    else:
        head, _, tail = header.partition(":")
        if tail and head.strip().lower() in TEXT_COLUMNS:
            base, language = head, tail
        else:
            base, language = header, None
    base = base.strip().lower()
    base = COLUMN_ALIASES.get(base, base)
    language = (language or "").strip() or None
    return base, language


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _language(raw: str) -> _Language:
    """Code and display name of a language as a form writes it: 'French (fr)', 'english', 'Español', 'fr'."""
    match = _LANGUAGE_WITH_CODE.match(raw)
    if match:
        primary, *subtags = match.group(2).replace("_", "-").split("-")
        code = "-".join([primary.lower(), *subtags])
        name = match.group(1).strip() or code
        return _Language(code, f"{name} ({code})")
    name = raw.strip()
    code = KNOWN_LANGUAGES.get(name.lower())
    display_name = name[:1].upper() + name[1:]
    if code is None:
        import pycountry

        found = pycountry.languages.get(name=name)
        if found is not None and hasattr(found, "alpha_2"):
            code = found.alpha_2
        elif re.fullmatch(r"[A-Za-z]{2}", name) and pycountry.languages.get(alpha_2=name.lower()) is not None:
            code = name.lower()
            display_name = pycountry.languages.get(alpha_2=code).name
        else:
            code = _slug(name) or "default"
    return _Language(code, f"{display_name} ({code})")


def _truth(value: str) -> bool | None:
    value = value.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def _parameters(text: str) -> dict[str, str]:
    return {key.lower(): value for key, value in _PARAMETER.findall(text or "")}


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _Builder:
    """One pass over the normalised rows, collecting problems and warnings instead of stopping at the first."""

    def __init__(self, sheets: dict):
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.languages: dict[str, _Language] = {}
        self.rows = {
            sheet: [self.normalise(sheet, row) for row in sheets.get(sheet) or []] for sheet in SHEETS
        }
        self.source = sheets.get("source") or {}

    def problem(self, row: _Row | None, column: str, message: str, sheet: str = "survey") -> None:
        if row is None:
            self.problems.append(Problem(sheet, 0, column, message))
        else:
            self.problems.append(Problem(row.sheet, row.number, column, message))

    def normalise(self, sheet: str, raw: dict) -> _Row:
        row = _Row(sheet, int(raw.get("_row") or 0), {}, {}, {})
        for header, value in raw.items():
            if header == "_row" or value is None:
                continue
            value = str(value).strip()
            if not value:
                continue
            base, language = _split_column(str(header))
            if base in TEXT_COLUMNS:
                code = None
                if language:
                    code = self.language(language, counted=sheet != "settings").code
                row.texts.setdefault(base, {}).setdefault(code, value)
                row.headers.setdefault(f"{base}::{code}" if code else base, str(header))
            elif base not in row.values:
                row.values[base] = value
                row.headers[base] = str(header)
        return row

    def language(self, raw: str, counted: bool = True) -> _Language:
        language = _language(raw)
        if counted:
            language = self.languages.setdefault(language.code, language)
        return language

    # ------------------------------------------------------------------------------------------------ build

    def build(self) -> SurveyDefinition:
        settings = next(iter(self.rows["settings"]), None) or _Row("settings", 0, {}, {}, {})
        self.default_language = self.choose_default_language(settings)
        self.language_codes = [self.default_language] + [
            c for c in self.languages if c != self.default_language
        ]
        self.lists = self.read_choices()
        self.questions: dict[str, Question] = {}
        self.names: dict[str, int] = {}
        self.ignored: dict[str, str] = {}  # metadata names -> type
        self.refused: set[str] = set()
        self.expressions: list[tuple[_Row, str, Expression]] = []
        self.defaults: list[tuple[_Row, Question]] = []
        pages = self.read_survey()
        self.check_references()
        if not self.questions and not any(p.sheet == "survey" for p in self.problems):
            self.problem(None, "", "the survey has no questions")
        if self.problems:
            order = {sheet: index for index, sheet in enumerate(("", *SHEETS))}
            self.problems.sort(key=lambda p: (order.get(p.sheet, 9), p.row))
            raise SurveyFileError(self.problems)
        form_id = _slug_id(
            settings.values.get("form_id") or Path(self.source.get("filename") or "survey").stem
        )
        title = self.text(settings, "form_title") or {self.default_language: form_id}
        return SurveyDefinition(
            form_id=form_id,
            title=title,
            version=settings.values.get("version", ""),
            default_language=self.default_language,
            languages=self.language_codes,
            pages=pages,
            warnings=self.warnings,
        )

    def choose_default_language(self, settings: _Row) -> str:
        """Settings' default_language; else the plain label columns stand for English; else the first named."""
        declared = settings.values.get("default_language")
        if declared and declared.strip().lower() != "default":
            language = _language(declared)
            return self.languages.setdefault(language.code, language).code
        plain = any(
            None in texts
            for sheet in ("survey", "choices")
            for row in self.rows[sheet]
            for texts in row.texts.values()
        )
        if plain or not self.languages:
            return self.languages.setdefault("en", _Language("en", "English (en)")).code
        return next(iter(self.languages))

    def text(self, row: _Row, column: str) -> Text:
        """The texts of a column keyed by language code; the plain column fills the default language."""
        texts = row.texts.get(column) or {}
        result = {code: value for code, value in texts.items() if code is not None}
        if None in texts:
            result.setdefault(self.default_language, texts[None])
        return result

    def fill_languages(self, text: Text, row: _Row, kind: str, what: str) -> Text:
        """Give a text every language of the form, warning about each gap filled from another language."""
        if not text:
            return text
        source = self.default_language if self.default_language in text else next(iter(text))
        for code in self.language_codes:
            if code not in text:
                text[code] = text[source]
                self.warnings.append(
                    f"{row.sheet} sheet, row {row.number}: no {self.languages[code].display} {kind} for {what}; "
                    f"the {self.languages[source].display} text will be shown"
                )
        return {code: text[code] for code in self.language_codes}

    # ------------------------------------------------------------------------------------------------ choices

    def read_choices(self) -> dict[str, list[Choice]]:
        lists: dict[str, list[Choice]] = {}
        seen: dict[tuple[str, str], int] = {}
        for row in self.rows["choices"]:
            list_name = row.values.get("list_name", "")
            name = row.values.get("name", "")
            if not list_name and not name and not row.texts.get("label"):
                continue
            if not list_name:
                self.problem(row, "list_name", "this choice has no list name")
                continue
            choices = lists.setdefault(list_name, [])
            if not name:
                self.problem(row, "name", f"a choice of list '{list_name}' has no name")
                continue
            if any(char.isspace() for char in name):
                self.problem(row, row.header("name"), f"choice name '{name}' contains a space")
            key = (list_name, name)
            if key in seen:
                self.problem(
                    row,
                    row.header("name"),
                    f"duplicate choice '{name}' in list '{list_name}' (already at row {seen[key]})",
                )
                continue
            seen[key] = row.number
            label = self.text(row, "label")
            if not label:
                label = {self.default_language: name}
                self.warnings.append(
                    f"choices sheet, row {row.number}: choice '{name}' of list '{list_name}' "
                    "has no label; its name will be shown"
                )
            label = self.fill_languages(label, row, "label", f"choice '{name}' of list '{list_name}'")
            choices.append(Choice(name, label))
        return lists

    # ------------------------------------------------------------------------------------------------ survey

    def read_survey(self) -> list[Page]:
        pages: list[Page] = []
        loose: Page | None = None  # the page collecting questions outside any group
        stack: list[_Group] = []
        for row in self.rows["survey"]:
            type_text = row.values.get("type", "")
            if not type_text:
                if row.values.get("name") or row.texts.get("label"):
                    self.problem(row, "type", "this row has a name or label but no type")
                continue
            kind, detail = _classify(type_text, bool(row.texts.get("label")))
            column = row.header("type")
            if kind == "begin_group":
                group = self.begin_group(row, stack)
                if group.page is not None:
                    loose = None
                    pages.append(group.page)
                stack.append(group)
            elif kind in ("end_group", "end_repeat"):
                wanted = "repeat" if kind == "end_repeat" else "group"
                if not stack:
                    self.problem(row, column, f"'{type_text}' without a matching 'begin {wanted}'")
                    continue
                opened = stack[-1]
                if (opened.kind == "repeat") != (wanted == "repeat"):
                    opened_what = "repeat" if opened.kind == "repeat" else "group"
                    self.problem(
                        row,
                        column,
                        f"'{type_text}' closes the {opened_what} opened at row {opened.row.number}",
                    )
                stack.pop()
                self.end_group(opened, stack)
            elif kind == "begin_repeat":
                self.refuse(
                    row, column, f"unsupported question type '{type_text}' (repeats are not supported)"
                )
                stack.append(_Group("repeat", None, row, None))
            elif kind == "metadata":
                name = row.values.get("name", type_text)
                self.ignored[name] = type_text
                self.warnings.append(
                    f"survey sheet, row {row.number}: metadata field '{name}' (type {type_text}) is ignored"
                )
            elif kind == "unsupported":
                self.refuse(
                    row,
                    column,
                    f"unsupported question type '{type_text}'" + (f" ({detail})" if detail else ""),
                )
            elif kind == "unknown":
                self.refuse(
                    row, column, f"unknown question type '{type_text}'" + (f" ({detail})" if detail else "")
                )
            else:
                question = self.question(row, kind, detail)
                if stack:
                    container = stack[-1]
                else:
                    if loose is None:
                        loose = Page(name="", row=row.number)
                        pages.append(loose)
                    container = _Group("page", loose, row, None, loose.items)
                question.conditions = [group.relevant for group in stack if group.relevant is not None]
                if container.kind == "grid":
                    question.grid = container.node.name
                container.items.append(question)
        for group in reversed(stack):
            self.problem(
                group.row,
                group.row.header("type"),
                f"'{group.row.values['type']}' has no matching end (the group or repeat is never closed)",
            )
        return self.finish_pages(pages)

    def survey_row(self, question: Question) -> _Row:
        return next(row for row in self.rows["survey"] if row.number == question.row)

    def refuse(self, row: _Row, column: str, message: str) -> None:
        self.problem(row, column, message)
        if row.values.get("name"):
            self.refused.add(row.values["name"])

    def claim_name(self, row: _Row, what: str) -> str | None:
        name = row.values.get("name", "")
        if not name:
            self.problem(row, "name", f"every {what} needs a name")
            return None
        if not NAME_PATTERN.match(name):
            self.problem(
                row,
                row.header("name"),
                f"'{name}' is not a valid name (start with a letter or _, then letters, digits, _ . -)",
            )
        elif name in PARTNER_ATTRIBUTES:
            self.problem(row, row.header("name"), f"'{name}' is reserved for the partner registry attribute")
        elif name in self.names:
            self.problem(
                row, row.header("name"), f"duplicate name '{name}' (already used at row {self.names[name]})"
            )
        else:
            self.names[name] = row.number
        return name

    def expression(self, row: _Row, column: str) -> Expression | None:
        source = row.values.get(column, "")
        if not source:
            return None
        try:
            expression = parse(source)
        except ExpressionError as error:
            self.problem(
                row, row.header(column), f"cannot read the {column} expression '{source}': {error.message}"
            )
            return None
        self.expressions.append((row, column, expression))
        return expression

    def begin_group(self, row: _Row, stack: list[_Group]) -> _Group:
        name = row.values.get("name") or f"group_row_{row.number}"
        if "name" in row.values:
            self.claim_name(row, "group")
        if row.values.get("choice_filter"):
            self.problem(row, row.header("choice_filter"), "choice_filter is not supported")
        relevant = self.expression(row, "relevant")
        label = self.fill_languages(self.text(row, "label"), row, "label", f"'{name}'")
        hint = self.fill_languages(self.text(row, "hint"), row, "hint", f"'{name}'")
        is_grid = "table-list" in row.values.get("appearance", "").split()
        parent = stack[-1] if stack else None
        if parent is not None and parent.node is None:  # inside a refused repeat: checked, never shown
            return _Group("void", None, row, relevant)
        if parent is not None and parent.kind == "grid":
            self.problem(
                row,
                row.header("type"),
                f"a group cannot sit inside the table-list group "
                f"'{parent.node.name}' (opened at row {parent.row.number})",
            )
            return _Group("void", None, row, relevant)
        common = {
            "name": name,
            "label": label,
            "hint": hint,
            "relevant": relevant,
            "relevant_source": row.values.get("relevant", ""),
            "row": row.number,
        }
        if parent is None:
            page = Page(**common)
            if is_grid:  # a page holding one grid; the page carries the condition, the grid the caption
                grid = Grid(name=name, label=dict(label), row=row.number)
                page.items.append(grid)
                return _Group("grid", grid, row, relevant, grid.questions, page)
            return _Group("page", page, row, relevant, page.items, page)
        node = Grid(**common) if is_grid else Section(**common)
        parent.items.append(node)
        return _Group(
            "grid" if is_grid else "section", node, row, relevant, node.questions if is_grid else node.items
        )

    def end_group(self, group: _Group, stack: list[_Group]) -> None:
        if group.kind != "grid":
            return
        grid = group.node
        first = None
        for question in grid.questions:
            if question.type not in SELECT_TYPES:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"the table-list group '{grid.name}' (row {grid.row}) can only hold select_one or "
                    f"select_multiple questions; '{question.name}' is {question.type}",
                )
            elif first is None:
                first = question
            elif question.list_name != first.list_name:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"all questions of the table-list group '{grid.name}' (row {grid.row}) must use one "
                    f"choice list: '{question.name}' uses '{question.list_name}', "
                    f"'{first.name}' uses '{first.list_name}'",
                )
            if question.or_other:
                self.problem(
                    self.survey_row(question),
                    "type",
                    f"or_other is not available inside the table-list group '{grid.name}'",
                )

    def question(self, row: _Row, kind: str, detail) -> Question:
        name = self.claim_name(row, "question")
        type_column = row.header("type")
        question = Question(name=name or "", type=kind, row=row.number)
        if kind == "text" and detail == "phone":
            self.warnings.append(
                f"survey sheet, row {row.number}: '{row.values['type']}' question '{name}' is "
                "asked as a text question"
            )
        label = self.text(row, "label")
        if not label:
            self.problem(
                row, "label", f"question '{name}' has no label" if name else "this question has no label"
            )
        question.label = self.fill_languages(label, row, "label", f"'{name}'")
        question.hint = self.fill_languages(self.text(row, "hint"), row, "hint", f"'{name}'")
        question.required_message = self.text(row, "required_message")
        question.constraint_message = self.text(row, "constraint_message")
        question.appearance = row.values.get("appearance", "")
        question.relevant = self.expression(row, "relevant")
        question.relevant_source = row.values.get("relevant", "")
        question.constraint = self.expression(row, "constraint")
        question.constraint_source = row.values.get("constraint", "")
        question.parameters = _parameters(row.values.get("parameters", ""))
        required = _truth(row.values.get("required", ""))
        if required is None:
            self.problem(
                row,
                row.header("required"),
                f"required must be yes or no, not '{row.values['required']}' "
                "(conditional required is not supported)",
            )
        question.required = bool(required) and kind != "note"
        if row.values.get("choice_filter"):
            self.problem(
                row,
                row.header("choice_filter"),
                f"choice_filter is not supported (question '{name}'); use separate questions with relevant",
            )
        if kind in CHOICE_TYPES:
            list_name, or_other = detail
            question.list_name = list_name
            question.or_other = or_other
            if not list_name:
                self.problem(row, type_column, f"'{row.values['type']}' needs a choice list name")
            elif list_name not in self.lists:
                self.problem(
                    row, type_column, f"choice list '{list_name}' does not exist in the choices sheet"
                )
            else:
                question.choices = list(self.lists[list_name])
            if or_other and kind == "rank":
                self.problem(
                    row, type_column, "or_other is only available for select_one and select_multiple"
                )
            elif or_other and OTHER not in question.choice_names():
                question.choices.append(
                    Choice(OTHER, {c: OTHER_LABELS.get(c, "Other") for c in self.language_codes})
                )
            if or_other and name:
                if question.other_name in self.names:
                    self.problem(
                        row,
                        row.header("name"),
                        f"'{question.other_name}' (where or_other keeps the text) "
                        f"is already the name of row {self.names[question.other_name]}",
                    )
                else:
                    self.names[question.other_name] = row.number
            if kind == "rank" and list_name in self.lists and len(question.choices) < 2:
                self.problem(
                    row,
                    type_column,
                    f"rank needs at least 2 choices; list '{list_name}' has {len(question.choices)}",
                )
            if kind == "rank":
                self.check_rank(row, question)
        if kind == "range":
            self.check_range(row, question)
        if "default" in row.values:
            question.default = row.values["default"]
            self.defaults.append((row, question))
        if name and name not in self.questions:
            self.questions[name] = question
        return question

    def check_range(self, row: _Row, question: Question) -> None:
        column = row.header("parameters")
        values = {}
        for key in ("start", "end", "step"):
            text = question.parameters.get(key)
            if text is None:
                continue
            values[key] = _number(text)
            if values[key] is None:
                self.problem(row, column, f"range parameter {key} must be a number, not '{text}'")
        unknown = sorted(set(question.parameters) - {"start", "end", "step"})
        if unknown:
            self.problem(row, column, f"unknown range parameter {', '.join(unknown)} (use start, end, step)")
        if any(value is None for value in values.values()):
            return
        start, end, step = values.get("start", 1.0), values.get("end", 10.0), values.get("step", 1.0)
        if end <= start:
            self.problem(row, column, f"range end ({end:g}) must be greater than start ({start:g})")
        if step <= 0:
            self.problem(row, column, f"range step ({step:g}) must be greater than 0")

    def check_rank(self, row: _Row, question: Question) -> None:
        """`parameters: top=N` asks for the first N positions only (rank the three that matter most)."""
        column = row.header("parameters")
        unknown = sorted(set(question.parameters) - {"top"})
        if unknown:
            self.problem(row, column, f"unknown rank parameter {', '.join(unknown)} (use top=N)")
        top = question.parameters.get("top")
        if top is not None and question.choices and not (top.isdigit() and 1 <= int(top) <= len(question.choices)):
            self.problem(row, column, f"rank parameter top must be a whole number from 1 to {len(question.choices)} "
                                      f"(the number of choices), not '{top}'")

    def check_references(self) -> None:
        known = set(self.questions) | set(PARTNER_ATTRIBUTES) | self.refused
        known |= {q.other_name for q in self.questions.values() if q.or_other}
        for row, column, expression in self.expressions:
            for name in sorted(expression.references - known):
                self.problem(row, row.header(column), self.unknown_reference(name, column))
        for row, question in self.defaults:
            match = _PARTNER_DEFAULT.match(question.default)
            if match:
                if match.group(1) not in PARTNER_ATTRIBUTES:
                    self.problem(
                        row,
                        row.header("default"),
                        f"default '{question.default}' can only refer to a registry attribute: "
                        f"{', '.join(PARTNER_ATTRIBUTES)}",
                    )
            elif "${" in question.default:
                self.problem(
                    row,
                    row.header("default"),
                    "a default is either plain text or one registry attribute such as ${partner_category}",
                )
            elif question.type in SELECT_TYPES and question.choices:
                codes = question.default.split() if question.type == "select_multiple" else [question.default]
                for code in codes:
                    if code not in question.choice_names():
                        self.problem(
                            row,
                            row.header("default"),
                            f"default '{code}' is not a choice of list '{question.list_name}'",
                        )

    def unknown_reference(self, name: str, column: str) -> str:
        if name in self.ignored:
            return (
                f"the {column} expression refers to ${{{name}}}, a metadata field ({self.ignored[name]}) "
                "that this platform ignores"
            )
        if name.startswith("partner_"):
            return (
                f"the {column} expression refers to ${{{name}}}, which is not a registry attribute "
                f"({', '.join(PARTNER_ATTRIBUTES)})"
            )
        return f"the {column} expression refers to ${{{name}}}, which is not a question of this form"

    def finish_pages(self, pages: list[Page]) -> list[Page]:
        """Name loose pages, drop empty groups (with a warning) and tell every question its page."""
        used = {page.name for page in pages if page.name}
        kept = []
        for index, page in enumerate(pages, start=1):
            if not page.name:
                name, suffix = f"page_{index}", 1
                while name in used:
                    suffix += 1
                    name = f"page_{index}_{suffix}"
                page.name = name
                used.add(name)
            page.items = self.drop_empty(page.items)
            if not page.questions():
                self.warnings.append(
                    f"survey sheet, row {page.row}: group '{page.name}' holds no questions and is left out"
                )
                continue
            for question in page.questions():
                question.page = page.name
            kept.append(page)
        return kept

    def drop_empty(self, items: list) -> list:
        kept = []
        for item in items:
            if isinstance(item, Section):
                item.items = self.drop_empty(item.items)
                empty = not any(True for _ in Page(name="", items=item.items).questions())
            elif isinstance(item, Grid):
                empty = not item.questions
            else:
                empty = False
            if empty:
                self.warnings.append(
                    f"survey sheet, row {item.row}: group '{item.name}' holds no questions and is left out"
                )
            else:
                kept.append(item)
        return kept


def _slug_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "survey"


def _classify(type_text: str, has_label: bool) -> tuple[str, object]:
    """(kind, detail) for a type cell; kind is a question type or begin_group, end_group, begin_repeat,
    end_repeat, metadata, unsupported or unknown."""
    text = " ".join(type_text.split())
    lower = text.lower()
    if lower in ("begin group", "begin_group"):
        return "begin_group", None
    if lower in ("end group", "end_group"):
        return "end_group", None
    if lower in ("end repeat", "end_repeat"):
        return "end_repeat", None
    if lower in ("begin repeat", "begin_repeat"):
        return "begin_repeat", None
    if lower in SIMPLE_TYPES:
        return SIMPLE_TYPES[lower], None
    if lower in PHONE_TYPES:
        return ("text", "phone") if has_label else ("metadata", None)
    if lower in METADATA_TYPES:
        return "metadata", None
    if lower in UNSUPPORTED_TYPES:
        return "unsupported", UNSUPPORTED_REASONS.get(lower, "")
    match = _SELECT.match(text)
    if match:
        keyword = " ".join(match.group(1).lower().split())
        if "file" in keyword or "external" in keyword:
            return "unsupported", "choices from a file are not supported: put them in the choices sheet"
        words = (match.group(2) or "").split()
        list_name = words[0] if words else ""
        rest = " ".join(words[1:]).lower()
        if rest and rest not in _OTHER_SUFFIXES:
            return "unknown", f"unexpected '{' '.join(words[1:])}' after the list name"
        return _SELECT_KINDS[keyword], (list_name, bool(rest))
    return "unknown", None
