"""The XPath subset of real forms: arithmetic, dates, relative paths and ODK functions, with XPath's rules for empty
answers and types (NaN spreads and compares false; text that is no number is NaN; dates are days since 1970)."""

import math
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.expressions import ARITY, Environment, ExpressionError, parse

ANSWERS = {
    "age": "42",
    "income": "1500.5",
    "empty": "",
    "name": "Ana Lopez",
    "email": "ana@example.org",
    "services": "website newsletter events",
    "dob": "1990-06-15",
    "visit": "2024-03-01T10:30:00.000+00:00",
    "count": "3",
}
FIXED = Environment(now=lambda: datetime(2024, 5, 17, 9, 5, 7, tzinfo=UTC),
                    choice_label=lambda question, code: f"{question}:{code.upper()}")


def value(source, answers=ANSWERS, current=None):
    return parse(source).value(answers, current, FIXED)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),  # left to right
        ("2 * 3 div 4", 1.5),
        ("7 mod 3", 1.0),
        ("-7 mod 3", -1.0),  # the dividend's sign, as XPath's mod
        ("-${age}", -42.0),
        ("- -2", 2.0),
        ("${age}-2", 40.0),  # a subtraction without spaces, not part of a name
        ("${age} div 0", math.inf),
        ("${income} * 2", 3001.0),
        ("${count}*${count}", 9.0),
        ("1 + 1 = 2", True),  # arithmetic binds tighter than comparison
        ("3 > 2 + 2", False),
        ("5 mod 2 = 1 and 4 div 2 = 2", True),
    ],
)
def test_arithmetic(source, expected):
    assert value(source) == expected


@pytest.mark.parametrize(
    "source", ["${empty} + 1", "number('abc')", "${name} * 2", "0 div 0", "sum(${empty})", "min(1, ${empty})"]
)
def test_not_a_number_spreads(source):
    assert math.isnan(value(source))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${empty} + 1 > 0", False),  # NaN compares false, both ways
        ("${empty} + 1 < 0", False),
        ("${empty} + 1 = ${empty} + 1", False),
        ("${empty} = ''", True),
        ("${empty} = 0", False),
        ("${name} > 3", False),  # text that is no number never orders against a number
        ("'b' > 'a'", True),  # two texts order as text
        ("${dob} < '2000-01-01'", True),  # dates as dates
        ("${dob} < today()", True),
        ("today() - ${dob} > 365 * 30", True),  # date arithmetic in days
        ("date(${dob} + 1) = '1990-06-16'", True),
        ("${visit} > ${dob}", True),
        ("decimal-date-time('1970-01-02') = 1", True),
        ("true() = 1", True),
        ("false() = ''", True),
        ("boolean('0')", True),  # non-empty text is true
        ("boolean(0)", False),
        ("boolean(0 div 0)", False),
    ],
)
def test_comparisons_and_types(source, expected):
    assert value(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("if(${age} >= 18, 'adult', 'minor')", "adult"),
        ("if(${empty}, 'yes', 'no')", "no"),
        ("coalesce(${empty}, 'fallback')", "fallback"),
        ("coalesce(${name}, 'fallback')", "Ana Lopez"),
        ("concat(${name}, ' (', ${age}, ')')", "Ana Lopez (42)"),
        ("concat()", ""),
        ("selected-at(${services}, 1)", "newsletter"),
        ("selected-at(${services}, 9)", ""),
        ("jr:choice-name(selected-at(${services}, 0), '${services}')", "services:WEBSITE"),
        ("substr(${name}, 0, 3)", "Ana"),
        ("substr(${name}, 4)", "Lopez"),
        ("string(${age} div 4)", "10.5"),
        ("string(1 div 0)", "Infinity"),
        ("string(0 div 0)", "NaN"),
        ("string(true())", "true"),
        ("today()", "2024-05-17"),
        ("now()", "2024-05-17T09:05:07.000+00:00"),
        ("format-date(${dob}, '%d/%m/%Y')", "15/06/1990"),
        ("format-date(${dob}, '%e %b %y')", "15 Jun 90"),
        ("format-date-time(${visit}, '%H:%M')", "10:30"),
        ("format-date(${empty}, '%Y')", ""),
        ("date(0)", "1970-01-01"),
        ("date('1990-06-15T23:00:00')", "1990-06-15"),
        ("indexed-repeat(${name}, ${services}, 1)", "Ana Lopez"),
        ("join(', ', ${name}, ${empty}, ${age})", "Ana Lopez, 42"),
        ("once(today())", "2024-05-17"),
    ],
)
def test_text_functions(source, expected):
    assert value(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("sum(${income})", 1500.5),
        ("count(${age})", 1.0),
        ("count-selected(${services})", 3.0),
        ("string-length(${name})", 9.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -2.0),  # XPath rounds halves up, towards +infinity
        ("round(3.14159, 2)", 3.14),
        ("int(-3.7)", -3.0),
        ("int(${income})", 1500.0),
        ("number('12')", 12.0),
        ("number(true())", 1.0),
        ("min(4, ${age}, 7)", 4.0),
        ("max(4, ${age}, 7)", 42.0),
        ("position(..)", 1.0),
        ("sqrt(16)", 4.0),
        ("pow(2, 10)", 1024.0),
        ("round(15 div (sqrt(cos(atan(10 div 100)))), 2)", 15.04),  # the UCL biomass plot's slope correction
        ("abs(-3)", 3.0),
        ("round(log10(1000))", 3.0),
        ("round(exp(log(5)), 6)", 5.0),
        ("round(pi(), 4)", 3.1416),
        ("round(atan2(1, 1) * 4, 4)", 3.1416),
    ],
)
def test_number_functions(source, expected):
    assert value(source) == expected


@pytest.mark.parametrize("source", ["sqrt(-1)", "log(0)", "sqrt('')", "pow(10, 1000)", "asin(2)"])
def test_math_outside_its_domain_is_not_a_number_not_an_error(source):
    assert math.isnan(value(source))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("contains(${name}, 'Lo')", True),
        ("starts-with(${name}, 'Ana')", True),
        ("ends-with(${name}, 'Ana')", False),
        ("regex(${email}, '^[^@ ]+@[^@ ]+\\.[a-z]{2,}$')", True),
        ("regex('not an email', '^[^@ ]+@[^@ ]+\\.[a-z]{2,}$')", False),
        ("regex(., '[0-9]{4}')", True),  # found anywhere, as ODK's regex()
        ("not(selected(${services}, 'events'))", False),
    ],
)
def test_boolean_functions(source, expected):
    assert value(source, current="code 2024") is expected


def test_once_works_a_value_out_the_first_time_only():
    assert parse("once(now())").value({}, None, FIXED) == "2024-05-17T09:05:07.000+00:00"
    assert parse("once(now())").value({}, "2020-01-01T00:00:00.000+00:00", FIXED) == "2020-01-01T00:00:00.000+00:00"


def test_relative_references():
    expression = parse("../age > 18 and ./name != '' and /data/group/email != ''")
    assert expression.references == {"age", "name", "email"}
    assert expression.evaluate(ANSWERS)
    assert parse("..").value(ANSWERS) == ""


def test_catastrophic_pattern_runs_in_linear_time():
    """A pattern that takes Python's backtracking engine exponential time is answered at once by RE2."""
    start = time.perf_counter()
    assert value("regex(., '^(a+)+$')", current="a" * 5000 + "!") is False
    assert time.perf_counter() - start < 1


def test_a_pattern_built_from_answers_that_cannot_run_is_false():
    assert value("regex('aa', concat('(a)', '\\1'))") is False


def test_volatile_and_text():
    assert parse("today() > ${dob}").volatile and parse("now()").volatile
    assert not parse("${age} + 1").volatile
    assert parse("${age} div 4").text(ANSWERS) == "10.5"
    assert parse("${empty} + 1").text(ANSWERS) == ""  # a calculation that is no number is stored empty


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("pulldata('x', 'y', 'z', 'w')", "unknown function 'pulldata()'"),
        ("if(1, 2)", "if() takes 3 arguments, not 2"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, not 3"),
        ("min()", "min() takes 1 or more arguments, not 0"),
        ("regex(., '(?=a)')", "cannot be used"),
        ("jr:choice-name(., '${1bad}')", "not a valid question reference"),
    ],
)
def test_refused(source, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert fragment in caught.value.message


def test_every_function_of_the_issue_is_known():
    wanted = ["if", "coalesce", "concat", "sum", "count", "count-selected", "selected", "selected-at", "jr:choice-name", "string-length", "substr", "contains", "starts-with", "ends-with", "regex", "round", "int", "number", "string", "boolean", "not", "true", "false", "today", "now", "date", "decimal-date-time", "format-date", "min", "max", "position", "indexed-repeat"]
    assert set(wanted) <= set(ARITY)


NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(["", "abc", "0", "-0.5", "2024-01-31"]))


@settings(max_examples=200, deadline=None)
@given(NUMBERS, NUMBERS, st.sampled_from(["+", "-", "*", "div", "mod"]))
def test_arithmetic_follows_xpath_numbers(left, right, operator):
    """Any answer in an arithmetic gives a number; an empty or non-numeric side makes it NaN, never an error."""
    result = parse(f"${{a}} {operator} ${{b}}").value({"a": left, "b": right})
    assert isinstance(result, float)
    if "" in (left, right) or "abc" in (left, right):
        assert math.isnan(result)


@settings(max_examples=200, deadline=None)
@given(NUMBERS, NUMBERS)
def test_comparison_is_consistent(left, right):
    """Exactly one of <, =, > holds for two numbers; none of them for NaN; != is always the negation of =."""
    answers = {"a": left, "b": right}
    lt, eq, gt = (parse(f"${{a}} {op} ${{b}}").evaluate(answers) for op in ("<", "=", ">"))
    assert parse("${a} != ${b}").evaluate(answers) is not eq
    if left not in ("", "abc") and right not in ("", "abc"):
        assert [lt, eq, gt].count(True) == 1
    if "" in (left, right):
        assert not lt and not gt
