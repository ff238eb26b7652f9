"""Cascading choices: a select question's `choice_filter` (country then district), choices from the
`external_choices` sheet (`select_one_external`) and from a CSV uploaded with the form (`select_one_from_file`).

A choice filter is an ordinary expression in which a bare name (`country`, `name`) is a column of the choice being
tested and `${question}` an answer; it is evaluated on the server with the same evaluator as relevance. Bare names
are read as references under CHOICE_PREFIX, which no question name can start with.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from .expressions import Expression, ExpressionError, parse
from .expressions.tokens import OPERATOR_NAMES, tokenize

CHOICE_PREFIX = "__choice."  # a bare name in a choice filter: a column of the choice (never a question name)
MAX_CSV_BYTES = 2 * 1024 * 1024


class ChoiceFileError(ValueError):
    """A choices file that cannot be read; the message names the file and the row."""


def parse_choice_filter(source: str, columns: set[str] | None = None) -> Expression:
    """The filter as an expression whose bare names read the choice's columns; raises ExpressionError. With
    `columns` (those of the list), a bare name that is no column is read as text (`pastel=yes` as `pastel='yes'`),
    as the form's author meant: see `bare_words`."""
    tokens = tokenize(source)
    pieces, position = [], 0
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        is_call = following is not None and following.text == "("
        if token.kind == "name" and token.text not in OPERATOR_NAMES and not is_call and ":" not in token.text:
            if columns is not None and token.text not in columns:
                pieces += [source[position:token.position], "'", token.text, "'"]
            else:
                pieces += [source[position:token.position], "${", CHOICE_PREFIX, token.text, "}"]
            position = token.position + len(token.text)
    expression = parse("".join(pieces) + source[position:])
    references = {name for name in expression.references if not name.startswith(CHOICE_PREFIX)}
    return Expression(source, expression.tree, references, expression.uses_current, expression.volatile)


def bare_words(source: str, columns: set[str]) -> list[str]:
    """The bare names of a filter that are no column of its list (read as text by `parse_choice_filter`)."""
    words = []
    tokens = tokenize(source)
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (token.kind == "name" and token.text not in OPERATOR_NAMES and ":" not in token.text
                and not (following is not None and following.text == "(") and token.text not in columns):
            words.append(token.text)
    return words


def offered(question, values: Mapping[str, str]) -> list[str]:
    """The names of the choices the partner may pick given the other answers (all of them without a filter);
    "other" added by or_other is always offered."""
    if question.choice_filter is None:
        return question.choice_names()
    answers = {name: value for name, value in values.items() if value}
    names = []
    for choice in question.choices:
        if choice.name == "other" and question.or_other and not choice.columns:
            names.append(choice.name)
            continue
        row = {f"{CHOICE_PREFIX}{column}": value for column, value in choice.columns.items()}
        row[f"{CHOICE_PREFIX}name"] = choice.name
        row.setdefault(f"{CHOICE_PREFIX}label", next(iter(choice.label.values()), ""))
        try:
            if question.choice_filter.evaluate({**answers, **row}):
                names.append(choice.name)
        except ExpressionError:
            continue
    return names


def not_offered(question, value: str, values: Mapping[str, str]) -> list[str]:
    """The codes of an answer that its filter does not allow for these answers (empty when it is allowed)."""
    if question.choice_filter is None or not value:
        return []
    allowed = set(offered(question, values))
    return [code for code in value.split() if code not in allowed]


def within_filter(question, value: str | None, values: Mapping[str, str], rng) -> str | None:
    """A drawn answer kept inside its filter (synthetic responses): the allowed codes of it, else one allowed code
    drawn with `rng`, else no answer."""
    if value is None or not not_offered(question, value, values):
        return value
    allowed = offered(question, values)
    kept = [code for code in value.split() if code in allowed]
    if kept and question.type == "select_multiple":
        return " ".join(kept)
    return rng.choice(allowed) if allowed else None


def depends_on(question, names) -> bool:
    """Whether the question's options change with any of these answers."""
    return question.choice_filter is not None and bool(question.choice_filter.references & set(names))


def with_choice_files(sheets: dict) -> dict:
    """The sheets with the rows of each uploaded choices file (sheets["files"]) added to the choices sheet, under
    the file's name as list name."""
    files = sheets.get("files") or {}
    if not files:
        return sheets
    extra = [{**row, "list_name": filename} for filename, rows in files.items() for row in rows]
    return {**sheets, "choices": [*(sheets.get("choices") or []), *extra]}


def filter_references(questions) -> list[str]:
    """The answers the choice filters of these questions read, in order."""
    names: list[str] = []
    for question in questions:
        if question.choice_filter is not None:
            names += [name for name in sorted(question.choice_filter.references) if name not in names]
    return names


def stale_answers(definition, stored: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """Stored answers that the changes leave outside their filter: the codes no longer offered removed (None when
    none is left)."""
    if not changes:
        return {}
    after = {**stored, **changes}
    after = {name: value for name, value in after.items() if value}
    cleared: dict[str, str | None] = {}
    for question in definition.filtered_questions():
        if question.name in changes or not depends_on(question, changes):
            continue
        value = after.get(question.name, "")
        refused = not_offered(question, value, after)
        if refused:
            kept = " ".join(code for code in value.split() if code not in refused)
            cleared[question.name] = kept or None  # a select_multiple keeps the codes still offered
            if question.or_other and "other" in refused:
                cleared[question.other_name] = None
    return cleared


def is_choice_file(list_name: str) -> bool:
    """Whether a list name is a file's (select_one_from_file trees.csv)."""
    return list_name.lower().endswith((".csv", ".xml", ".geojson", ".txt"))


def read_choice_file(filename: str, data: bytes) -> list[dict]:
    """The rows of an uploaded choices CSV as choices-sheet rows ({column: text, "_row": n}); raises
    ChoiceFileError naming the file and the row."""
    if len(data) > MAX_CSV_BYTES:
        raise ChoiceFileError(f"'{filename}' is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ChoiceFileError(f"'{filename}' is not a UTF-8 text file (save it as CSV UTF-8)") from error
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [cell.strip() for cell in next(reader, [])]
    if "name" not in header or not any(h == "label" or h.startswith("label:") for h in header):
        raise ChoiceFileError(f"'{filename}' needs a header row with the columns name and label "
                              f"(or label::Language); it has: {', '.join(h for h in header if h) or 'nothing'}")
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise ChoiceFileError(f"'{filename}' has the column {duplicates[0]} twice")
    rows, seen = [], {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise ChoiceFileError(f"'{filename}', row {number}: {len(cells)} values for {len(header)} columns")
        row = {column: cell.strip() for column, cell in zip(header, cells, strict=False) if column}
        name = row.get("name", "")
        if not name:
            raise ChoiceFileError(f"'{filename}', row {number}: this choice has no name")
        if name in seen:
            raise ChoiceFileError(f"'{filename}', row {number}: duplicate choice '{name}' (already at row "
                                  f"{seen[name]})")
        seen[name] = number
        rows.append({**row, "_row": number})
    if not rows:
        raise ChoiceFileError(f"'{filename}' has no choices")
    return rows
