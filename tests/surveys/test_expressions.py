"""XLSForm expressions: parsing, ODK-like evaluation, and readable errors with positions."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.expressions import PARTNER_ATTRIBUTES, Expression, ExpressionError, parse
from surveys.relevance import partner_attributes
from synthetic.responses import Partner

ANSWERS = {
    "age": "42",
    "name": "Ana",
    "empty": "",
    "services": "website newsletter events",
    "zero": "0",
    "decimal": "2.50",
    "start": "2024-03-01",
    "partner_category": "workers",
    "partner_action_groups": "supply_chains migration",
    "partner_pathfinder": "yes",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${age} = 42", True),
        ("${age} = '42'", True),
        ("${age} = '42.0'", True),
        ("${decimal} = 2.5", True),
        ("${name} = 'Ana'", True),
        ('${name} = "Ana"', True),
        ("${name} != 'Ana'", False),
        ("${age} > 9", True),  # numeric, not '42' < '9' as text
        ("${age} >= 42 and ${age} <= 42", True),
        ("${age} < 100", True),
        ("${empty} = ''", True),
        ("${missing} = ''", True),
        ("${empty} = 0", False),
        ("${empty} < 5", False),
        ("${empty} > 5", False),
        ("${empty} != 0", True),
        ("${start} < '2024-12-31'", True),  # ISO dates compare as text
        ("${start} > '2024-12-31'", False),
        ("${name}", True),
        ("${empty}", False),
        ("${zero}", True),  # a non-empty answer is truthy, even "0"
        ("0", False),
        ("1", True),
        ("-1 < 0", True),
        ("true()", True),
        ("false()", False),
        ("not(false())", True),
        ("not(${name})", False),
        ("not(${empty})", True),
        ("selected(${services}, 'newsletter')", True),
        ("selected(${services}, 'news')", False),
        ("selected(${empty}, 'newsletter')", False),
        ("count-selected(${services}) = 3", True),
        ("count-selected(${empty}) = 0", True),
        ("count-selected(${services}) > 2 and count-selected(${services}) < 4", True),
        ("string-length(${name}) = 3", True),
        ("selected(${partner_action_groups}, 'migration')", True),
        ("${partner_category} = 'workers' and ${partner_pathfinder} = 'yes'", True),
        ("1 = 1 = 1", True),  # (1 = 1) = 1: a boolean against a number compares as booleans
    ],
)
def test_evaluate(source, expected):
    assert parse(source).evaluate(ANSWERS) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'a' = 'a' or 'a' = 'b' and 'a' = 'b'", True),  # and binds tighter than or
        ("('a' = 'a' or 'a' = 'b') and 'a' = 'b'", False),
        ("false() and false() or true()", True),
        ("false() and (false() or true())", False),
        ("not(true()) or true()", True),
        ("2 > 1 = 1 > 0", True),  # relational binds tighter than equality
    ],
)
def test_precedence(source, expected):
    assert parse(source).evaluate({}) is expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [("7", True), ("3", False), ("", False), (None, False), ("abc", False)]  # XPath: "abc" is NaN, never > 5,
)
def test_current_value(current, expected):
    expression = parse(". > 5")
    assert expression.uses_current
    assert expression.evaluate({}, current) is expected


def test_current_with_selected():
    expression = parse("not(selected(., 'none') and count-selected(.) > 1)")
    assert expression.evaluate({}, "none")
    assert not expression.evaluate({}, "none website")


def test_references_and_source():
    source = "${a} = 'x' or selected(${b}, 'y') and ${partner_region} != ''"
    expression = parse(source)
    assert isinstance(expression, Expression)
    assert expression.source == source
    assert str(expression) == source
    assert expression.references == {"a", "b", "partner_region"}
    assert not expression.uses_current
    assert parse(source) == expression


def test_value_gives_raw_results():
    assert parse("count-selected(${s})").value({"s": "a b"}) == 2
    assert parse("${s}").value({"s": None}) == ""
    assert parse("'text'").value({}) == "text"


def test_today():
    assert parse("today()").value({}) == date.today().isoformat()
    assert parse(". <= today()").evaluate({}, "2000-01-01")


def test_the_names_a_form_may_read_are_what_the_registry_gives_for_a_partner():
    partner = Partner("workers", "africa", pathfinder=False, action_groups="migration", country="GH")
    attributes = partner_attributes(partner)
    assert tuple(attributes) == PARTNER_ATTRIBUTES
    assert all(parse(f"${{{name}}} = '{value}'").evaluate(attributes) for name, value in attributes.items())


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        ("${a} = 'x')", 10, "unexpected ')' at character 11"),
        ("foo(${a})", 0, "unknown function 'foo()'"),
        ("regex(., '(a)\\1')", 0, "back-references and look-arounds are not supported"),
        ("${a} = yes", 7, "unexpected word 'yes'"),
        ("(${a} = 'x'", 11, "expected ')'"),
        ("${a} =", 6, "unexpected end of expression"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("'unclosed", 0, "unclosed quote"),
        ("${a", 0, "unclosed reference"),
        ("${1a} = 1", 0, "not a valid question reference"),
        ("${a} = ‘x’", 7, "curly quote"),
        ("${a} / 2", 5, "write 'div'"),
        ("selected(${a})", 0, "selected() takes 2 arguments, not 1"),
        ("not()", 0, "not() takes 1 argument, not 0"),
        ("and ${a}", 0, "needs a value before it"),
        ("${a} = 1 and", 12, "unexpected end of expression"),
        ("1 2", 2, "unexpected '2'"),
        ("${a} -", 6, "unexpected end of expression"),
        ("${a} mod", 8, "unexpected end of expression"),
        ("mod 2", 0, "needs a value before it"),
        ("${a} * * 2", 7, "unexpected '*'"),
        ("(" * 80 + "1" + ")" * 80, 50, "nested too deeply"),
    ],
)
def test_errors(source, position, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert fragment in caught.value.message
    assert caught.value.position == position
    assert isinstance(caught.value, ValueError)


def test_long_flat_expressions_do_not_recurse():
    assert parse(" and ".join(["${a}"] * 500)).evaluate({"a": "1"})
    assert parse(" = ".join(["1"] * 1200)).evaluate({})


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_anything_else(text):
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
    else:
        assert isinstance(expression.evaluate({}), bool)


ALPHABET = list("${}().,'\" =!<>-+*/0123456789abc") + [
    "div",
    "mod",
    "if(",
    "concat(",
    "regex(",
    "round(",
    "..",
    "../a",
    "and",
    "or",
    "not",
    "selected",
    "count-selected",
    "true",
    "false",
    " ",
    "${a}",
    "${b}",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_parse_never_raises_anything_else_on_expression_like_text(text):
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
    else:
        assert isinstance(expression.evaluate({"a": "1", "b": "x y"}, "2"), bool)
