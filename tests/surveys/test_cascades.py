"""Cascading choices (issue 16.4): choice_filter, the external_choices sheet and choices from an uploaded CSV;
filtered on the server, refused when an answer is not among the options its filter allows."""

import io

import pytest

from engagement.extensions import db
from surveys.cascades import ChoiceFileError, offered, parse_choice_filter, read_choice_file
from surveys.models import Round, SurveyVersion
from surveys.xlsform import SurveyFileError, load_survey_file
from tests import factories

from .xlsform_builder import write_xlsform

CHOICES = [
    {"list_name": "country", "name": "ke", "label": "Kenya"},
    {"list_name": "country", "name": "ug", "label": "Uganda"},
    {"list_name": "district", "name": "nairobi", "label": "Nairobi", "country": "ke"},
    {"list_name": "district", "name": "mombasa", "label": "Mombasa", "country": "ke"},
    {"list_name": "district", "name": "kampala", "label": "Kampala", "country": "ug"},
]
FORM = [
    *factories.group(
        "place", "Place",
        {"type": "select_one country", "name": "country", "label": "Country"},
        {"type": "select_one district", "name": "district", "label": "District",
         "choice_filter": "country=${country}"},
    ),
    *factories.group(
        "more", "More",
        {"type": "select_multiple district", "name": "visited", "label": "Districts visited",
         "choice_filter": "name != ${district} and selected(${country}, country)"},
    ),
]


def load(tmp_path, survey, choices=CHOICES, files=None, **sheets):
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey, "choices": choices, **sheets})
    return load_survey_file(path, "form.xlsx", files)[1]


# ------------------------------------------------------------------------------------------------ filtering


def test_a_filter_reads_choice_columns_and_answers(tmp_path):
    definition = load(tmp_path, FORM)
    district, visited = definition.question("district"), definition.question("visited")
    assert district.choice_filter.references == {"country"}
    assert offered(district, {"country": "ke"}) == ["nairobi", "mombasa"]
    assert offered(district, {"country": "ug"}) == ["kampala"]
    assert offered(district, {}) == []
    assert offered(visited, {"country": "ke", "district": "nairobi"}) == ["mombasa"]
    assert offered(definition.question("country"), {}) == ["ke", "ug"]  # no filter: every choice


@pytest.mark.parametrize(("source", "references"), [
    ("country=${country}", {"country"}),
    ("selected(${a}, name)", {"a"}),
    ("name != ${x} and starts-with(name, 'n')", {"x"}),
    ("${size} > 2 or not(big = 'yes')", {"size"}),
])
def test_bare_names_are_choice_columns_and_functions_stay_functions(source, references):
    assert parse_choice_filter(source).references == references


def test_a_filter_naming_an_unknown_question_is_refused(tmp_path):
    survey = [{"type": "select_one district", "name": "district", "label": "District",
               "choice_filter": "country=${nowhere}"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (2, "choice_filter") and "${nowhere}" in problem.message


def test_a_filter_that_cannot_be_read_is_refused(tmp_path):
    survey = [{"type": "select_one country", "name": "c", "label": "C"},
              {"type": "select_one district", "name": "d", "label": "D", "choice_filter": "country=${c"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    assert "cannot read the choice_filter expression" in caught.value.problems[0].message


# ------------------------------------------------------------------------------------------------ external and files


def test_select_one_external_reads_the_external_choices_sheet(tmp_path):
    survey = [*FORM[1:3], {"type": "select_one_external town", "name": "town", "label": "Town",
                           "choice_filter": "district=${district}"}]
    external = [{"list_name": "town", "name": "karen", "label": "Karen", "district": "nairobi"},
                {"list_name": "town", "name": "nyali", "label": "Nyali", "district": "mombasa"}]
    definition = load(tmp_path, survey, external_choices=external)
    town = definition.question("town")
    assert town.type == "select_one" and offered(town, {"district": "mombasa"}) == ["nyali"]


def test_select_from_file_without_its_file_names_the_row_and_the_file(tmp_path):
    survey = [{"type": "text", "name": "t", "label": "T"},
              {"type": "select_one_from_file trees.csv", "name": "tree", "label": "Tree"},
              {"type": "select_multiple_from_file birds.csv", "name": "birds", "label": "Birds"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    messages = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert messages == [(3, "type", ("this question takes its choices from 'trees.csv': upload that CSV file with "
                                    "the form")),
                        (4, "type", ("this question takes its choices from 'birds.csv': upload that CSV file with "
                                    "the form"))]


def test_select_from_file_reads_the_uploaded_csv_with_its_languages(tmp_path):
    survey = [{"type": "select_multiple_from_file trees.csv", "name": "trees", "label::English (en)": "Trees",
               "label::French (fr)": "Arbres"}]
    rows = read_choice_file("trees.csv", "name,label::English (en),label::French (fr),kind\n"
                                         "oak,Oak,Chêne,broad\npine,Pine,Pin,needle\n".encode())
    definition = load(tmp_path, survey, choices=[], files={"trees.csv": rows})
    trees = definition.question("trees")
    assert trees.type == "select_multiple" and trees.choice_names() == ["oak", "pine"]
    assert trees.choices[0].label == {"en": "Oak", "fr": "Chêne"} and trees.choices[1].columns == {"kind": "needle"}


@pytest.mark.parametrize(("content", "fragment"), [
    (b"code,text\na,A\n", "needs a header row with the columns name and label"),
    (b"name,label\na,A\na,B\n", "'trees.csv', row 3: duplicate choice 'a' (already at row 2)"),
    (b"name,label\n,A\n", "'trees.csv', row 2: this choice has no name"),
    (b"name,label\n", "'trees.csv' has no choices"),
    (b"name,label\n\xff\xfe,A\n", "is not a UTF-8 text file"),
])
def test_a_bad_choices_file_is_refused_with_a_clear_message(content, fragment):
    with pytest.raises(ChoiceFileError) as caught:
        read_choice_file("trees.csv", content)
    assert fragment in str(caught.value)


def _upload(client, form_bytes, csv_files):
    data = {"file": (io.BytesIO(form_bytes), "trees.xlsx"),
            "choice_files": [(io.BytesIO(content), name) for name, content in csv_files]}
    return client.post("/secretariat/surveys", data=data, content_type="multipart/form-data")


def test_the_import_page_takes_the_csv_with_the_form(app, admin, tmp_path):
    path = write_xlsform(tmp_path / "trees.xlsx", {
        "survey": [{"type": "select_one_from_file trees.csv", "name": "tree", "label": "Tree"}],
        "settings": [{"form_id": "trees", "form_title": "Trees"}]})
    refused = _upload(admin, path.read_bytes(), [])
    assert refused.status_code == 422
    assert "upload that CSV file with the form" in refused.get_data(as_text=True)
    bad = _upload(admin, path.read_bytes(), [("trees.csv", b"code,text\na,A\n")])
    assert bad.status_code == 422 and "needs a header row" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SurveyVersion.id))) == 0
    imported = _upload(admin, path.read_bytes(), [("trees.csv", b"name,label\noak,Oak\nash,Ash\n")])
    assert imported.status_code == 303
    with app.app_context():
        from surveys.versions import definition_for
        version = db.session.scalar(db.select(SurveyVersion))
        assert definition_for(version).question("tree").choice_names() == ["oak", "ash"]


# ------------------------------------------------------------------------------------------------ answering


stored = factories.stored_answers


@pytest.fixture
def partner(client):
    return factories.started_partner(client, FORM, CHOICES)[0]


def place(country="", district="", action="next"):
    return {"country": country, "country__present": "1", "district": district, "district__present": "1",
            "action": action}


def test_without_javascript_the_page_comes_back_with_the_narrowed_options(app, client, partner):
    page = client.get(f"/s/{partner}/page/place").get_data(as_text=True)
    assert 'value="nairobi"' not in page  # nothing offered until a country is chosen
    sent = client.post(f"/s/{partner}/page/place", data=place(country="ke"))
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/page/place")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "The options of a question on this page changed" in page
    assert 'value="nairobi"' in page and 'value="mombasa"' in page and 'value="kampala"' not in page
    sent = client.post(f"/s/{partner}/page/place", data=place(country="ke", district="mombasa"))
    assert sent.headers["Location"].endswith("/page/more")
    assert stored(app)["district"] == "mombasa"
    more = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'value="nairobi"' in more and 'value="mombasa"' not in more and 'value="kampala"' not in more


def test_a_required_district_is_not_called_missing_before_its_options_were_shown(app, client):
    """Without JavaScript the district's options appear only on the page that comes back: it is not yet missing."""
    required = [*FORM[:2], {**FORM[2], "required": "yes"}, *FORM[3:]]
    partner = factories.started_partner(client, required, CHOICES)[0]
    sent = client.post(f"/s/{partner}/page/place", data=place(country="ke"))
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/page/place")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "The options of a question on this page changed" in page and "Please answer this question." not in page
    assert stored(app)["country"] == "ke"
    missing = client.post(f"/s/{partner}/page/place", data=place(country="ke"))  # now it is missing
    assert missing.status_code == 422 and "Please answer this question." in missing.get_data(as_text=True)


def test_changing_the_country_clears_a_district_it_no_longer_offers(app, client, partner):
    client.post(f"/s/{partner}/page/place", data=place(country="ke", district="nairobi"))
    sent = client.post(f"/s/{partner}/page/place", data=place(country="ug", district="nairobi"))
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/page/place")
    assert stored(app).get("country") == "ug" and "district" not in stored(app)
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert 'value="kampala"' in page and 'value="nairobi"' not in page


def test_an_answer_its_filter_does_not_allow_is_refused_and_nothing_saved(app, client, partner):
    client.post(f"/s/{partner}/page/place", data=place(country="ke", district="nairobi"))
    before = stored(app)
    refused = client.post(f"/s/{partner}/page/place", data=place(country="ke", district="kampala"))
    assert refused.status_code == 422
    assert "This option is not offered for your other answers" in refused.get_data(as_text=True)
    assert stored(app) == before
    by_hand = client.post(f"/s/{partner}/answer/district", data={"district": "kampala", "district__present": "1"},
                          headers={"HX-Request": "true"})
    assert by_hand.status_code == 422 and stored(app) == before


def test_with_javascript_an_autosave_redraws_the_options_in_place(app, client, partner):
    reply = client.post(f"/s/{partner}/answer/country", data={"country": "ug", "country__present": "1"},
                        headers={"HX-Request": "true"})
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert 'id="q-district"' in html and 'hx-swap-oob="outerHTML"' in html
    assert 'value="kampala"' in html and 'value="nairobi"' not in html


def test_filtered_answers_are_ordinary_choices_in_the_export(app, client, partner):
    client.post(f"/s/{partner}/page/place", data=place(country="ke", district="nairobi"))
    client.post(f"/s/{partner}/page/more", data={"visited": "mombasa", "visited__present": "1", "action": "next"})
    assert client.post(f"/s/{partner}/submit").status_code == 303
    columns = factories.first_exported_row(app)
    assert (columns["country"], columns["district"]) == ("ke", "nairobi")
    assert any(value in ("mombasa", "1") for key, value in columns.items() if key.startswith("visited"))
    from analysis.loader import load_round
    from analysis.report.builder import build_report

    with app.app_context():
        report = build_report(load_round(db.session, db.session.scalar(db.select(Round.id))), threshold=1)
    cells = [str(value) for section in report.sections for block in section.blocks for row in block.table.rows
             for value in row.values()]
    assert "Nairobi" in cells and "Kenya" in cells  # counted like any other choice


def test_a_bare_word_that_is_no_column_is_read_as_text_with_a_warning(tmp_path):
    colours = [{"list_name": "colours", "name": "red", "label": "Red", "pastel": "no"},
               {"list_name": "colours", "name": "mauve", "label": "Mauve", "pastel": "yes"}]
    survey = [{"type": "select_one colours", "name": "pastel_colour", "label": "Pastel", "choice_filter": "pastel=yes"}]
    definition = load(tmp_path, survey, choices=colours)
    assert offered(definition.question("pastel_colour"), {}) == ["mauve"]
    assert definition.warnings == [("survey sheet, row 2: the choice_filter reads 'yes', which is not a column of list "
                                   "'colours', as the text 'yes' (write it in quotes)")]


def test_a_filter_inside_a_table_list_group_is_refused_naming_the_row(tmp_path):
    survey = [{"type": "select_one country", "name": "country", "label": "Country"},
              {"type": "begin_group", "name": "grid", "label": "Grid", "appearance": "table-list"},
              {"type": "select_one district", "name": "d1", "label": "D1", "choice_filter": "country=${country}"},
              {"type": "select_one district", "name": "d2", "label": "D2"},
              {"type": "end_group", "name": "grid"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (4, "choice_filter") and "table-list group 'grid'" in problem.message


def test_a_filter_reading_a_registry_attribute_is_refused(tmp_path):
    survey = [{"type": "select_one district", "name": "d", "label": "D",
               "choice_filter": "country=${partner_country}"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    assert "cannot read the registry attribute ${partner_country}" in caught.value.problems[0].message


def test_the_version_page_shows_each_filter(admin, tmp_path):
    path = write_xlsform(tmp_path / "places.xlsx", {"survey": FORM, "choices": CHOICES,
                                                    "settings": [{"form_id": "places", "form_title": "Places"}]})
    imported = admin.post("/secretariat/surveys", data={"file": (io.BytesIO(path.read_bytes()), "places.xlsx")},
                          content_type="multipart/form-data")
    assert imported.status_code == 303
    page = admin.get(imported.headers["Location"]).get_data(as_text=True)
    assert "offered if <code>country=${country}</code>" in page


def test_synthetic_responses_stay_inside_the_filters(tmp_path):
    definition = load(tmp_path, FORM)
    for seed, values in enumerate(factories.synthetic_samples(definition, 20)):
        for name in ("district", "visited"):
            allowed = offered(definition.question(name), values)
            assert all(code in allowed for code in values.get(name, "").split()), (seed, name, values)


def test_a_multiple_answer_keeps_the_codes_its_filter_still_offers(app, client, partner):
    client.post(f"/s/{partner}/page/place", data=place(country="ke", district="nairobi"))
    client.post(f"/s/{partner}/page/more", data={"visited": "mombasa", "visited__present": "1", "action": "save"})
    assert stored(app)["visited"] == "mombasa"
    client.post(f"/s/{partner}/answer/district", data={"district": "mombasa", "district__present": "1"},
                headers={"HX-Request": "true"})
    assert stored(app)["district"] == "mombasa" and "visited" not in stored(app)  # mombasa is no longer offered
