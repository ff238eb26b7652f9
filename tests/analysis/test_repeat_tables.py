"""Repeat entries laid out for the exports (a block per repeat keyed by the parent response, a repeat index in the
long CSV) and counted for the report."""

from analysis.repeat_tables import entry_counts, long_rows, repeat_table
from surveys.definition import Question
from surveys.repeats import Repeat

PEOPLE = Repeat(
    name="people",
    questions=[
        Question(name="name", type="text"),
        Question(name="intro", type="note"),
        Question(name="age", type="integer"),
    ],
)
RESPONSES = [
    (11, {"people#entries": "1 3", "people[1]/name": "Ana", "people[1]/age": "7", "people[3]/name": "Ben",
          "people[2]/name": "removed, left behind"}),
    (12, {"name": "no entries here"}),
    (13, {"people#entries": "2", "people[2]/age": "40"}),
]


def test_one_row_per_entry_keyed_by_the_parent_response():
    header, rows = repeat_table(PEOPLE, RESPONSES)
    assert header == ["response_id", "people_index", "name", "age"]  # notes hold no value
    assert rows == [[11, 1, "Ana", "7"], [11, 2, "Ben", ""], [13, 1, "", "40"]]


def test_long_rows_carry_the_repeat_index():
    assert list(long_rows(PEOPLE, RESPONSES[0][1])) == [("name", 1, "Ana"), ("age", 1, "7"), ("name", 2, "Ben")]
    assert list(long_rows(PEOPLE, RESPONSES[1][1])) == []


def test_entries_are_counted_per_response():
    assert entry_counts(PEOPLE, RESPONSES) == {11: 2, 12: 0, 13: 1}
