"""calculate and hidden rows, read-only calculations, ${name} in labels and expression defaults (issue 16.2): the
server works the values out whenever an answer they read changes, stores them with the response and exports them."""

import pytest
from markupsafe import Markup

from engagement.extensions import db
from surveys.wording import filled
from surveys.xlsform import SurveyFileError, load_survey_file
from tests import factories

from .xlsform_builder import write_xlsform

FORM = [
    *factories.group(
        "first", "First",
        {"type": "integer", "name": "men", "label": "Men"},
        {"type": "integer", "name": "women", "label": "Women"},
        {"type": "calculate", "name": "total", "calculation": "coalesce(${men}, 0) + coalesce(${women}, 0)"},
        {"type": "calculate", "name": "share", "label": "Share of women (%)",
         "calculation": "if(${total} > 0, round(${women} div ${total} * 100, 1), '')"},
        {"type": "select_one yn", "name": "member", "label": "Member?"},
        {"type": "calculate", "name": "member_label", "calculation": "jr:choice-name(${member}, '${member}')"},
        {"type": "hidden", "name": "source", "default": "web"},
        {"type": "date", "name": "started", "label": "Started", "default": "today()"},
    ),
    *factories.group(
        "second", "Second",
        {"type": "note", "name": "summary", "label": "You told us about ${total} staff (${member_label})."},
        {"type": "decimal", "name": "double", "label": "Twice the staff", "calculation": "${total} * 2",
         "read_only": "yes"},
        {"type": "text", "name": "why", "label": "Why ${total}?", "relevant": "${total} > 10"},
    ),
]


def load(tmp_path, survey):
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey, "choices": factories.YES_NO})
    return load_survey_file(path, "form.xlsx")[1]


def test_calculations_import_and_are_never_asked(tmp_path):
    questions = {q.name: q for q in load(tmp_path, FORM).questions()}
    assert questions["total"].type == "calculate" and not questions["total"].editable
    assert not questions["total"].displayed and questions["share"].displayed
    assert questions["double"].read_only and not questions["double"].editable
    assert questions["source"].default == "web"
    assert questions["started"].default_expression.source == "today()"


@pytest.mark.parametrize(
    ("rows", "column", "fragment"),
    [
        ([{"type": "calculate", "name": "c"}], "type", "calculate 'c' needs a calculation"),
        ([{"type": "calculate", "name": "a", "calculation": "${b} + 1"},
          {"type": "calculate", "name": "b", "calculation": "${a} + 1"}], "calculation", "depends on itself (a → b → a)"),
        ([{"type": "calculate", "name": "c", "calculation": "${nowhere}"}], "calculation",
         "refers to ${nowhere}, which is not a question"),
        ([{"type": "text", "name": "t", "label": "T", "read_only": "perhaps"}], "read_only",
         "read_only must be yes or no"),
        ([{"type": "text", "name": "t", "label": "T", "default": "upper(x)"}], "default", "unknown function 'upper()'"),
    ],
)
def test_refused_calculations_name_the_cell(tmp_path, rows, column, fragment):
    survey = [{"type": "text", "name": "q", "label": "Q"}, *rows]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    problem = caught.value.problems[0]
    assert (problem.sheet, problem.row, problem.column) == ("survey", 3, column)
    assert fragment in problem.message


@pytest.fixture
def partner(client):
    return factories.started_partner(client, FORM, factories.YES_NO)[0]


stored = factories.stored_answers


def first(men="8", women="4", member="yes", **extra):
    return {"men": men, "men__present": "1", "women": women, "women__present": "1", "member": member,
            "member__present": "1", "started__present": "1", "action": "next", **extra}


def test_start_stores_hidden_values_and_expression_defaults(app, partner):
    from datetime import date
    values = stored(app)
    assert values["source"] == "web" and values["started"] == date.today().isoformat()
    assert values["total"] == "0"


def test_without_javascript_calculations_follow_the_answers_they_read(app, client, partner):
    started = stored(app)["started"]
    sent = client.post(f"/s/{partner}/page/first", data=first(started=started))
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/page/second")
    values = stored(app)
    assert (values["total"], values["share"], values["member_label"], values["double"]) == ("12", "33.3", "Yes", "24")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "You told us about 12 staff (Yes)." in page
    assert "Why 12?" in page  # shown because the total is over 10, its label filled in
    assert "<output" in page and ">24</output>" in page and 'name="double"' not in page
    first_page = client.get(f"/s/{partner}/page/first").get_data(as_text=True)
    assert "Share of women (%)" in first_page and ">33.3</output>" in first_page and 'name="total"' not in first_page
    client.post(f"/s/{partner}/page/first", data=first(men="2", women="", started=started))
    values = stored(app)
    assert values["total"] == "2" and "share" not in values  # 0 women of 2: the share is no longer computed


def test_a_partner_cannot_post_a_computed_value(app, client, partner):
    client.post(f"/s/{partner}/page/first", data=first(total="999", total__present="1"))
    assert stored(app)["total"] == "12"
    assert client.post(f"/s/{partner}/answer/total", data={"total": "1"}).status_code == 404
    assert client.post(f"/s/{partner}/answer/double", data={"double": "1"}).status_code == 404


def test_computed_values_are_columns_of_the_export(app, client, partner):
    started = stored(app)["started"]
    client.post(f"/s/{partner}/page/first", data=first(started=started))
    client.post(f"/s/{partner}/page/second", data={"why": "Growth", "why__present": "1", "action": "next"})
    assert client.post(f"/s/{partner}/submit").status_code == 303
    columns = factories.first_exported_row(app)
    assert (columns["total"], columns["share"], columns["member_label"], columns["double"]) == ("12", "33.3", "Yes",
                                                                                              "24")
    assert columns["source"] == "web"


def test_with_javascript_an_autosave_redraws_the_calculation_it_changed(app, client, partner):
    reply = client.post(f"/s/{partner}/answer/women", data={"women": "4", "women__present": "1"},
                        headers={"HX-Request": "true"})
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert 'id="q-share"' in html and 'hx-swap-oob="outerHTML"' in html and ">100</output>" in html
    assert stored(app)["total"] == "4" and stored(app)["share"] == "100"


def test_two_autosaves_in_flight_compute_the_calculation_from_both_answers(app, partner):
    """Men and women autosaved at once (a partner tabbing on a slow line): each request read the answers before the
    other saved, and the later write works the calculations out again from what is stored by then."""
    from surveys.respondent import open_visit, save_page

    with app.test_request_context():
        for_men, for_women = open_visit(partner), open_visit(partner)  # both read before either saves
        assert save_page(for_men, {"men": "8"}, current_page=None, clean_hidden=False)
        assert save_page(for_women, {"women": "4"}, current_page=None, clean_hidden=False)
        assert (for_women.values["men"], for_women.values["total"], for_women.values["share"]) == ("8", "12", "33.3")
    assert (stored(app)["total"], stored(app)["share"]) == ("12", "33.3")


def test_synthetic_responses_carry_their_calculations(tmp_path):
    definition = load(tmp_path, FORM)
    for values in factories.synthetic_samples(definition, 5):
        men, women = (int(values.get(name) or 0) for name in ("men", "women"))
        assert values["total"] == str(men + women)
        assert values["double"] == str((men + women) * 2)


def test_a_label_showing_an_unknown_name_imports_with_a_warning_and_shows_it_empty(tmp_path):
    """Form generators such as HOT's FMTM leave names in labels for their own tools to fill in: not a fault."""
    survey = [{"type": "text", "name": "q", "label": "Q"},
              {"type": "note", "name": "n", "label": "You said ${q}, and ${nothing}."}]
    definition = load(tmp_path, survey)
    assert ("survey sheet, row 3, column label: the label shows ${nothing}, which is not a question of this form: "
            "it stays empty here") in definition.warnings
    assert str(filled(Markup("You said ${q}, and ${nothing}."), {"q": "yes"})) == "You said yes, and ."


def test_an_unknown_name_in_an_expression_is_still_refused(tmp_path):
    survey = [{"type": "text", "name": "q", "label": "Q"},
              {"type": "note", "name": "n", "label": "N", "relevant": "${nothing} = 'yes'"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, "relevant")
    assert "refers to ${nothing}, which is not a question of this form" in problem.message


def test_a_label_showing_ignored_metadata_imports_with_a_warning(tmp_path):
    survey = [{"type": "username", "name": "username"}, {"type": "note", "name": "n", "label": "Hello ${username}"}]
    definition = load(tmp_path, survey)
    assert any("the label shows ${username}, a metadata field (username) that stays empty here" in warning
               for warning in definition.warnings)


def test_a_page_holding_only_unlabelled_calculations_is_not_a_screen(app, client):
    survey = [{"type": "begin_group", "name": "ask", "label": "Ask"},
              {"type": "integer", "name": "n", "label": "How many?"},
              {"type": "end_group", "name": "ask"},
              {"type": "begin_group", "name": "work", "label": "Work"},
              {"type": "calculate", "name": "twice", "calculation": "${n} * 2"},
              {"type": "end_group", "name": "work"}]
    token = factories.partner_token(app, survey, factories.YES_NO)
    client.get(f"/s/{token}")
    client.post(f"/s/{token}/start")
    sent = client.post(f"/s/{token}/page/ask", data={"n": "3", "n__present": "1", "action": "next"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/review")
    assert stored(app)["twice"] == "6"
    assert client.post(f"/s/{token}/submit").status_code == 303


def test_without_javascript_a_question_shown_by_a_calculation_on_the_same_page_is_shown_before_moving_on(app, client):
    survey = [{"type": "begin_group", "name": "ask", "label": "Ask"},
              {"type": "integer", "name": "men", "label": "Men"},
              {"type": "integer", "name": "women", "label": "Women"},
              {"type": "calculate", "name": "total", "calculation": "${men} + ${women}"},
              {"type": "text", "name": "why", "label": "Why so many?", "relevant": "${total} > 10"},
              {"type": "end_group", "name": "ask"}]
    token = factories.partner_token(app, survey, factories.YES_NO)
    client.get(f"/s/{token}")
    client.post(f"/s/{token}/start")
    data = {"men": "8", "men__present": "1", "women": "4", "women__present": "1", "action": "next"}
    sent = client.post(f"/s/{token}/page/ask", data=data)
    assert sent.status_code == 303 and sent.headers["Location"] == f"/s/{token}/page/ask?new=why#new-questions"
    assert stored(app)["total"] == "12"
    # With JavaScript, the autosave of an answer that brings the total under 11 hides the question in place.
    reply = client.post(f"/s/{token}/answer/women", data={"women": "1", "women__present": "1"},
                        headers={"HX-Request": "true"})
    assert 'id="q-why"' in reply.get_data(as_text=True) and stored(app)["total"] == "9"


def test_the_long_csv_and_the_workbook_carry_the_computed_values(app, client, partner, analyst):
    """The long CSV has a row per computed value and the XLSX a column for each, numbers as numbers."""
    import csv
    import io

    import openpyxl

    from surveys.models import Round

    started = stored(app)["started"]
    client.post(f"/s/{partner}/page/first", data=first(started=started))
    client.post(f"/s/{partner}/page/second", data={"why": "Growth", "why__present": "1", "action": "next"})
    assert client.post(f"/s/{partner}/submit").status_code == 303
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    long = analyst.get(f"/secretariat/rounds/{round_id}/export-long.csv?bom=0").get_data(as_text=True)
    rows = [row[1:4] for row in csv.reader(io.StringIO(long))]
    for expected in (["total", "", "12"], ["share", "", "33.3"], ["member_label", "", "Yes"], ["double", "", "24"],
                     ["source", "", "web"]):
        assert expected in rows
    book = openpyxl.load_workbook(io.BytesIO(analyst.get(f"/secretariat/rounds/{round_id}/export.xlsx").data))
    sheet = list(book["responses"].iter_rows(values_only=True))
    row = dict(zip(sheet[0], sheet[1], strict=False))
    assert (row["total"], row["share"], row["member_label"], row["double"], row["source"]) == (12, 33.3, "Yes", 24,
                                                                                           "web")
