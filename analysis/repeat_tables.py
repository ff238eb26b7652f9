"""Repeat entries as the exports and the report write them (surveys.repeats stores them as ordinary answers).

- `repeat_table`: one row per entry, keyed by the parent response's id and the entry's place (1, 2, ...): the
  wide CSV/XLSX's block (or sheet) for that repeat.
- `long_rows`: (question, repeat index, value) for the long CSV, one row per answer in an entry.
- `entry_counts`: how many entries each response has, for the report.

Frames in, tables out: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

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
