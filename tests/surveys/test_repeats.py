"""Repeats: names scoped to their repeat when a form is read, and the entry operations (add, save, remove) on stored
answers, with clear refusals that change nothing."""

import pytest

from surveys.definition import Question
from surveys.expressions import parse
from surveys.repeats import (
    MAX_ENTRIES,
    Repeat,
    RepeatError,
    add_entry,
    entries,
    entry_context,
    entry_ids,
    missing_required,
    parse_entry_key,
    remove_entry,
    save_entry,
)
from surveys.xlsform import SurveyFileError, load_survey_file
from tests import factories

from .xlsform_builder import write_xlsform


def definition_of(tmp_path, survey):
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey})
    return load_survey_file(path, "form.xlsx")[1]


def problems_of(tmp_path, survey):
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey})
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path, "form.xlsx")
    return [str(p) for p in caught.value.problems]


def apply(answers, changes):
    merged = dict(answers)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


# --------------------------------------------------------------------------------------------- reading the form


def test_names_may_repeat_in_different_repeats_and_the_outer_form(tmp_path):
    survey = [
        {"type": "text", "name": "name", "label": "Your name"},
        {"type": "begin repeat", "name": "children", "label": "Children"},
        {"type": "text", "name": "name", "label": "Child's name"},
        {"type": "integer", "name": "age", "label": "Age", "constraint": ". < 18"},
        {"type": "end repeat"},
        {"type": "begin_repeat", "name": "adults", "label": "Adults", "repeat_count": "2"},
        {"type": "text", "name": "name", "label": "Adult's name"},
        {"type": "integer", "name": "age", "label": "Age", "relevant": "${name} != ''"},
        {"type": "end_repeat"},
    ]
    # No "duplicate name": the form imports; each top-level repeat is a page of its own.
    definition = definition_of(tmp_path, survey)
    assert [page.name for page in definition.pages] == ["page_1", "children", "adults"]
    assert [r.name for r in definition.repeats()] == ["children", "adults"]
    assert [q.name for q in definition.repeat("adults").questions] == ["name", "age"]
    assert definition.repeat("adults").fixed_count == 2
    assert [q.name for q in definition.questions()] == ["name"]  # entry questions are not the form's own
    assert definition.pages[1].label == {"en": "Children"}


def test_a_repeat_inside_a_group_is_part_of_its_page(tmp_path):
    survey = [
        {"type": "begin group", "name": "home", "label": "Home"},
        {"type": "integer", "name": "size", "label": "People at home"},
        {"type": "begin repeat", "name": "people", "label": "Person", "repeat_count": "${size}"},
        {"type": "text", "name": "name", "label": "Name"},
        {"type": "end repeat"},
        {"type": "text", "name": "after", "label": "After"},
        {"type": "end group"},
    ]
    definition = definition_of(tmp_path, survey)
    assert [page.name for page in definition.pages] == ["home"]
    items = definition.pages[0].items
    assert [item.name for item in items] == ["size", "people", "after"]
    assert items[1].count_source == "${size}"


def test_a_repeat_inside_a_repeat_is_read_with_its_own_names_and_count(tmp_path):
    characters = factories.repeat("characters", "Character", {"type": "text", "name": "name", "label": "Character's name"},
                                  repeat_count="3")
    cartoons = factories.repeat(
        "cartoons", "Cartoon",
        {"type": "text", "name": "name", "label": "Cartoon's name"},  # `name` again: its own scope
        {"type": "begin group", "name": "about", "label": "About"}, *characters, {"type": "end group"},
        repeat_count="${shows}")
    survey = factories.repeat(
        "children", "Child",
        {"type": "text", "name": "name", "label": "Child's name"},
        {"type": "integer", "name": "shows", "label": "How many cartoons?"},
        *cartoons,
        {"type": "integer", "name": "age", "label": "Age"})
    definition = definition_of(tmp_path, survey)
    children = definition.repeat("children")
    assert [q.name for q in children.questions] == ["name", "shows", "age"]  # the inner repeat is no question
    [cartoons] = children.repeats
    assert (cartoons.name, cartoons.count_source, [q.name for q in cartoons.questions]) == (
        "cartoons", "${shows}", ["name"])
    [characters] = cartoons.repeats  # inside a group of the repeat: still the repeat's inner repeat
    assert (characters.fixed_count, [q.name for q in characters.questions]) == (3, ["name"])
    assert [r.name for r in definition.repeats()] == ["children"]  # top-level repeats only
    assert not [w for w in definition.warnings if "repeat" in w]  # answered, exported and reported like any other


TITLE = {"type": "text", "name": "title", "label": "Title"}


@pytest.mark.parametrize(
    ("inner", "problem"),
    [
        ([{"type": "begin repeat", "name": "jobs", "label": "Job", "repeat_count": "0"}, TITLE, {"type": "end repeat"}],
         "survey sheet, row 4, column repeat_count: repeat_count must be from 1 to 200, not 0"),
        ([{"type": "begin repeat", "name": "jobs", "label": "Job"}, TITLE, dict(TITLE, label="Again"),
          {"type": "end repeat"}],
         "survey sheet, row 6, column name: duplicate name 'title' (already used at row 5)"),
        ([{"type": "begin repeat", "name": "name", "label": "Job"}, TITLE, {"type": "end repeat"}],
         "survey sheet, row 4, column name: duplicate name 'name' (already used at row 3)"),
        ([{"type": "begin repeat", "name": "jobs", "label": "Job"}, {"type": "end repeat"}],
         "survey sheet, row 4, column type: the repeat 'jobs' holds no questions"),
    ],
    ids=["inner count out of range", "name twice in the inner repeat", "inner repeat named like a sibling",
         "empty inner repeat"],
)
def test_an_inner_repeat_is_checked_like_any_repeat(tmp_path, inner, problem):
    survey = factories.repeat("people", "Person", {"type": "text", "name": "name", "label": "Name"}, *inner)
    assert problem in problems_of(tmp_path, survey)


def test_a_repeat_inside_a_table_list_group_is_still_refused(tmp_path):
    survey = [
        {"type": "begin group", "name": "grid", "label": "Grid", "appearance": "table-list"},
        {"type": "select_one yn", "name": "a", "label": "A"},
        *factories.repeat("jobs", "Job", {"type": "text", "name": "title", "label": "Title"}),
        {"type": "end group"},
    ]
    path = write_xlsform(tmp_path / "form.xlsx", {"survey": survey, "choices": [
        {"list_name": "yn", "name": "y", "label": "Yes"}, {"list_name": "yn", "name": "n", "label": "No"}]})
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path, "form.xlsx")
    assert any("cannot sit inside the table-list group 'grid'" in str(p) for p in caught.value.problems)


AGE = {"type": "text", "name": "age", "label": "Age"}


@pytest.mark.parametrize(
    ("survey", "problem"),
    [
        (factories.repeat("children", "Children", AGE, {"type": "integer", "name": "age", "label": "Age again"}),
         "survey sheet, row 4, column name: duplicate name 'age' (already used at row 3)"),
        ([{"type": "text", "name": "people", "label": "People"}, *factories.repeat("people", "People", AGE)],
         "survey sheet, row 3, column name: duplicate name 'people' (already used at row 2)"),
    ],
    ids=["within its repeat", "a repeat named like a question outside it"],
)
def test_a_name_is_still_unique_in_its_scope(tmp_path, survey, problem):
    assert problem in problems_of(tmp_path, survey)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", f"repeat_count must be from 1 to {MAX_ENTRIES}, not 0"),
        ("${missing} + 1", "the repeat_count expression refers to ${missing}, which is not a question of this form"),
        ("2 +", "cannot read the repeat_count expression '2 +'"),
    ],
)
def test_a_bad_repeat_count_is_named(tmp_path, count, message):
    survey = [
        {"type": "begin repeat", "name": "people", "label": "People", "repeat_count": count},
        {"type": "text", "name": "age", "label": "Age"},
        {"type": "end repeat"},
    ]
    problems = problems_of(tmp_path, survey)
    assert any(p.startswith("survey sheet, row 2, column repeat_count: " + message) for p in problems), problems


def test_an_unclosed_repeat_is_named(tmp_path):
    survey = [
        {"type": "begin repeat", "name": "people", "label": "People"},
        {"type": "text", "name": "age", "label": "Age"},
    ]
    assert problems_of(tmp_path, survey) == [
        "survey sheet, row 2, column type: 'begin repeat' has no matching end (the group or repeat is never closed)"
    ]


# --------------------------------------------------------------------------------------------- entries


def people(**kwargs) -> Repeat:
    name = Question(name="name", type="text", label={"en": "Name"}, required=True)
    age = Question(name="age", type="integer", label={"en": "Age"}, relevant=parse("${name} != ''"))
    return Repeat(name="people", questions=[name, age], **kwargs)


def test_add_save_and_remove_entries_by_stable_id():
    repeat = people()
    answers = {"name": "Outer"}
    first, changes = add_entry(repeat, answers)
    answers = apply(answers, changes)
    second, changes = add_entry(repeat, answers)
    answers = apply(answers, changes)
    assert (first, second) == (1, 2)
    answers = apply(answers, save_entry(repeat, answers, 1, {"name": "Ana", "age": "7"}))
    answers = apply(answers, save_entry(repeat, answers, 2, {"name": "Ben"}))
    assert entries(answers, "people") == [(1, {"name": "Ana", "age": "7"}), (2, {"name": "Ben"})]
    answers = apply(answers, remove_entry(repeat, answers, 1))
    assert entries(answers, "people") == [(2, {"name": "Ben"})]
    assert answers["name"] == "Outer"
    # a new entry never reuses an id still in use
    third, changes = add_entry(repeat, answers)
    assert third == 3
    assert parse_entry_key("people[2]/name") == ("people", 2, "name")
    assert parse_entry_key("name") is None


def test_removing_an_entry_twice_is_refused_and_changes_nothing():
    repeat = people()
    answers = {"people#entries": "1 2", "people[1]/name": "Ana", "people[2]/name": "Ben"}
    answers = apply(answers, remove_entry(repeat, answers, 1))
    before = dict(answers)
    with pytest.raises(RepeatError) as caught:
        remove_entry(repeat, answers, 1)
    assert caught.value.message == "Entry 1 does not exist (it may have been removed already); nothing was changed."
    assert answers == before
    assert entry_ids(answers, "people") == [2]  # Ben was not removed in Ana's place


def test_fixed_repeat_count_limits_entries_and_out_of_range_is_refused():
    repeat = people(fixed_count=2)
    answers = {"people#entries": "1 2"}
    with pytest.raises(RepeatError, match="at most 2"):
        add_entry(repeat, answers)
    with pytest.raises(RepeatError, match="Entry 3 is beyond the 2 entries"):
        save_entry(repeat, answers, 3, {"name": "X"})
    with pytest.raises(RepeatError, match="'colour' is not a question of 'people'"):
        save_entry(repeat, answers, 1, {"colour": "red"})


def test_repeat_count_from_an_expression():
    repeat = Repeat(name="people", questions=[], count_expression=parse("${household_size} - 1"))
    assert entry_ids({}, "people") == []
    with pytest.raises(RepeatError, match="at most 0"):
        add_entry(repeat, {"household_size": ""})
    answers = {"household_size": "3"}
    for expected in (1, 2):
        entry, changes = add_entry(repeat, answers)
        assert entry == expected
        answers = apply(answers, changes)
    with pytest.raises(RepeatError, match="at most 2"):
        add_entry(repeat, answers)


def test_sibling_first_in_an_entry_and_required_inside_entries():
    repeat = people()
    answers = {"name": "Outer", "people#entries": "1 2", "people[1]/name": "Ana", "people[2]/age": "4"}
    assert entry_context(answers, repeat, 1)["name"] == "Ana"
    # an empty sibling reads as empty, not as the outer question of the same name
    assert entry_context(answers, repeat, 2)["name"] == ""
    assert repeat.questions[1].relevant.evaluate(entry_context(answers, repeat, 1))
    assert not repeat.questions[1].relevant.evaluate(entry_context(answers, repeat, 2))
    assert missing_required(repeat, answers) == [(2, "name")]
    assert missing_required(people(fixed_count=3), answers) == [(2, "name"), (0, "")]


def test_groups_inside_a_repeat_have_their_own_name_scope(tmp_path):
    survey = [
        {"type": "begin repeat", "name": "members", "label": "Members"},
        {"type": "text", "name": "relation", "label": "Relation"},
        {"type": "begin group", "name": "adult", "label": "Adult"},
        {"type": "integer", "name": "age", "label": "Age"},
        {"type": "end group"},
        {"type": "begin group", "name": "child", "label": "Child"},
        {"type": "integer", "name": "age", "label": "Age"},
        {"type": "text", "name": "age", "label": "Age again"},
        {"type": "end group"},
        {"type": "end repeat"},
        {"type": "begin group", "name": "outer", "label": "Outer"},
        {"type": "text", "name": "x", "label": "X"},
        {"type": "end group"},
        {"type": "text", "name": "x", "label": "X again"},
    ]
    assert problems_of(tmp_path, survey) == [
        "survey sheet, row 9, column name: duplicate name 'age' (already used at row 8)",
        # outside repeats names stay unique across the whole form (answers are stored by name)
        "survey sheet, row 15, column name: duplicate name 'x' (already used at row 13)",
    ]


# --------------------------------------------------------------------------------------------- expressions


def test_count_sum_and_indexed_repeat_over_entries():
    from surveys.repeats import RepeatAnswers

    repeat = people()
    stored = {
        "people#entries": "1 3 4",
        "people[1]/name": "Ana", "people[1]/age": "7",
        "people[3]/name": "Ben", "people[3]/age": "12",
        "people[4]/name": "Cy",  # age not answered: counts as nothing in sum()
    }
    answers = RepeatAnswers(stored, [repeat])

    def value(source):
        return parse(source).value(answers)

    assert value("count(${people})") == 3.0
    assert value("sum(${age})") == 19.0
    assert value("sum(${age}) div count(${people})") == pytest.approx(19 / 3)
    assert value("indexed-repeat(${name}, ${people}, 2)") == "Ben"
    assert value("indexed-repeat(${name}, ${people}, 4)") == ""
    assert value("count(${people}) >= 3")
    assert RepeatAnswers({}, [repeat])["people"].values == ()
    assert parse("count(${people})").value(RepeatAnswers({}, [repeat])) == 0.0
    # inside an entry, ${age} is the sibling; the rest of the form still sees every entry
    context = entry_context(answers, repeat, 3)
    assert parse("${age} > 10 and count(${people}) = 3").evaluate(context)
    assert not parse("${age} > 10").evaluate(entry_context(answers, repeat, 1))
    # position() is the entry's place among the entries that exist (ids may have gaps after a removal)
    assert parse("position(..)").value(entry_context(answers, repeat, 3)) == 2.0
    assert parse("position(..) = 3 and ${name} = 'Cy'").evaluate(entry_context(answers, repeat, 4))
    assert parse("position()").value(stored) == 1.0  # outside a repeat, as before


def test_the_documented_example_imports(tmp_path):
    survey = [
        {"type": "integer", "name": "size", "label": "People at home"},
        {"type": "begin repeat", "name": "people", "label": "Person", "repeat_count": "${size}"},
        {"type": "text", "name": "name", "label": "Name"},
        {"type": "integer", "name": "age", "label": "Age", "relevant": "${name} != ''", "constraint": ". < 120"},
        {"type": "end repeat"},
        {"type": "calculate", "name": "ages", "calculation": "sum(${age})"},
        {"type": "calculate", "name": "counted", "calculation": "count(${people})"},
        {"type": "note", "name": "total", "label": "Ages add up to ${ages}"},
    ]
    definition = definition_of(tmp_path, survey)
    assert [q.name for q in definition.repeat("people").questions] == ["name", "age"]
    assert [q.name for q in definition.questions()] == ["size", "ages", "counted", "total"]


def test_refusals_are_given_in_the_partners_language(app):
    from flask_babel import force_locale

    repeat = people()
    with app.test_request_context(), force_locale("fr"), pytest.raises(RepeatError) as caught:
        remove_entry(repeat, {"people#entries": "2"}, 1)
    assert caught.value.message == (
        "L'entrée 1 n'existe pas (elle a peut-être déjà été supprimée)\u202f; rien n'a été modifié."
    )
    with app.test_request_context(), force_locale("es"), pytest.raises(RepeatError) as caught:
        add_entry(people(fixed_count=1), {"people#entries": "1"})
    assert caught.value.message == "No se pueden añadir más entradas: esta lista admite como máximo 1."


# --------------------------------------------------------------------------------------------- storage


def test_entries_go_through_the_ordinary_answer_writer(app):
    """The changes the operations return are what surveys.answers.store writes in a write transaction, so entries
    get the same upsert (a replayed save is harmless) as any other answer; long keys fit the answers column."""
    from engagement.database import write_transaction
    from surveys.answers import load_values, store
    from surveys.models import Response

    from ..factories import invited_partner, survey_from_rows

    repeat = Repeat(name="household_members_roster", questions=[
        Question(name="b8_highest_level_passed_by_this_member", type="text", label={"en": "Level"}),
    ])
    question = repeat.questions[0].name
    with app.app_context():
        version = survey_from_rows([{"type": "text", "name": "a", "label": "A"}])
        round_, _token = invited_partner(version)
        invitation = round_.invitations[0]
        response = Response(invitation_id=invitation.id, language="en")
        from engagement.database import db

        db.session.add(response)
        db.session.commit()

        def write(changes):
            with write_transaction():
                store(response.id, changes)
            return load_values(response.id)

        values = load_values(response.id)
        for _ in range(2):
            _entry, changes = add_entry(repeat, values)
            values = write(changes)
        saving = save_entry(repeat, values, 2, {question: "secondary"})
        values = write(saving)
        values = write(saving)  # replayed: the same value again
        assert values[f"household_members_roster[2]/{question}"] == "secondary"
        values = write(remove_entry(repeat, values, 2))
        assert values == {"household_members_roster#entries": "1"}
        with pytest.raises(RepeatError):
            remove_entry(repeat, values, 2)
        assert load_values(response.id) == values
