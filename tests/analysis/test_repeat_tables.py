"""Repeat entries laid out for the exports (a block per repeat keyed by the parent response, a repeat index in the
long CSV) and counted for the report."""

import pytest

from analysis.repeat_tables import entry_counts, long_rows, repeat_table
from surveys.definition import Question
from surveys.repeats import Repeat
from tests import factories

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


# --------------------------------------------------------------------------------------------- in the exports

EXPORTED = [
    {"type": "text", "name": "org", "label": "Organisation"},
    *factories.repeat("people", "Person", {"type": "text", "name": "name", "label": "Name"},
                      {"type": "integer", "name": "age", "label": "Age"}),
]


def submitted_round(app, rows: list[dict], answers: dict[str, str]) -> tuple[int, int]:
    """(round id, response id) of one response submitted with `answers` to a round of a survey made from `rows`."""
    from datetime import UTC, datetime

    from engagement.extensions import db
    from surveys.models import Invitation
    from tests.factories import invited_partner, stored_response, survey_from_rows

    with app.app_context():
        round_, _token = invited_partner(survey_from_rows(rows))
        invitation = db.session.scalars(db.select(Invitation)).one()
        response = stored_response(invitation, answers, status="submitted", language="en",
                                   started_at=datetime(2026, 11, 20, tzinfo=UTC),
                                   submitted_at=datetime(2026, 11, 21, tzinfo=UTC))
        return round_.id, response.id


def exported_round(app):
    return submitted_round(app, EXPORTED, {
        "org": "ILO", "people#entries": "1 3", "people[1]/name": "Ana", "people[1]/age": "7",
        "people[3]/name": "=Ben", "people[2]/name": "removed, left behind"})


def three_exports(app, round_id: int):
    """The round's wide CSV, long CSV (as frames) and XLSX workbook, as the Secretariat downloads them."""
    import io

    import openpyxl

    from engagement.extensions import db
    from tests.analysis.test_exports import export_bytes, read_csv

    with app.app_context():
        exports = (read_csv(export_bytes(round_id)), read_csv(export_bytes(round_id, "long")),
                   openpyxl.load_workbook(io.BytesIO(export_bytes(round_id, "xlsx"))))
        db.session.remove()
    return exports


def test_wide_long_and_xlsx_exports_carry_the_entries(app):
    round_id, response_id = exported_round(app)
    wide, long, workbook = three_exports(app, round_id)
    row = wide.iloc[0].to_dict()
    assert (row["org"], row["people_count"], row["people/name"], row["people/age"]) == ("ILO", "2", "Ana | =Ben",
                                                                                          "7 | ")
    assert list(long.columns)[-1] == "repeat_index"
    entries = long[long["question"].str.startswith("people/")][["question", "value", "repeat_index"]]
    assert entries.values.tolist() == [["people/name", "Ana", "1"], ["people/age", "7", "1"],
                                       ["people/name", "'=Ben", "2"]]
    assert long[long["question"] == "org"]["repeat_index"].tolist() == [""]
    sheet = list(workbook["people"].iter_rows(values_only=True))
    assert sheet == [("response_id", "people_index", "name", "age"), (response_id, 1, "Ana", "7"),
                     (response_id, 2, "'=Ben", None)]


def test_anonymised_xlsx_keys_entries_by_the_anonymised_id(app):
    import io
    import zipfile

    import openpyxl

    from engagement.extensions import db
    from tests.analysis.test_exports import export_bytes

    round_id, _response_id = exported_round(app)
    with app.app_context():
        data = export_bytes(round_id, "xlsx", anonymised=True, threshold=1)
        db.session.remove()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = openpyxl.load_workbook(io.BytesIO(archive.read(archive.namelist()[1])))
    responses = list(workbook["responses"].iter_rows(values_only=True))
    entries = list(workbook["people"].iter_rows(values_only=True))
    assert [row[0] for row in entries[1:]] == [responses[1][0]] * 2
    assert entries[0] == ("response_id", "people_index", "name", "age") and responses[0][0] == "response_id"


def test_the_report_counts_entries_per_repeat(app):
    from analysis.loader import load_round
    from analysis.report.builder import build_report
    from engagement.extensions import db

    round_id, _response_id = exported_round(app)
    with app.app_context():
        data = load_round(db.session, round_id)
        assert data.entries == {"people": {_response_id: 2}}
        shown = build_report(data, threshold=1)
        withheld = build_report(data, threshold=2)
        db.session.remove()
    table = next(s for s in shown.sections if s.key == "repeats").blocks[0].table
    assert table.rows == [{"item": "Person", "n": 1, "entries": 2, "mean": 2.0}]
    assert table.hidden == [set()]
    table = next(s for s in withheld.sections if s.key == "repeats").blocks[0].table
    assert table.hidden == [{"n", "entries", "mean"}]


# --------------------------------------------------------------------------------------------- a repeat in a repeat

NESTED = [
    *factories.repeat("children", "Child", {"type": "text", "name": "name", "label": "Child's name"},
                      *factories.repeat("cartoons", "Cartoon", {"type": "text", "name": "name", "label": "Cartoon"})),
]
NESTED_ANSWERS = {
    "children#entries": "1 3", "children[1]/name": "Ana", "children[3]/name": "Ben",
    "children[1]/cartoons#entries": "2 5", "children[1]/cartoons[2]/name": "Totoro",
    "children[1]/cartoons[5]/name": "Heidi", "children[3]/cartoons#entries": "1", "children[3]/cartoons[1]/name": "Nemo",
}


def nested_round(app):
    return submitted_round(app, NESTED, NESTED_ANSWERS)


def test_a_repeat_inside_a_repeat_is_exported_under_its_path_with_every_levels_place(app):
    round_id, response_id = nested_round(app)
    wide, long, workbook = three_exports(app, round_id)
    row = wide.iloc[0].to_dict()
    assert (row["children_count"], row["children/name"]) == ("2", "Ana | Ben")
    assert (row["children/cartoons_count"], row["children/cartoons/name"]) == ("3", "Totoro | Heidi | Nemo")
    inner = long[long["question"] == "children/cartoons/name"][["value", "repeat_index"]].values.tolist()
    assert inner == [["Totoro", "1.1"], ["Heidi", "1.2"], ["Nemo", "2.1"]]
    assert long[long["question"] == "children/name"]["repeat_index"].tolist() == ["1", "2"]
    assert list(workbook["children"].iter_rows(values_only=True)) == [
        ("response_id", "children_index", "name"), (response_id, 1, "Ana"), (response_id, 2, "Ben")]
    codebook = {row[0]: row for row in workbook["codebook"].iter_rows(values_only=True)}
    assert codebook["children/cartoons/name"][1:4] == ("text", None, "Cartoon")
    assert codebook["children/name"][-1] == "children/name"
    assert list(workbook["children-cartoons"].iter_rows(values_only=True)) == [
        ("response_id", "children_index", "cartoons_index", "name"), (response_id, 1, 1, "Totoro"),
        (response_id, 1, 2, "Heidi"), (response_id, 2, 1, "Nemo")]


def test_the_report_counts_the_entries_of_a_repeat_inside_a_repeat(app):
    from analysis.loader import load_round
    from analysis.report.builder import build_report
    from engagement.extensions import db

    round_id, response_id = nested_round(app)
    with app.app_context():
        data = load_round(db.session, round_id)
        assert data.entries == {"children": {response_id: 2}, "children/cartoons": {response_id: 3}}
        table = next(s for s in build_report(data, threshold=1).sections if s.key == "repeats").blocks[0].table
        db.session.remove()
    assert table.rows == [{"item": "Child", "n": 1, "entries": 2, "mean": 2.0},
                          {"item": "Child / Cartoon", "n": 1, "entries": 3, "mean": 3.0}]


# --------------------------------------------------------------------------------------------- responses in progress

COUNTED = [
    *factories.repeat("people", "Person", {"type": "text", "name": "name", "label": "Name"}),
    {"type": "text", "name": "household", "label": "Your household", "relevant": "count(${people}) > 1"},
]


def draft_household(app, answers: dict[str, str]) -> list[str]:
    """The household answers the analysis reads from one response in progress with these answers."""
    from analysis.loader import load_round
    from engagement.extensions import db
    from surveys.models import Invitation
    from tests.factories import invited_partner, stored_response, survey_from_rows

    with app.app_context():
        round_, _token = invited_partner(survey_from_rows(COUNTED))
        invitation = db.session.scalars(db.select(Invitation).filter_by(round_id=round_.id)).one()
        stored_response(invitation, answers, status="in_progress", language="en")
        answers_frame = load_round(db.session, round_.id).answers
        return list(answers_frame.loc[answers_frame["question"] == "household", "value"])


@pytest.mark.parametrize(("answers", "kept"), [
    ({"people#entries": "1 2", "people[1]/name": "Ana", "people[2]/name": "Ben", "household": "two of us"},
     ["two of us"]),
    ({"people#entries": "1", "people[1]/name": "Ana", "household": "left over"}, []),
], ids=["two-people", "one-person"])
def test_a_response_in_progress_keeps_an_answer_its_entries_show(app, answers, kept):
    """A question shown by `count(${people}) > 1` keeps its answer in the analysis of a draft with two people, and
    loses it in a draft with one (as the partner pages would drop it), through the same engine."""
    assert draft_household(app, answers) == kept
