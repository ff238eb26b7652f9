"""Reading a form file (.xlsx or .xls workbook, native YAML) into plain sheets, and sheets into normalised rows;
Problem and SurveyFileError, in which every step reports what is wrong with a form.

Files, their formats and their safety limits (size, zip bombs) live here, so that building never sees a file and a
stored form is rebuilt from its sheets alone.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import yaml

from .xlsform_vocabulary import SHEETS, TEXT_COLUMNS, Language, parse_language, split_column

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 500


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
        duplicates = _duplicate_headers(data) if "Duplicate column header" in str(error) else []
        if duplicates:
            raise SurveyFileError(duplicates) from error
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


def _duplicate_headers(data: bytes) -> list[Problem]:
    """Columns headed the same way twice in one sheet (three `label` columns for three languages, say), by name."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception:  # noqa: BLE001 - an .xls file, or one openpyxl cannot open: the generic message stays
        return []
    problems = []
    for sheet in workbook.worksheets:
        seen: dict[str, int] = {}
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        for index, value in enumerate(header):
            text = str(value).strip() if value is not None else ""
            if text and text in seen and seen[text] >= 0:
                problems.append(Problem(
                    sheet.title, 1, text,
                    f"more than one column is headed '{text}' (columns {_letter(seen[text])} and {_letter(index)}): "
                    f"give each its own header, such as {text}::English (en) and {text}::French (fr) for "
                    "translations"))
                seen[text] = -1
            elif text:
                seen.setdefault(text, index)
    workbook.close()
    return problems


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _cell_text(value) -> str:
    return value if isinstance(value, str) else str(value)


class _TextLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML that keeps every scalar as written: `yes` stays the choice code "yes", `1.10` stays "1.10". libyaml's
    parser when PyYAML has it (more than ten times faster on the default survey; it refuses nesting deeper than
    1000 with a ScannerError), the pure-Python one otherwise."""


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
class Row:
    """One row of a sheet, its columns under their canonical names and its texts by language."""

    sheet: str
    number: int
    values: dict[str, str]  # canonical column -> text
    texts: dict[str, dict[str | None, str]]  # label/hint/... -> language (None: plain column) -> text
    headers: dict[str, str]  # canonical column -> the header as the form writes it

    def header(self, column: str, language: str | None = None) -> str:
        return self.headers.get(f"{column}::{language}" if language else column, column)


def normalise_sheets(sheets: dict) -> tuple[dict[str, list[Row]], dict[str, Language]]:
    """The rows of each sheet, and the languages their text columns name in order of appearance (the settings
    sheet's own columns, such as form_title::French (fr), add no language to the form)."""
    languages: dict[str, Language] = {}
    rows = {sheet: [_normalise(sheet, row, languages) for row in sheets.get(sheet) or []] for sheet in SHEETS}
    return rows, languages


def _normalise(sheet: str, raw: dict, languages: dict[str, Language]) -> Row:
    row = Row(sheet, int(raw.get("_row") or 0), {}, {}, {})
    for header, value in raw.items():
        if header == "_row" or value is None:
            continue
        value = str(value).strip()
        if not value:
            continue
        base, language = split_column(str(header))
        if base in TEXT_COLUMNS:
            code = None
            if language:
                found = parse_language(language)
                if sheet != "settings":
                    found = languages.setdefault(found.code, found)
                code = found.code
            row.texts.setdefault(base, {}).setdefault(code, value)
            row.headers.setdefault(f"{base}::{code}" if code else base, str(header))
        elif base not in row.values:
            row.values[base] = value
            row.headers[base] = str(header)
    if sheet == "choices" and "value" in row.values and "name" not in row.values:  # SurveyCTO's name for `name`
        row.values["name"] = row.values.pop("value")
        row.headers["name"] = row.headers.pop("value")
    return row
