"""Repeat entries as the exports and the report write them (surveys.repeats stores them as ordinary answers).

- `repeat_table`: one row per entry, keyed by the parent response's id and the entry's place (1, 2, ...): the
  wide CSV/XLSX's block (or sheet) for that repeat.
- `long_rows`: (question, repeat index, value) for the long CSV, one row per answer in an entry.
- `entry_counts`: how many entries each response has, for the report.

Frames in, tables out: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from engagement.spreadsheets import neutralise
from surveys.repeats import Repeat, entries

Answers = Mapping[str, "str | None"]


def columns(repeat: Repeat) -> list[str]:
    return [q.name for q in repeat.questions if q.answerable]


def repeat_table(repeat: Repeat, responses: Iterable[tuple[int, Answers]]) -> tuple[list[str], list[list[str | int]]]:
    """(header, rows): `response_id`, `<repeat>_index`, then one column per question of the repeat."""
    names = columns(repeat)
    header = ["response_id", f"{repeat.name}_index", *names]
    rows: list[list[str | int]] = []
    for response_id, answers in responses:
        for position, (_entry, values) in enumerate(entries(answers, repeat.name), start=1):
            rows.append([response_id, position, *[values.get(name) or "" for name in names]])
    return header, rows


def long_rows(repeat: Repeat, answers: Answers) -> Iterator[tuple[str, int, str]]:
    """(question, repeat index, value) of every answered question in every entry, in entry then form order."""
    names = columns(repeat)
    for position, (_entry, values) in enumerate(entries(answers, repeat.name), start=1):
        for name in names:
            if values.get(name):
                yield name, position, values[name]


def entry_counts(repeat: Repeat, responses: Iterable[tuple[int, Answers]]) -> dict[int, int]:
    return {response_id: len(entries(answers, repeat.name)) for response_id, answers in responses}


# --------------------------------------------------------------------------------------------- in the exports


def wide_blocks(definition, removed: set[str] = frozenset()) -> list:
    """The wide CSV/XLSX's block of columns per repeat: `<repeat>_count`, then per question `<repeat>/<name>` with
    the entries' answers in entry order, separated by " | " (the XLSX also has a sheet per repeat, one row per
    entry)."""
    blocks = []
    for repeat in definition.repeats():
        if repeat.name in removed:
            continue
        names = columns(repeat)

        def cells(answers, repeat=repeat, names=names):
            found = entries(answers, repeat.name)
            return [len(found), *[" | ".join(values.get(name) or "" for _e, values in found) or None
                                  for name in names]]

        blocks.append(([f"{repeat.name}_count", *[f"{repeat.name}/{name}" for name in names]], cells))
    return blocks


def long_export_rows(definition, response_id, answers: Answers, neutralise) -> Iterator[list]:
    """The long CSV's rows of the entries: response id, `<repeat>/<name>`, "", value, "", the entry's place."""
    for repeat in definition.repeats():
        for name, position, value in long_rows(repeat, answers):
            yield [response_id, f"{repeat.name}/{name}", "", neutralise(value), "", position]


def with_repeat_index(definition, rows: Iterator[list]) -> Iterator[list]:
    """The long CSV with a `repeat_index` column when the form has repeats (empty outside entries)."""
    if not definition.repeats():
        yield from rows
        return
    header = next(rows)
    yield [*header, "repeat_index"]
    for row in rows:
        yield row if len(row) > len(header) else [*row, ""]


class Recorded:
    """The responses as the wide rows read them, keeping each one's entries for the XLSX's repeat sheets."""

    def __init__(self, definition, responses):
        self.repeats, self.responses, self.kept, self.ids = definition.repeats(), responses, [], []

    def __iter__(self):
        for respondent, answers in self.responses:
            if self.repeats:
                self.kept.append({k: v for k, v in answers.items() if "[" in k or k.endswith("#entries")})
            yield respondent, answers

    def row_width(self, row: list, number: int) -> int:
        """Notes the response id of a wide row (the anonymised id when anonymised; row 1 is the header)."""
        if number > 1 and self.repeats:
            self.ids.append(row[0])
        return len(row)

    def add_sheets(self, workbook, cell) -> None:
        """One sheet per repeat, one row per entry, keyed by the row's response id (the anonymised id if so)."""
        for repeat in self.repeats:
            header, rows = repeat_table(repeat, zip(self.ids, self.kept, strict=True))
            sheet = workbook.create_sheet(repeat.name[:31])
            sheet.append(header)
            for row in rows:
                sheet.append([cell(neutralise(value)) for value in row])
