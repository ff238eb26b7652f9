"""Forms written as Kobo, ODK and SurveyCTO users write them (issue 16): expressions, regex() checks and conditional
required import, and are applied on the server for a partner without JavaScript; a fault is refused naming the
sheet, row, column and what is wrong."""

import pytest

from engagement.extensions import db
from surveys.models import Answer
from surveys.xlsform import SurveyFileError, load_survey_file
from tests import factories

from .xlsform_builder import write_xlsform

EMAIL_PATTERN = "regex(., '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$')"
FORM = [
    {"type": "begin_group", "name": "first", "label": "First"},
    {"type": "select_one yn", "name": "member", "label": "Are you a member?", "required": "yes"},
    {"type": "text", "name": "why", "label": "Why?", "required": "${member} = 'yes'",
     "required_message": "Members tell us why."},
    {"type": "integer", "name": "staff", "label": "Staff", "constraint": ". >= 0 and . mod 1 = 0 and . < 10 * 1000"},
    {"type": "integer", "name": "women", "label": "Women among them",
     "constraint": ". <= ../staff and (${staff} - .) >= 0", "constraint_message": "At most the number of staff."},
    {"type": "text", "name": "email", "label": "E-mail", "constraint": EMAIL_PATTERN,
     "constraint_message": "Please give an e-mail address."},
    {"type": "end_group", "name": "first"},
    {"type": "begin_group", "name": "second", "label": "Second"},
    {"type": "text", "name": "anything", "label": "Anything else?"},
    {"type": "end_group", "name": "second"},
]


def load(tmp_path, survey, choices=()):
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey, "choices": list(choices) or factories.YES_NO})
    return load_survey_file(path, "form.xlsx")[1]


def problems_of(tmp_path, survey, choices=()):
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey, choices)
    return [(p.sheet, p.row, p.column, p.message) for p in caught.value.problems]


def test_a_form_with_arithmetic_regex_and_conditional_required_imports(tmp_path):
    definition = load(tmp_path, FORM)
    questions = {q.name: q for q in definition.questions()}
    why = questions["why"]
    assert not why.required and why.required_when.source == "${member} = 'yes'"
    assert why.is_required({"member": "yes"}) and not why.is_required({"member": "no"})
    assert questions["member"].is_required({})
    assert questions["women"].constraint.references == {"staff"}
    assert questions["email"].constraint.evaluate({}, "ana@example.org")
    assert not questions["email"].constraint.evaluate({}, "ana at example")


def test_an_unknown_function_is_refused_naming_sheet_row_column_and_function(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A"},
              {"type": "text", "name": "b", "label": "B", "constraint": "pulldata('codes', 'name', 'key', .) != ''",
               "relevant": "upper(${a})"}]
    problems = problems_of(tmp_path, survey)
    by_column = {column: (sheet, number, message) for sheet, number, column, message in problems}
    assert len(problems) == 2
    assert by_column["constraint"][:2] == by_column["relevant"][:2] == ("survey", 3)
    assert "unknown function 'pulldata()' at character 1" in by_column["constraint"][2]
    assert "unknown function 'upper()' at character 1" in by_column["relevant"][2]


def test_a_regex_that_a_safe_engine_cannot_run_is_refused_at_import(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A", "constraint": "regex(., '^(?!test).*')"}]
    [(sheet, row, column, message)] = problems_of(tmp_path, survey)
    assert (sheet, row, column) == ("survey", 2, "constraint")
    assert "back-references and look-arounds are not supported" in message


def test_conditional_required_that_cannot_be_read_names_the_cell(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A", "required": "${a} ="}]
    [(_sheet, row, column, message)] = problems_of(tmp_path, survey)
    assert (row, column) == (2, "required")
    assert "required must be yes, no or a condition" in message and "unexpected end of expression" in message


@pytest.fixture
def partner(client):
    return factories.started_partner(client, FORM, factories.YES_NO)[0]


stored = factories.stored_answers


def page(member="yes", why="", staff="10", women="4", email="ana@example.org"):
    return {"member": member, "member__present": "1", "why": why, "why__present": "1", "staff": staff,
            "staff__present": "1", "women": women, "women__present": "1", "email": email, "email__present": "1",
            "action": "next"}


def test_without_javascript_conditional_required_holds_the_partner_with_its_message(app, client, partner):
    refused = client.post(f"/s/{partner}/page/first", data=page(member="yes"))
    assert refused.status_code == 422
    assert "Members tell us why." in refused.get_data(as_text=True)
    assert "why" not in stored(app)
    moved = client.post(f"/s/{partner}/page/first", data=page(member="no"))
    assert moved.status_code == 303 and moved.headers["Location"].endswith("/page/second")
    assert stored(app)["member"] == "no"


def test_without_javascript_arithmetic_and_regex_constraints_are_checked(app, client, partner):
    too_many = client.post(f"/s/{partner}/page/first", data=page(member="no", women="12"))
    assert too_many.status_code == 422 and "At most the number of staff." in too_many.get_data(as_text=True)
    assert "women" not in stored(app)
    bad_email = client.post(f"/s/{partner}/page/first", data=page(member="no", email="ana at example"))
    assert bad_email.status_code == 422 and "Please give an e-mail address." in bad_email.get_data(as_text=True)
    assert stored(app)["email"] == "ana@example.org"  # the earlier, valid address is kept, not the refused one
    fine = client.post(f"/s/{partner}/page/first", data=page(member="yes", why="Evidence"))
    assert fine.status_code == 303
    assert {k: stored(app)[k] for k in ("why", "women", "email")} == {
        "why": "Evidence", "women": "4", "email": "ana@example.org"}


def test_submission_waits_for_a_question_required_by_an_earlier_answer(app, client, partner):
    client.post(f"/s/{partner}/page/first", data=page(member="no"))
    client.post(f"/s/{partner}/page/second", data={"anything": "", "anything__present": "1", "action": "next"})
    with app.app_context():  # the answer changes behind the page (another tab): "why" is now needed
        db.session.execute(db.update(Answer).where(Answer.question == "member").values(value="yes"))
        db.session.commit()
    submitted = client.post(f"/s/{partner}/submit")
    assert submitted.status_code == 422
    assert 'href="#' in submitted.get_data(as_text=True) or "Why?" in submitted.get_data(as_text=True)
    assert "Why?" in submitted.get_data(as_text=True)
    client.post(f"/s/{partner}/page/first", data=page(member="no"))
    assert client.post(f"/s/{partner}/submit").status_code == 303


def test_a_subtraction_imports_instead_of_being_called_a_missing_parenthesis(tmp_path):
    survey = [{"type": "integer", "name": "staff", "label": "Staff"},
              {"type": "integer", "name": "women", "label": "Women", "constraint": "(${staff} - .) >= 0"},
              {"type": "integer", "name": "men", "label": "Men", "constraint": "${staff}-${women}-. = 0"}]
    questions = {q.name: q for q in load(tmp_path, survey).questions()}
    assert questions["women"].constraint.evaluate({"staff": "10"}, "4")
    assert not questions["women"].constraint.evaluate({"staff": "3"}, "4")
    assert questions["men"].constraint.evaluate({"staff": "10", "women": "4"}, "6")


def test_surveycto_value_column_names_the_choices(tmp_path):
    choices = [{"list_name": "yn", "value": "1", "label": "Yes"}, {"list_name": "yn", "value": "0", "label": "No"}]
    definition = load(tmp_path, [{"type": "select_one yn", "name": "a", "label": "A"}], choices)
    assert definition.questions()[0].choice_names() == ["1", "0"]


def test_three_columns_headed_label_are_named_as_such(tmp_path):
    path = write_xlsform(tmp_path / "labels.xlsx", {
        "survey": [["type", "name", "label", "label", "label"], ["text", "a", "Name", "Nom", "Nombre"]]})
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path, "labels.xlsx")
    [problem] = caught.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("survey", 1, "label")
    assert "more than one column is headed 'label' (columns C and D)" in problem.message
    assert "label::French (fr)" in problem.message and "workbook" not in problem.message
