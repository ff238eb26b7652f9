"""Repeat entries as the exports and the report write them (surveys.repeats stores them as ordinary answers).

- `repeat_table`: one row per entry, keyed by the parent response's id and the entry's place (1, 2, ...): the
  wide CSV/XLSX's block (or sheet) for that repeat.
- `long_rows`: (question, repeat index, value) for the long CSV, one row per answer in an entry.
- `entry_counts`: how many entries each response has, for the report.

A repeat inside a repeat (`cartoons` inside `children`) is exported under its path, `children/cartoons`: its entries
are keyed by the response and every level's place (`children_index`, `cartoons_index`; "1.2" in the long CSV).

Frames in, tables out: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from engagement.spreadsheets import neutralise
from surveys.repeats import Repeat, entries

Answers = Mapping[str, "str | None"]


def columns(repeat: Repeat) -> list[str]:
    return [q.name for q in repeat.questions if q.answerable]


def every_repeat(repeats: list[Repeat], within: str = "") -> list[tuple[str, Repeat]]:
    """(path, repeat) of each repeat of the form in form order, those inside a repeat after it: `children`,
    `children/cartoons`."""
    found = []
    for repeat in repeats:
        path = f"{within}{repeat.name}"
        found += [(path, repeat), *every_repeat(repeat.repeats, f"{path}/")]
    return found


def entries_at(path: str, answers: Answers) -> Iterator[tuple[tuple[int, ...], dict]]:
    """(places, answers) of every entry of the repeat at `path`, in order: places (2,) for the second entry of a
    top-level repeat, (1, 2) for the second cartoon of the first child."""
    yield from _entries_below(path.split("/"), answers, "", ())


def _entries_below(steps: list[str], answers: Answers, stored: str, places: tuple):
    if len(steps) == 1:
        for place, (_entry, values) in enumerate(entries(answers, stored + steps[0]), start=1):
            yield (*places, place), values
        return
    for place, (entry, _values) in enumerate(entries(answers, stored + steps[0]), start=1):
        yield from _entries_below(steps[1:], answers, f"{stored}{steps[0]}[{entry}]/", (*places, place))


def repeat_table(repeat: Repeat, responses: Iterable[tuple[int, Answers]],
                 path: str | None = None) -> tuple[list[str], list[list[str | int]]]:
    """(header, rows): `response_id`, `<repeat>_index` (one per level for a repeat inside a repeat), then one column
    per question of the repeat."""
    path = path or repeat.name
    names = columns(repeat)
    header = ["response_id", *[f"{step}_index" for step in path.split("/")], *names]
    rows: list[list[str | int]] = []
    for response_id, answers in responses:
        for places, values in entries_at(path, answers):
            rows.append([response_id, *places, *[values.get(name) or "" for name in names]])
    return header, rows


def long_rows(repeat: Repeat, answers: Answers, path: str | None = None) -> Iterator[tuple[str, int | str, str]]:
    """(question, repeat index, value) of every answered question in every entry, in entry then form order; the
    index of an entry inside an entry reads like a section number, "1.2"."""
    names = columns(repeat)
    for places, values in entries_at(path or repeat.name, answers):
        for name in names:
            if values.get(name):
                yield name, places[0] if len(places) == 1 else ".".join(map(str, places)), values[name]


def entry_counts(repeat: Repeat, responses: Iterable[tuple[int, Answers]], path: str | None = None) -> dict[int, int]:
    return {response_id: sum(1 for _ in entries_at(path or repeat.name, answers))
            for response_id, answers in responses}


# --------------------------------------------------------------------------------------------- in the exports


def wide_blocks(definition, removed: set[str] = frozenset()) -> list:
    """The wide CSV/XLSX's block of columns per repeat: `<repeat>_count`, then per question `<repeat>/<name>` with
    the entries' answers in entry order, separated by " | " (the XLSX also has a sheet per repeat, one row per
    entry)."""
    blocks = []
    for path, repeat in every_repeat(definition.repeats()):
        if path in removed or path.split("/")[0] in removed:
            continue
        names = columns(repeat)

        def cells(answers, path=path, repeat=repeat, names=names):
            found = [values for _places, values in entries_at(path, answers)]
            return [len(found), *[" | ".join(values.get(name) or "" for values in found) or None for name in names]]

        blocks.append(([f"{path}_count", *[f"{path}/{name}" for name in names]], cells))
    return blocks


def codebook_rows(definition, languages: list[str]) -> Iterator[list]:
    """The codebook's rows of the repeats' questions (any depth), named as the exports name them, then their choices:
    name, type, choice, labels, relevant, columns."""
    for path, repeat in every_repeat(definition.repeats()):
        for question in repeat.questions:
            if not question.answerable:
                continue
            name = f"{path}/{question.name}"
            kind = " ".join(filter(None, (question.type, question.list_name)))
            labels = [question.label.get(code, "") for code in languages]
            yield [neutralise(cell) for cell in (name, kind, "", *labels, question.relevant_source, name)]
            for choice in question.choices:
                labels = [choice.label.get(code, "") for code in languages]
                yield [neutralise(cell) for cell in (name, "", choice.name, *labels, "", "")]


def long_export_rows(definition, response_id, answers: Answers, neutralise) -> Iterator[list]:
    """The long CSV's rows of the entries: response id, `<repeat>/<name>`, "", value, "", the entry's place."""
    for path, repeat in every_repeat(definition.repeats()):
        for name, position, value in long_rows(repeat, answers, path):
            yield [response_id, f"{path}/{name}", "", neutralise(value), "", position]


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
        """One sheet per repeat, one row per entry, keyed by the row's response id (the anonymised id if so); a
        repeat inside a repeat has its own sheet (`children-cartoons`: a sheet name cannot hold "/")."""
        for path, repeat in every_repeat(self.repeats):
            header, rows = repeat_table(repeat, zip(self.ids, self.kept, strict=True), path)
            sheet = workbook.create_sheet(path.replace("/", "-")[:31])
            sheet.append(header)
            for row in rows:
                sheet.append([cell(neutralise(value)) for value in row])
