"""The partner pages and the analysis show the same questions: visible_questions (one partner) and the analysis's
Relevance (many responses, cached per condition) agree on random answers, and so do the answers each one keeps."""

from types import SimpleNamespace

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.frames import Relevance, Respondent, known_names, shown_answers
from surveys.definition import OTHER
from surveys.relevance import layout, partner_attributes, visible_questions
from surveys.versions import DEFAULT_SURVEY_FILE
from surveys.xlsform import load_survey_file

# Groups inside groups, conditions that read answers hidden by earlier conditions (why_red -> fruits -> favourite
# -> later), an "other" text, numbers compared, and the registry's attributes.
NESTED = {
    "settings": {"form_id": "nested", "form_title": "Nested", "version": "1"},
    "survey": [
        {"type": "begin_group", "name": "first", "label": "First page"},
        {"type": "select_one yn", "name": "member", "label": "Member?"},
        {"type": "integer", "name": "staff", "label": "Staff"},
        {"type": "end_group"},
        {"type": "begin_group", "name": "second", "label": "Second page",
         "relevant": "${member} = 'yes' or ${partner_pathfinder} = 'yes'"},
        {"type": "select_one colours or_other", "name": "colour", "label": "Colour"},
        {"type": "text", "name": "why_red", "label": "Why red?", "relevant": "${colour} = 'red'"},
        {"type": "begin_group", "name": "outer", "label": "Outer", "relevant": "${colour} != ''"},
        {"type": "begin_group", "name": "inner", "label": "Inner", "relevant": "${why_red} != '' or ${staff} > 10"},
        {"type": "select_multiple fruits or_other", "name": "fruits", "label": "Fruits"},
        {"type": "select_one fruits", "name": "favourite", "label": "Favourite",
         "relevant": "selected(${fruits}, 'apple') or count-selected(${fruits}) > 1"},
        {"type": "end_group"},
        {"type": "text", "name": "outer_note", "label": "Note", "relevant": "${partner_category} != 'un'"},
        {"type": "end_group"},
        {"type": "end_group"},
        {"type": "begin_group", "name": "third", "label": "Third page"},
        {"type": "text", "name": "later", "label": "Later",
         "relevant": "${favourite} = 'pear' or ${partner_action_groups} != ''"},
        {"type": "text", "name": "last", "label": "Last", "relevant": "${later} != '' and ${member} != 'no'"},
        {"type": "end_group"},
    ],
    "choices": [
        {"list_name": "yn", "name": "yes", "label": "Yes"},
        {"list_name": "yn", "name": "no", "label": "No"},
        {"list_name": "colours", "name": "red", "label": "Red"},
        {"list_name": "colours", "name": "blue", "label": "Blue"},
        {"list_name": "fruits", "name": "apple", "label": "Apple"},
        {"list_name": "fruits", "name": "pear", "label": "Pear"},
        {"list_name": "fruits", "name": "cherry", "label": "Cherry"},
    ],
}
DEFAULT = load_survey_file(DEFAULT_SURVEY_FILE, DEFAULT_SURVEY_FILE.name)[1]
NESTED_FORM = load_survey_file(yaml.safe_dump(NESTED).encode(), "nested.yaml")[1]
# One Relevance per form for every example, as load_round keeps one for all the responses of a round: what it
# remembers from one response must not leak into the next.
RELEVANCE = {form.form_id: Relevance(form, known_names(form)) for form in (DEFAULT, NESTED_FORM)}

partners = st.builds(
    lambda category, region, pathfinder, groups, gcg: partner_attributes(SimpleNamespace(
        category=category, region=region, country=None, pathfinder=pathfinder, action_groups=" ".join(groups),
        gcg_member=gcg)),
    st.sampled_from(["government_pathfinder", "government", "un", "civil_society", "other", ""]),
    st.sampled_from(["africa", "americas", "global", ""]),
    st.booleans(),
    st.lists(st.sampled_from(["supply_chains", "migration", "rule_of_law", "conflict_humanitarian"]), unique=True),
    st.booleans(),
)


def value_of(question):
    """Values a partner could have stored for a question, valid or not (conditions must cope with both)."""
    codes = question.choice_names() + ([OTHER] if question.or_other else [])
    if question.type == "select_multiple" or question.type == "rank":
        return st.lists(st.sampled_from(codes), unique=True, min_size=1).map(" ".join) if codes else st.just("x")
    if question.type == "select_one":
        return st.sampled_from(codes) if codes else st.just("x")
    if question.type in ("integer", "decimal", "range"):
        return st.sampled_from(["0", "3", "10", "11", "-1", "2.5", "many"])
    return st.sampled_from(["x", "2024-01-01", "red"])


@st.composite
def answers(draw, form) -> dict[str, str]:
    """Some of the form's questions answered (hidden ones too: a response in progress may still hold them)."""
    values = {}
    for question in form.questions():
        if question.answerable and draw(st.integers(0, 2)):
            values[question.name] = draw(value_of(question))
            if question.or_other and OTHER in values[question.name].split() and draw(st.booleans()):
                values[question.other_name] = "something else"
    return values


def in_progress(partner: dict[str, str]) -> Respondent:
    category, region = partner["partner_category"], partner["partner_region"]
    return Respondent(1, 1, "Org", category, region, None, partner["partner_pathfinder"] == "yes",
                      partner["partner_action_groups"], partner["partner_gcg_member"] == "yes", "in_progress", "en",
                      None, None)


def agree(form, values: dict[str, str], partner: dict[str, str]) -> None:
    relevance = RELEVANCE[form.form_id]
    shown = visible_questions(form, values, partner)
    # The loader gives Relevance only the answers its conditions read (hidden_rows): they alone decide.
    read = {name: value for name, value in values.items() if name in relevance.read}
    hidden = relevance.hidden(read, partner)
    assert shown == layout(form).names - hidden
    dropped = {relevance.known[i] for i in relevance.dropped(hidden)}
    kept = {name: value for name, value in values.items() if name in relevance.known and name not in dropped}
    assert shown_answers(form, in_progress(partner), values, set(relevance.known)) == kept


@settings(max_examples=300, deadline=None)
@given(st.data(), partners)
def test_default_survey_shows_the_same_questions_to_both(data, partner):
    agree(DEFAULT, data.draw(answers(DEFAULT)), partner)


@settings(max_examples=300, deadline=None)
@given(st.data(), partners)
def test_nested_groups_and_chains_show_the_same_questions_to_both(data, partner):
    agree(NESTED_FORM, data.draw(answers(NESTED_FORM)), partner)


def test_a_chain_hides_what_reads_a_hidden_answer():
    """why_red is hidden (colour is blue), so the inner group, then favourite, later and last are hidden too."""
    partner = partner_attributes(SimpleNamespace(category="un", region="", country=None, pathfinder=False,
                                                 action_groups="", gcg_member=False))
    values = {"member": "yes", "staff": "3", "colour": "blue", "why_red": "because", "fruits": "apple pear",
              "favourite": "pear", "later": "x", "last": "y"}
    shown = visible_questions(NESTED_FORM, values, partner)
    assert shown == {"member", "staff", "colour"}
    agree(NESTED_FORM, values, partner)
