"""Entries of a repeat inside a repeat, stored under their outer entry (surveys.repeats)."""

import pytest

from surveys import repeats
from surveys.definition import Question
from surveys.expressions import parse

from .test_repeats import apply


def children() -> repeats.Repeat:
    cartoon = Question(name="name", type="text", label={"en": "Cartoon"}, required=True)
    why = Question(name="why", type="text", label={"en": "Why?"}, relevant=parse("${name} != ''"))
    cartoons = repeats.Repeat(name="cartoons", questions=[cartoon, why])
    shown = repeats.Repeat(name="shown", questions=[Question(name="name", type="text", label={"en": "Show"})],
                   count_expression=parse("${shows}"), count_source="${shows}")
    name = Question(name="name", type="text", label={"en": "Child"})
    shows = Question(name="shows", type="integer", label={"en": "Shows"})
    return repeats.Repeat(name="children", questions=[name, shows], repeats=[cartoons, shown])


def two_children_with_cartoons() -> tuple[repeats.Repeat, dict]:
    outer = children()
    answers: dict = {"children#entries": "1 2", "children[1]/name": "Ana", "children[2]/name": "Ben"}
    for entry, titles in ((1, ["Totoro", "Heidi"]), (2, ["Tintin"])):
        cartoons = repeats.find_repeat([outer], f"children[{entry}]/cartoons", answers)
        for title in titles:
            new, changes = repeats.add_entry(cartoons, answers)
            answers = apply(answers, changes)
            answers = apply(answers, repeats.save_entry(cartoons, answers, new, {"name": title}))
    return outer, answers


def test_inner_entries_are_stored_under_their_outer_entry():
    outer, answers = two_children_with_cartoons()
    assert answers["children[1]/cartoons#entries"] == "1 2"
    assert answers["children[1]/cartoons[2]/name"] == "Heidi"
    assert answers["children[2]/cartoons[1]/name"] == "Tintin"
    ana = repeats.find_repeat([outer], "children[1]/cartoons", answers)
    assert [values for _id, values in repeats.entries(answers, ana.name)] == [{"name": "Totoro"}, {"name": "Heidi"}]
    # the outer entries list their own questions' answers only, not their inner entries
    assert repeats.entries(answers, "children") == [(1, {"name": "Ana"}), (2, {"name": "Ben"})]
    assert ana.outer[1] == 1 and ana.outer[0].name == "children"


@pytest.mark.parametrize(
    "path", ["children[3]/cartoons", "children/cartoons", "children[1]/nothing", "children[1]//cartoons",
             "cartoons", "children[1]/cartoons[1]"],
    ids=["outer entry removed", "no outer entry", "no such inner repeat", "stray slash", "inner at top level",
         "an entry, not a repeat"],
)
def test_a_path_naming_no_list_finds_nothing(path):
    outer, answers = two_children_with_cartoons()
    assert repeats.find_repeat([outer], path, answers) is None


def test_removing_an_outer_entry_removes_its_inner_entries_and_twice_is_refused():
    outer, answers = two_children_with_cartoons()
    answers = apply(answers, repeats.remove_entry(outer, answers, 1))
    assert not [key for key in answers if key.startswith("children[1]/")]
    assert answers["children[2]/cartoons[1]/name"] == "Tintin"  # the other child's cartoons stay
    before = dict(answers)
    with pytest.raises(repeats.RepeatError):
        repeats.remove_entry(outer, answers, 1)
    assert answers == before
    assert repeats.find_repeat([outer], "children[1]/cartoons", answers) is None  # nothing can be added under it


def test_removing_an_inner_entry_twice_is_refused_with_nothing_changed():
    outer, answers = two_children_with_cartoons()
    ana = repeats.find_repeat([outer], "children[1]/cartoons", answers)
    answers = apply(answers, repeats.remove_entry(ana, answers, 1))
    assert repeats.entry_ids(answers, ana.name) == [2] and "children[1]/cartoons[1]/name" not in answers
    before = dict(answers)
    with pytest.raises(repeats.RepeatError):
        repeats.remove_entry(ana, answers, 1)
    assert answers == before


def test_inner_expressions_read_the_inner_entry_then_the_outer_entry():
    outer, answers = two_children_with_cartoons()
    answers = apply(answers, {"children[1]/shows": "2", "children[2]/shows": "1"})
    first = repeats.find_repeat([outer], "children[1]/shown", answers)
    second = repeats.find_repeat([outer], "children[2]/shown", answers)
    assert (repeats.limit(first, answers), repeats.limit(second, answers)) == (2, 1)  # repeat_count read in each child
    with pytest.raises(repeats.RepeatError):
        repeats.add_entry(second, apply(answers, {"children[2]/shown#entries": "1"}))
    ben = repeats.find_repeat([outer], "children[2]/cartoons", answers)
    context = repeats.entry_context(answers, ben, 1)
    assert context["name"] == "Tintin"  # the inner entry's own `name` first, not the child's
    assert context["shows"] == "1"  # then the outer entry's siblings


def test_required_and_relevance_inside_inner_entries():
    outer, answers = two_children_with_cartoons()
    ana = repeats.find_repeat([outer], "children[1]/cartoons", answers)
    new, changes = repeats.add_entry(ana, answers)
    answers = apply(answers, changes)
    assert repeats.missing_required(ana, answers) == [(new, "name")]
    with pytest.raises(repeats.RepeatError):
        repeats.save_entry(ana, answers, new, {"age": "3"})  # not a question of the inner repeat
    answers = apply(answers, repeats.save_entry(ana, answers, new, {"name": "Nils"}))
    assert repeats.missing_required(ana, answers) == []
    assert ana.questions[1].relevant.evaluate(repeats.entry_context(answers, ana, new))
