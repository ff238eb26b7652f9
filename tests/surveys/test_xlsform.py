"""Reading XLSForms and the native YAML format into a SurveyDefinition, and refusing broken forms clearly."""

import io
import json
import zipfile

import pytest

from surveys.definition import Grid, Page, Question, Section
from surveys.xlsform import Problem, SurveyFileError, build_definition, load_survey_file, read_sheets

from .xlsform_builder import write_xlsform

YES_NO = [
    {"list_name": "yes_no", "name": "yes", "label": "Yes"},
    {"list_name": "yes_no", "name": "no", "label": "No"},
]
SERVICES = [
    {"list_name": "services", "name": "website", "label": "Website"},
    {"list_name": "services", "name": "newsletter", "label": "Newsletter"},
    {"list_name": "services", "name": "events", "label": "Events"},
]
SAT = [{"list_name": "sat", "name": str(n), "label": f"Level {n}"} for n in range(1, 6)]


def load(tmp_path, survey, choices=(), settings=None, filename="form.xlsx"):
    sheets = {"survey": list(survey)}
    if choices:
        sheets["choices"] = list(choices)
    if settings is not None:
        sheets["settings"] = [settings]
    path = write_xlsform(tmp_path / filename, sheets)
    return load_survey_file(path, filename)


def problems_of(tmp_path, survey, choices=(), settings=None) -> list[Problem]:
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey, choices, settings)
    return caught.value.problems


FULL_SURVEY = [
    {"type": "note", "name": "welcome", "label": "Welcome"},
    {"type": "begin_group", "name": "profile", "label": "Profile", "hint": "About you"},
    {
        "type": "select_one yes_no",
        "name": "member",
        "label": "Member?",
        "required": "yes",
        "default": "${partner_gcg_member}",
    },
    {
        "type": "select_multiple services or_other",
        "name": "used",
        "label": "Services used",
        "relevant": "${member} = 'yes' or ${partner_category} = 'un'",
        "constraint": "count-selected(.) <= 2",
        "constraint_message": "Two at most",
    },
    {"type": "text", "name": "comment", "label": "Comment", "hint": "Optional"},
    {"type": "integer", "name": "years", "label": "Years", "constraint": ". >= 0"},
    {"type": "decimal", "name": "share", "label": "Share"},
    {"type": "date", "name": "joined", "label": "Joined"},
    {"type": "range", "name": "score", "label": "Score", "parameters": "start=0 end=10 step=2"},
    {"type": "rank services", "name": "top", "label": "Rank the services"},
    {
        "type": "begin_group",
        "name": "pathfinder",
        "label": "Pathfinder",
        "relevant": "${partner_pathfinder} = 'yes'",
    },
    {"type": "text", "name": "roadmap", "label": "Roadmap stage"},
    {"type": "begin_group", "name": "satisfaction", "label": "Satisfaction", "appearance": "table-list"},
    {"type": "select_one sat", "name": "sat_workshop", "label": "Workshop"},
    {"type": "select_one sat", "name": "sat_guidance", "label": "Guidance", "relevant": "${roadmap} != ''"},
    {"type": "end_group"},
    {"type": "end_group"},
    {"type": "end_group"},
    {
        "type": "begin_group",
        "name": "importance",
        "label": "Importance",
        "appearance": "table-list",
        "relevant": "selected(${partner_action_groups}, 'migration')",
    },
    {"type": "select_multiple yes_no", "name": "imp_a", "label": "A"},
    {"type": "select_multiple yes_no", "name": "imp_b", "label": "B"},
    {"type": "end_group"},
    {"type": "text", "name": "final", "label": "Anything else?"},
]
FULL_CHOICES = YES_NO + SERVICES + SAT
FULL_SETTINGS = {"form_title": "Partner survey", "form_id": "partner_survey", "version": "2024-1"}


def check_full_definition(definition, first_row):
    """first_row: 2 in a workbook (row 1 is the header), 1 in YAML (the first item of the list)."""
    assert definition.form_id == "partner_survey"
    assert definition.title == {"en": "Partner survey"}
    assert definition.version == "2024-1"
    assert definition.default_language == "en"
    assert definition.languages == ["en"]
    assert [page.name for page in definition.pages] == ["page_1", "profile", "importance", "page_4"]
    assert [q.name for q in definition.questions()] == [
        "welcome",
        "member",
        "used",
        "comment",
        "years",
        "share",
        "joined",
        "score",
        "top",
        "roadmap",
        "sat_workshop",
        "sat_guidance",
        "imp_a",
        "imp_b",
        "final",
    ]
    profile = definition.page("profile")
    assert profile.label == {"en": "Profile"} and profile.hint == {"en": "About you"}
    pathfinder = profile.items[-1]
    assert isinstance(pathfinder, Section) and pathfinder.relevant_source == "${partner_pathfinder} = 'yes'"
    grid = pathfinder.items[-1]
    assert isinstance(grid, Grid) and [c.name for c in grid.choices] == ["1", "2", "3", "4", "5"]
    assert [q.grid for q in grid.questions] == ["satisfaction", "satisfaction"]

    member = definition.question("member")
    assert (
        member.required
        and member.default == "${partner_gcg_member}"
        and member.choice_names() == ["yes", "no"]
    )
    used = definition.question("used")
    assert used.or_other and used.choice_names() == ["website", "newsletter", "events", "other"]
    assert used.other_name == "used_other"
    assert used.relevant.references == {"member", "partner_category"}
    assert used.constraint.evaluate({}, "website events") and not used.constraint.evaluate({}, "a b c")
    assert used.constraint_message == {"en": "Two at most"}
    assert definition.question("score").range_bounds == (0.0, 10.0, 2.0)
    assert definition.question("top").type == "rank"
    assert definition.question("welcome").page == "page_1" and not definition.question("welcome").answerable

    guidance = definition.question("sat_guidance")
    assert guidance.page == "profile" and guidance.row == first_row + 14
    assert [c.source for c in guidance.conditions] == ["${partner_pathfinder} = 'yes'"]
    assert guidance.relevant_source == "${roadmap} != ''"

    importance = definition.page("importance")
    assert importance.relevant_source == "selected(${partner_action_groups}, 'migration')"
    assert isinstance(importance.items[0], Grid) and importance.items[0].label == {"en": "Importance"}
    assert [c.source for c in definition.question("imp_a").conditions] == [importance.relevant_source]
    assert definition.question("final").page == "page_4"
    assert definition.warnings == []


def test_full_form_from_xlsx(tmp_path):
    sheets, definition = load(tmp_path, FULL_SURVEY, FULL_CHOICES, FULL_SETTINGS)
    check_full_definition(definition, 2)
    assert sheets["survey"][0] == {"type": "note", "name": "welcome", "label": "Welcome", "_row": 2}
    assert sheets["source"] == {"filename": "form.xlsx", "format": "xlsx"}


def test_stored_sheets_rebuild_the_same_definition(tmp_path):
    sheets, definition = load(tmp_path, FULL_SURVEY, FULL_CHOICES, FULL_SETTINGS)
    rebuilt = build_definition(json.loads(json.dumps(sheets)))
    assert rebuilt.questions() == definition.questions()
    assert rebuilt.pages == definition.pages


def test_full_form_from_yaml():
    import yaml

    document = {"settings": FULL_SETTINGS, "survey": FULL_SURVEY, "choices": FULL_CHOICES}
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    sheets, definition = load_survey_file(text.encode(), "partner_survey.yaml")
    check_full_definition(definition, 1)
    assert sheets["source"]["format"] == "yaml"
    assert sheets["survey"][0]["_row"] == 1


def test_yaml_keeps_codes_as_written():
    text = """
settings:
  form_title: Oui ou non
survey:
  - {type: select_one yn, name: q, label: Q, required: yes, default: no}
  - {type: range, name: r, label: R, parameters: start=1.10 end=2}
choices:
  - {list_name: yn, name: yes, label: Yes}
  - {list_name: yn, name: no, label: No}
  - {list_name: yn, name: 1.10, label: 1.10}
"""
    _, definition = load_survey_file(text.encode(), "yes_no.yml")
    question = definition.question("q")
    assert question.choice_names() == ["yes", "no", "1.10"]
    assert question.required and question.default == "no"
    assert definition.form_id == "yes_no"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("survey: [", "not valid YAML at line"),
        ("- just a list", "must be a mapping"),
        ("survey: {type: text}", "'survey' must be a list of rows"),
        ("survey:\n  - text", "each row must be a mapping"),
        ("survey:\n  - {type: text, name: a, label: [x]}", "a cell must hold text"),
        ("settings: {}\n", "has no survey rows"),
        ("survey:\n  - {type: text, name: a, label: A}\nquestions: []", "unknown top-level keys questions"),
    ],
)
def test_broken_yaml(text, fragment):
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(text.encode(), "form.yaml")
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("type_text", "expected_type", "list_name", "or_other"),
    [
        ("select_one yes_no", "select_one", "yes_no", False),
        ("select one yes_no", "select_one", "yes_no", False),
        ("select one from yes_no", "select_one", "yes_no", False),
        ("select_one  yes_no", "select_one", "yes_no", False),
        ("Select_One yes_no", "select_one", "yes_no", False),
        ("select_one yes_no or_other", "select_one", "yes_no", True),
        ("select one from yes_no or specify other", "select_one", "yes_no", True),
        ("select_multiple yes_no", "select_multiple", "yes_no", False),
        ("select all that apply from yes_no", "select_multiple", "yes_no", False),
        ("select_multiple  yes_no  or_other", "select_multiple", "yes_no", True),
        ("rank yes_no", "rank", "yes_no", False),
        ("string", "text", None, False),
        ("int", "integer", None, False),
        ("Text", "text", None, False),
        ("phone number", "text", None, False),
    ],
)
def test_type_spellings(tmp_path, type_text, expected_type, list_name, or_other):
    _, definition = load(tmp_path, [{"type": type_text, "name": "q", "label": "Q"}], YES_NO)
    question = definition.question("q")
    assert (question.type, question.list_name, question.or_other) == (expected_type, list_name, or_other)


@pytest.mark.parametrize("begin", ["begin group", "begin_group", "Begin Group", "begin  group"])
@pytest.mark.parametrize("end", ["end group", "end_group", "END GROUP"])
def test_group_spellings(tmp_path, begin, end):
    survey = [
        {"type": begin, "name": "g", "label": "G"},
        {"type": "text", "name": "q", "label": "Q"},
        {"type": end},
    ]
    _, definition = load(tmp_path, survey)
    assert [page.name for page in definition.pages] == ["g"]


def test_column_spellings(tmp_path):
    survey = [
        [
            "Type",
            "NAME",
            "Label:English",
            "bind:relevant",
            "bind:required",
            "jr:requiredMsg",
            "constraint",
            "jr:constraintMsg",
            "Appearance",
        ],
        ["integer", "a", "A", "", "", "", "", "", ""],
        ["integer", "b", "B", "${a} > 1", "TRUE()", "Needed", ". < 5", "Below 5", "w2"],
    ]
    choices = [["List Name", "name", "label:English"], ["yn", "yes", "Yes"]]
    path = write_xlsform(tmp_path / "f.xlsx", {"survey": survey, "choices": choices})
    _, definition = load_survey_file(path, "f.xlsx")
    question = definition.question("b")
    assert question.relevant_source == "${a} > 1" and question.required
    assert question.required_message == {"en": "Needed"}
    assert question.constraint_message == {"en": "Below 5"}
    assert question.appearance == "w2"


@pytest.mark.parametrize(
    "column",
    [
        "constraint_message",
        "constraint-msg",
        "jr:constraintMsg",
        "bind:jr:constraintMsg",
        "constraint_message::English (en)",
    ],
)
def test_constraint_message_spellings(tmp_path, column):
    survey = [{"type": "integer", "name": "a", "label": "A", "constraint": ". > 0", column: "Positive"}]
    _, definition = load(tmp_path, survey)
    assert definition.question("a").constraint_message == {"en": "Positive"}


@pytest.mark.parametrize(
    ("value", "required"),
    [
        ("yes", True),
        ("Yes", True),
        ("true", True),
        ("TRUE", True),
        ("true()", True),
        ("1", True),
        ("no", False),
        ("false", False),
        ("FALSE()", False),
        ("0", False),
        (None, False),
    ],
)
def test_required_values(tmp_path, value, required):
    _, definition = load(tmp_path, [{"type": "text", "name": "a", "label": "A", "required": value}])
    assert definition.question("a").required is required


def test_list_name_with_space_and_xls_style_blank_rows(tmp_path):
    choices = [
        {"list name": "yn", "name": "yes", "label": "Yes"},
        None,
        {"list name": "yn", "name": "no", "label": "No"},
    ]
    survey = [
        None,
        {"type": "select one from yn", "name": "q", "label": "Q"},
        None,
        None,
        {"type": "geotrace", "name": "where", "label": "Where"},
    ]
    problems = problems_of(tmp_path, survey, choices)
    assert [(p.sheet, p.row, p.column) for p in problems] == [("survey", 6, "type")]


def test_no_settings_sheet(tmp_path):
    _, definition = load(tmp_path, [{"type": "text", "name": "a", "label": "A"}], filename="My Form.xlsx")
    assert definition.form_id == "My_Form"
    assert definition.title == {"en": "My_Form"}
    assert definition.version == ""


# ------------------------------------------------------------------------------------------------ languages


def test_languages_with_fallback_warnings(tmp_path):
    survey = [
        {
            "type": "select_one yes_no",
            "name": "q_age",
            "label::English (en)": "Age?",
            "label::French (fr)": "Âge ?",
            "hint::English (en)": "In years",
        },
        {"type": "text", "name": "q_city", "label::English (en)": "City?"},
    ]
    choices = [
        {"list_name": "yes_no", "name": "yes", "label::English (en)": "Yes", "label::French (fr)": "Oui"},
        {"list_name": "yes_no", "name": "no", "label::English (en)": "No"},
    ]
    settings = {"form_title": "Survey", "default_language": "English (en)"}
    _, definition = load(tmp_path, survey, choices, settings)
    assert definition.languages == ["en", "fr"]
    assert definition.default_language == "en"
    assert definition.question("q_age").label == {"en": "Age?", "fr": "Âge ?"}
    assert definition.question("q_age").hint == {"en": "In years", "fr": "In years"}
    assert definition.question("q_city").label == {"en": "City?", "fr": "City?"}
    assert definition.question("q_age").choices[1].label == {"en": "No", "fr": "No"}
    assert definition.warnings == [
        (
            "choices sheet, row 3: no French (fr) label for choice 'no' of list 'yes_no'; "
            "the English (en) text will be shown"
        ),
        "survey sheet, row 2: no French (fr) hint for 'q_age'; the English (en) text will be shown",
        "survey sheet, row 3: no French (fr) label for 'q_city'; the English (en) text will be shown",
    ]


@pytest.mark.parametrize(
    ("columns", "settings", "languages", "default"),
    [
        (
            ["label::English (en)", "label::French (fr)", "label::Español (es)"],
            None,
            ["en", "fr", "es"],
            "en",
        ),
        (["label::French (fr)", "label::English (en)"], None, ["fr", "en"], "fr"),
        (["label::French (fr)", "label::English (en)"], {"default_language": "en"}, ["en", "fr"], "en"),
        (
            ["label::French (fr)", "label::English (en)"],
            {"default_language": "English (en)"},
            ["en", "fr"],
            "en",
        ),
        (["label", "label::French (fr)"], None, ["en", "fr"], "en"),
        (["label", "label::French (fr)"], {"default_language": "fr"}, ["fr"], "fr"),
        (["label:English", "label:French"], None, ["en", "fr"], "en"),
        (["label::english", "label::español"], None, ["en", "es"], "en"),
        (["label::Français", "label::Spanish"], None, ["fr", "es"], "fr"),
        (["label::English", "label::Klingon"], None, ["en", "klingon"], "en"),
    ],
)
def test_language_columns(tmp_path, columns, settings, languages, default):
    survey = [{"type": "text", "name": "a", **{column: f"A {column}" for column in columns}}]
    _, definition = load(tmp_path, survey, settings=settings)
    assert definition.languages == languages
    assert definition.default_language == default
    assert set(definition.question("a").label) == set(languages)


def test_plain_label_is_the_default_language(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "Name", "label::French (fr)": "Nom"}]
    _, definition = load(tmp_path, survey, settings={"default_language": "English (en)"})
    assert definition.question("a").label == {"en": "Name", "fr": "Nom"}


def test_choice_without_label_shows_its_name(tmp_path):
    choices = [
        {"list_name": "l", "name": "a", "image": "a.jpg"},
        {"list_name": "l", "name": "b", "label": "B"},
    ]
    _, definition = load(tmp_path, [{"type": "select_one l", "name": "q", "label": "Q"}], choices)
    assert definition.question("q").choices[0].label == {"en": "a"}
    assert definition.warnings == [
        "choices sheet, row 2: choice 'a' of list 'l' has no label; its name will be shown"
    ]


# ------------------------------------------------------------------------------------------------ leniency


def test_metadata_rows_are_ignored_with_a_warning(tmp_path):
    survey = [
        {"type": kind, "name": kind.replace(":", "_")}
        for kind in (
            "start",
            "end",
            "today",
            "deviceid",
            "username",
            "simserial",
            "subscriberid",
            "phonenumber",
            "audit",
        )
    ]
    survey.append({"type": "text", "name": "a", "label": "A"})
    _, definition = load(tmp_path, survey)
    assert [q.name for q in definition.questions()] == ["a"]
    assert definition.warnings == [
        ("survey sheet: metadata that only a phone app records is ignored (the response keeps its own start and "
        "end times): row 2 'start' (start), row 3 'end' (end), row 4 'today' (today), row 5 'deviceid' (deviceid), "
        "row 6 'username' (username), row 7 'simserial' (simserial), row 8 'subscriberid' (subscriberid), "
        "row 9 'phonenumber' (phonenumber), row 10 'audit' (audit)")
    ]


def test_phone_only_metadata_never_stops_an_import(tmp_path):
    survey = [
        {"type": "start-geopoint", "name": "where"},
        {"type": "background-audio", "name": "sound"},
        {"type": "caseid", "name": "case"},
        {"type": "text", "name": "a", "label": "A"},
    ]
    _, definition = load(tmp_path, survey)
    assert [q.name for q in definition.questions()] == ["a"]
    assert definition.warnings == [
        ("survey sheet: metadata that only a phone app records is ignored (the response keeps its own start and "
        "end times): row 2 'where' (start-geopoint), row 3 'sound' (background-audio), row 4 'case' (caseid)")
    ]


def test_a_form_of_metadata_only_says_they_are_not_questions(tmp_path):
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, [{"type": "start", "name": "start"}, {"type": "deviceid", "name": "deviceid"}])
    assert str(caught.value) == (
        "survey sheet: the survey has no questions (metadata rows such as start, end and deviceid are recorded "
        "by a phone app and are not counted as questions)"
    )


def test_surveycto_only_types_are_refused_naming_the_row(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A"}, {"type": "comments", "name": "c", "label": "C"}]
    with pytest.raises(SurveyFileError) as caught:
        load(tmp_path, survey)
    assert str(caught.value) == (
        "survey sheet, row 3, column type: unsupported question type 'comments' "
        "(a SurveyCTO-only type, which other XLSForm tools do not read)"
    )


def test_curly_quotes_in_expressions_are_read_as_straight_quotes(tmp_path):
    survey = [
        {"type": "text", "name": "a", "label": "A"},
        {"type": "text", "name": "b", "label": "B", "relevant": "${a} = \u2018yes\u2019"},
    ]
    _, definition = load(tmp_path, survey)
    assert definition.question("b").relevant is not None
    assert definition.warnings == [
        "survey sheet, row 3, column relevant: curly quotes in '${a} = \u2018yes\u2019' are read as straight quotes"
    ]


def test_surveycto_value_column_names_the_choices(tmp_path):
    survey = [{"type": "select_one yn", "name": "q", "label": "Q"}]
    choices = [{"list_name": "yn", "value": "yes", "label": "Yes"}, {"list_name": "yn", "value": "no", "label": "No"}]
    _, definition = load(tmp_path, survey, choices)
    assert [c.name for c in definition.question("q").choices] == ["yes", "no"]


def test_choice_names_with_spaces_are_kept_with_a_warning(tmp_path):
    survey = [{"type": "select_one p", "name": "q", "label": "Q"}]
    choices = [{"list_name": "p", "name": "camp pitch", "label": "Camp pitch"}, {"list_name": "p", "name": "x", "label": "X"}]
    _, definition = load(tmp_path, survey, choices)
    assert [c.name for c in definition.question("q").choices] == ["camp pitch", "x"]
    assert definition.warnings == [
        "choices sheet, row 2, column name: choice name 'camp pitch' contains a space; it is kept as written"
    ]


def test_allow_choice_duplicates_keeps_the_first(tmp_path):
    survey = [{"type": "select_one p", "name": "q", "label": "Q"}]
    choices = [
        {"list_name": "p", "name": "a", "label": "A"},
        {"list_name": "p", "name": "b", "label": "B"},
        {"list_name": "p", "name": "a", "label": "A again"},
    ]
    _, definition = load(tmp_path, survey, choices, settings={"allow_choice_duplicates": "yes"})
    assert [c.name for c in definition.question("q").choices] == ["a", "b"]
    assert definition.warnings == [
        "choices sheet, row 4: choice 'a' of list 'p' repeats row 2 (allow_choice_duplicates) and is left out"
    ]


def test_a_choice_row_with_only_a_label_is_left_out(tmp_path):
    survey = [{"type": "select_one p", "name": "q", "label": "Q"}]
    choices = [{"list_name": "p", "name": "a", "label": "A"}, {"label": "Stray"}, {"list_name": "p", "name": "b", "label": "B"}]
    _, definition = load(tmp_path, survey, choices)
    assert [c.name for c in definition.question("q").choices] == ["a", "b"]
    assert definition.warnings == ["choices sheet, row 3: a row with neither list name nor name is left out"]


def test_last_saved_default_is_ignored_with_a_warning(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A", "default": "${last-saved#a}"}]
    _, definition = load(tmp_path, survey)
    assert definition.question("a").default == ""
    assert definition.warnings == [
        ("survey sheet, row 2, column default: default '${last-saved#a}' repeats a phone's previous submission "
        "and is ignored")
    ]


@pytest.mark.parametrize("name, code", [("Deutsch", "de"), ("English", "en"), ("Swahili", "sw"), ("Français", "fr")])
def test_language_names_become_codes_keeping_the_name(tmp_path, name, code):
    survey = [{"type": "text", "name": "a", f"label::{name}": "A"}]
    _, definition = load(tmp_path, survey, settings={"default_language": name})
    assert definition.default_language == code
    assert definition.languages == [code]


def test_phone_number_question_is_asked_as_text(tmp_path):
    _, definition = load(tmp_path, [{"type": "phone number", "name": "phone", "label": "Phone"}])
    assert definition.question("phone").type == "text"
    assert definition.warnings == [
        "survey sheet, row 2: 'phone number' question 'phone' is asked as a text question"
    ]


def test_or_other_keeps_an_existing_other_choice(tmp_path):
    choices = [
        {"list_name": "l", "name": "a", "label": "A"},
        {"list_name": "l", "name": "other", "label": "Else"},
    ]
    _, definition = load(tmp_path, [{"type": "select_one l or_other", "name": "q", "label": "Q"}], choices)
    assert definition.question("q").choice_names() == ["a", "other"]


def test_or_other_label_in_each_language(tmp_path):
    choices = [{"list_name": "l", "name": "a", "label::English (en)": "A", "label::Español (es)": "A"}]
    survey = [
        {"type": "select_one l or_other", "name": "q", "label::English (en)": "Q", "label::Español (es)": "P"}
    ]
    _, definition = load(tmp_path, survey, choices)
    assert definition.question("q").choices[-1].label == {"en": "Other", "es": "Otro"}


# ------------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("survey", "choices", "expected"),
    [
        ([{"type": "foo", "name": "a", "label": "A"}], [],
         ("survey", 2, "type", "unknown question type 'foo'")),
        ([{"type": "select_one nolist", "name": "a", "label": "A"}], [],
         ("survey", 2, "type", "choice list 'nolist' does not exist")),
        ([{"type": "select_one", "name": "a", "label": "A"}], [],
         ("survey", 2, "type", "needs a choice list name")),
        ([{"type": "select_one yes_no maybe", "name": "a", "label": "A"}], YES_NO,
         ("survey", 2, "type", "unexpected 'maybe' after the list name")),
        ([{"type": "select_one_from_file places.csv", "name": "a", "label": "A"}], [],
         ("survey", 2, "type", "takes its choices from 'places.csv': upload that CSV file with the form")),
        ([{"type": "text", "name": "a", "label": "A"}, {"type": "text", "name": "a", "label": "B"}], [],
         ("survey", 3, "name", "duplicate name 'a' (already used at row 2)")),
        ([{"type": "text", "name": "1a", "label": "A"}], [],
         ("survey", 2, "name", "'1a' is not a valid name")),
        ([{"type": "text", "name": "a b", "label": "A"}], [],
         ("survey", 2, "name", "'a b' is not a valid name")),
        ([{"type": "text", "name": "partner_region", "label": "A"}], [], ("survey", 2, "name", "reserved")),
        ([{"type": "text", "label": "A"}], [], ("survey", 2, "name", "every question needs a name")),
        ([{"type": "text", "name": "a"}], [], ("survey", 2, "label", "question 'a' has no label")),
        ([{"type": "note", "name": "a"}], [], ("survey", 2, "label", "question 'a' has no label")),
        ([{"name": "a", "label": "A"}], [], ("survey", 2, "type", "no type")),
        (
            [{"type": "text", "name": "a", "label": "A", "relevant": "${b} = "}],
            [],
            (
                "survey",
                2,
                "relevant",
                "cannot read the relevant expression '${b} =': unexpected end of expression at character 7",
            ),
        ),
        ([{"type": "text", "name": "a", "label": "A", "relevant": "${b} = 'x'"}], [],
         ("survey", 2, "relevant", "refers to ${b}, which is not a question of this form")),
        ([{"type": "text", "name": "a", "label": "A", "relevant": "${partner_size} = 'x'"}], [],
         ("survey", 2, "relevant", "${partner_size}, which is not a registry attribute")),
        ([{"type": "text", "name": "a", "label": "A", "constraint": "pulldata('f', 'c', 'k', .) > 1"}], [],
         ("survey", 2, "constraint", "unknown function 'pulldata()' at character 1")),
        (
            [
                {"type": "start", "name": "started"},
                {"type": "text", "name": "a", "label": "A", "relevant": "${started}"},
            ],
            [],
            ("survey", 3, "relevant", "a metadata field (start) that this platform ignores"),
        ),
        ([{"type": "text", "name": "a", "label": "A", "default": "${partner_size}"}], [],
         ("survey", 2, "default", "can only refer to a registry attribute")),
        ([{"type": "text", "name": "a", "label": "A", "default": "${a} and more"}], [],
         ("survey", 2, "default", "either plain text or one registry attribute")),
        ([{"type": "select_one yes_no", "name": "a", "label": "A", "default": "maybe"}], YES_NO,
         ("survey", 2, "default", "default 'maybe' is not a choice of list 'yes_no'")),
        (
            [{"type": "text", "name": "a", "label": "A", "required": "maybe"}],
            [],
            ("survey", 2, "required", ("required must be yes, no or a condition such as ${age} >= 18; cannot read "
                                      "the required expression 'maybe': unexpected word 'maybe'")),
        ),
        (
            [{"type": "text", "name": "a", "label": "A", "required": "${b} = 1"}],
            [],
            ("survey", 2, "required", "the required expression refers to ${b}, which is not a question of this form"),
        ),
        (
            [{"type": "begin group", "name": "g", "label": "G"}, {"type": "text", "name": "a", "label": "A"}],
            [],
            ("survey", 2, "type", "has no matching end"),
        ),
        ([{"type": "text", "name": "a", "label": "A"}, {"type": "end group"}], [],
         ("survey", 3, "type", "without a matching 'begin group'")),
        (
            [{"type": "select_one yes_no", "name": "a", "label": "A"}],
            YES_NO + [{"list_name": "yes_no", "name": "yes", "label": "Again"}],
            ("choices", 4, "name", "duplicate choice 'yes' in list 'yes_no' (already at row 2)"),
        ),
        ([{"type": "select_one l", "name": "a", "label": "A"}], [{"list_name": "l", "label": "Nameless"}],
         ("choices", 2, "name", "a choice of list 'l' has no name")),
        ([{"type": "text", "name": "a", "label": "A"}], [{"name": "x", "label": "X"}],
         ("choices", 2, "list_name", "this choice has no list name")),
        ([{"type": "range", "name": "a", "label": "A", "parameters": "start=x end=10"}], [],
         ("survey", 2, "parameters", "range parameter start must be a number, not 'x'")),
        ([{"type": "range", "name": "a", "label": "A", "parameters": "start=10 end=5"}], [],
         ("survey", 2, "parameters", "range end (5) must be greater than start (10)")),
        ([{"type": "range", "name": "a", "label": "A", "parameters": "start=1 end=5 step=0"}], [],
         ("survey", 2, "parameters", "range step (0) must be greater than 0")),
        ([{"type": "range", "name": "a", "label": "A", "parameters": "start=1 end=5 stride=2"}], [],
         ("survey", 2, "parameters", "unknown range parameter stride")),
        ([{"type": "rank l", "name": "a", "label": "A"}], [{"list_name": "l", "name": "x", "label": "X"}],
         ("survey", 2, "type", "rank needs at least 2 choices; list 'l' has 1")),
        (
            [{"type": "rank services", "name": "a", "label": "A", "parameters": "top=4"}],
            SERVICES,
            ("survey", 2, "parameters", ("rank parameter top must be a whole number from 1 to 3 (the number of "
                                         "choices), not '4'")),
        ),
        ([{"type": "rank services", "name": "a", "label": "A", "parameters": "top=two"}], SERVICES,
         ("survey", 2, "parameters", "not 'two'")),
        ([{"type": "rank services", "name": "a", "label": "A", "parameters": "max=2"}], SERVICES,
         ("survey", 2, "parameters", "unknown rank parameter max (use top=N)")),
        ([{"type": "rank yes_no or_other", "name": "a", "label": "A"}], YES_NO,
         ("survey", 2, "type", "or_other is only available for select_one and select_multiple")),
        (
            [
                {"type": "select_one yes_no or_other", "name": "a", "label": "A"},
                {"type": "text", "name": "a_other", "label": "B"},
            ],
            YES_NO,
            ("survey", 3, "name", "duplicate name 'a_other'"),
        ),
        ([{"type": "text", "name": "a", "label": "A", "choice_filter": "x = 1"}], YES_NO,
         ("survey", 2, "choice_filter", "choice_filter only applies to select_one and select_multiple")),
    ],
)
def test_one_problem(tmp_path, survey, choices, expected):
    problems = problems_of(tmp_path, survey, choices)
    sheet, row, column, fragment = expected
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert (problem.sheet, problem.row, problem.column) == (sheet, row, column)
    assert fragment in problem.message
    assert str(problem).startswith(f"{sheet} sheet, row {row}, column {column}: ")


@pytest.mark.parametrize(
    "kind",
    [
        "geotrace",
        "geoshape",
        "audio",
        "video",
        "barcode",
    ],
)
def test_unsupported_type(tmp_path, kind):
    survey = [
        {"type": kind, "name": "x", "label": "X", "calculation": "1"},
        {"type": "text", "name": "a", "label": "A"},
    ]
    problems = problems_of(tmp_path, survey)
    assert [str(p) for p in problems] == [
        f"survey sheet, row 2, column type: unsupported question type '{kind}'"
        + (" (calculations are not supported)" if kind == "calculate" else "")
    ]


def test_every_problem_is_reported_once_in_row_order(tmp_path):
    survey = [
        {"type": "start", "name": "start"},
        {"type": "geotrace", "name": "where", "label": "Where"},
        {"type": "begin repeat", "name": "people", "label": "People"},
        {"type": "audio", "name": "photo", "label": "Photo"},
        {"type": "text", "name": "who", "label": "Who", "relevant": "${where} != ''"},
        {"type": "end repeat"},
        {"type": "select_one missing", "name": "q", "label": "Q"},
        {"type": "text", "name": "q", "label": "Q again"},
    ]
    problems = problems_of(tmp_path, survey)
    assert [(p.row, p.column) for p in problems] == [
        (3, "type"),
        (5, "type"),  # the repeat itself is read (no problem at row 4)
        (8, "type"),
        (9, "name"),
    ]


def test_column_names_in_messages_are_those_of_the_form(tmp_path):
    survey = [{"type": "text", "name": "a", "label:English": "A", "bind:relevant": "${zz}"}]
    problems = problems_of(tmp_path, survey)
    assert str(problems[0]) == (
        "survey sheet, row 2, column bind:relevant: the relevant expression refers to ${zz}, "
        "which is not a question of this form"
    )


@pytest.mark.parametrize(
    ("rows", "fragment", "row"),
    [
        (
            [{"type": "text", "name": "a", "label": "A"}],
            "can only hold select_one or select_multiple questions; 'a' is text",
            3,
        ),
        (
            [
                {"type": "select_one yes_no", "name": "a", "label": "A"},
                {"type": "select_one sat", "name": "b", "label": "B"},
            ],
            "must use one choice list: 'b' uses 'sat', 'a' uses 'yes_no'",
            4,
        ),
        ([{"type": "select_one yes_no or_other", "name": "a", "label": "A"}], "or_other is not available", 3),
        (
            [{"type": "begin group", "name": "inner", "label": "I"}, {"type": "end group"}],
            "a group cannot sit inside the table-list group 'grid'",
            3,
        ),
    ],
)
def test_table_list_refusals(tmp_path, rows, fragment, row):
    survey = [
        {"type": "begin group", "name": "grid", "label": "Grid", "appearance": "table-list"},
        *rows,
        {"type": "end group"},
    ]
    problems = problems_of(tmp_path, survey, YES_NO + SAT)
    assert [(p.row, p.column) for p in problems] == [(row, "type")]
    assert fragment in problems[0].message


def test_empty_groups_are_left_out(tmp_path):
    survey = [
        {"type": "begin group", "name": "empty", "label": "Nothing"},
        {"type": "start", "name": "start"},
        {"type": "end group"},
        {"type": "begin group", "name": "page", "label": "Page"},
        {"type": "begin group", "name": "inner", "label": "Inner"},
        {"type": "end group"},
        {"type": "text", "name": "a", "label": "A"},
        {"type": "end group"},
    ]
    _, definition = load(tmp_path, survey)
    assert [page.name for page in definition.pages] == ["page"]
    assert definition.pages[0].items == [definition.question("a")]
    assert "survey sheet, row 2: group 'empty' holds no questions and is left out" in definition.warnings
    assert "survey sheet, row 6: group 'inner' holds no questions and is left out" in definition.warnings


def test_a_form_without_questions_is_refused(tmp_path):
    problems = problems_of(tmp_path, [{"type": "start", "name": "start"}])
    assert [str(p) for p in problems] == [
        ("survey sheet: the survey has no questions (metadata rows such as start, end and deviceid are recorded "
        "by a phone app and are not counted as questions)")
    ]


# ------------------------------------------------------------------------------------------------ unreadable files


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (120 * 1024 * 1024))
    return buffer.getvalue()


def not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "fragment"),
    [
        (b"", "form.xlsx", "not a valid .xlsx workbook"),
        (b"this is not a spreadsheet at all", "form.xlsx", "not a valid .xlsx workbook"),
        (b"PK\x03\x04garbage", "form.xlsx", "not a valid .xlsx workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
            "form.xls",
            "cannot read 'form.xls' as an .xls workbook",
        ),
        (b"plain text", "form.xls", "cannot read 'form.xls' as an .xls workbook"),
        (b"type,name\ntext,a\n", "form.csv", "is not an XLSForm"),
        (not_a_workbook_zip(), "form.xlsx", "cannot read 'form.xlsx' as an .xlsx workbook"),
        (b"\xff\xfe\x00", "form.yaml", "is not UTF-8 text"),
    ],
)
def test_unreadable_files(data, filename, fragment):
    with pytest.raises(SurveyFileError) as caught:
        read_sheets(data, filename)
    assert fragment in str(caught.value)
    assert all(isinstance(problem, Problem) for problem in caught.value.problems)


def test_zip_bomb_is_not_opened():
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(zip_bomb(), "bomb.xlsx")
    assert "expands to far more data than a survey form holds" in str(caught.value)


def test_workbook_without_survey_sheet(tmp_path):
    path = write_xlsform(tmp_path / "f.xlsx", {"choices": YES_NO, "settings": [{"form_id": "x"}]})
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path, "f.xlsx")
    assert str(caught.value) == "'f.xlsx' has no 'survey' sheet"


def test_missing_file():
    with pytest.raises(SurveyFileError, match="cannot read the file"):
        read_sheets("/nonexistent/form.xlsx", "form.xlsx")


def test_file_objects_and_a_single_oddly_named_sheet(tmp_path):
    path = write_xlsform(tmp_path / "f.xlsx", {"Sheet1": [{"type": "text", "name": "a", "label": "A"}]})
    with path.open("rb") as handle:
        _, definition = load_survey_file(handle, "upload.xlsx")
    assert [q.name for q in definition.questions()] == ["a"]


def test_definition_types_are_the_contract(tmp_path):
    _, definition = load(tmp_path, FULL_SURVEY, FULL_CHOICES, FULL_SETTINGS)
    assert all(isinstance(page, Page) for page in definition.pages)
    assert all(isinstance(question, Question) for question in definition.questions())


def test_rank_top_asks_for_the_first_positions_only(tmp_path):
    _sheets, definition = load(tmp_path, [{"type": "rank services", "name": "top", "label": "Top", "parameters": "top=2"},
                                          {"type": "rank services", "name": "all", "label": "All"}], SERVICES)
    assert definition.question("top").rank_positions == 2
    assert definition.question("all").rank_positions == 3


def test_time_datetime_and_acknowledge_are_answerable(app, tmp_path):
    from surveys.answers import normalise

    survey = [
        {"type": "time", "name": "t", "label": "T"},
        {"type": "dateTime", "name": "dt", "label": "DT"},
        {"type": "trigger", "name": "ok", "label": "Read this"},
        {"type": "acknowledge", "name": "ack", "label": "Agree"},
    ]
    _, definition = load(tmp_path, survey)
    assert [(q.name, q.type) for q in definition.questions()] == [
        ("t", "time"), ("dt", "datetime"), ("ok", "acknowledge"), ("ack", "acknowledge")
    ]
    with app.test_request_context():
        assert normalise(definition.question("t"), "09:30", definition, "en") == ("09:30", None)
        assert normalise(definition.question("t"), "25:00", definition, "en") == (
            "25:00", "Please enter a time as HH:MM."
        )
        assert normalise(definition.question("dt"), "2026-03-01T09:30", definition, "en") == ("2026-03-01T09:30", None)
        assert normalise(definition.question("dt"), "soon", definition, "en") == (
            "soon", "Please enter a date and time as YYYY-MM-DD HH:MM."
        )
        assert normalise(definition.question("ack"), "OK", definition, "en") == ("OK", None)
        assert normalise(definition.question("ack"), "yes", definition, "en") == (
            "yes", "Please tick the box to acknowledge."
        )


def test_a_note_with_only_an_image_is_kept_with_its_name(tmp_path):
    survey = [{"type": "note", "name": "picture", "media::image": "p.jpg"}, {"type": "text", "name": "a", "label": "A"}]
    _, definition = load(tmp_path, survey)
    assert definition.warnings == [
        ("survey sheet, row 2: note 'picture' has only a media file (p.jpg), which is not shown here; its name is "
        "shown instead")
    ]


def test_audio_video_barcode_signature_are_refused_by_row(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A"}] + [
        {"type": kind, "name": kind, "label": kind} for kind in ("audio", "video", "barcode")
    ]
    assert [(p.row, p.column) for p in problems_of(tmp_path, survey)] == [(3, "type"), (4, "type"), (5, "type")]


def test_a_surveycto_only_function_is_named_as_such(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A"}, {"type": "calculate", "name": "d", "calculation": "duration()"}]
    assert [str(p) for p in problems_of(tmp_path, survey)] == [
        ("survey sheet, row 3, column calculation: cannot read the calculation expression 'duration()': "
        "a SurveyCTO-only function 'duration()' at character 1")
    ]


def test_a_bare_word_calculation_is_empty_as_in_xpath(tmp_path):
    survey = [{"type": "text", "name": "a", "label": "A"}, {"type": "calculate", "name": "c", "calculation": "Ethopia"}]
    _, definition = load(tmp_path, survey)
    assert definition.question("c").type == "calculate"
    assert definition.warnings == [
        ("survey sheet, row 3, column calculation: the calculation 'Ethopia' is a bare word, which XPath reads as a "
        "path to nothing: it gives an empty value (write 'Ethopia' in quotes for the text)")
    ]


def test_a_trigger_must_name_a_question_of_the_form(tmp_path):
    survey = [
        {"type": "text", "name": "a", "label": "A"},
        {"type": "text", "name": "b", "label": "B", "trigger": "${a}"},
        {"type": "text", "name": "c", "label": "C", "trigger": "${missing}"},
    ]
    assert [str(p) for p in problems_of(tmp_path, survey)] == [
        "survey sheet, row 4, column trigger: the trigger names ${missing}, which is not a question of this form"
    ]
