"""The XPath and ODK functions a form may call: how many arguments each takes and what it computes.

Each function receives its already-evaluated arguments (except `if`, `coalesce` and the boolean ones, which the
evaluator handles lazily) and an `Environment` that knows today's date and the choice labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import re2

from .nodesets import NodeSet
from .values import NAN, Value, as_datetime, as_days, as_number, as_text, date_text, plain_number, truthy

MAX_PATTERN = 1000  # characters of a regex() pattern
MAX_SUBJECT = 100_000  # characters of text regex() looks into


@dataclass
class Environment:
    """What an evaluation may read besides the answers: the clock and the labels of choices."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    choice_label: Callable[[str, str], str] | None = None  # (question name, code) -> label in the partner's language


# name -> (fewest arguments, most arguments or None for any number)
ARITY: dict[str, tuple[int, int | None]] = {
    "if": (3, 3), "coalesce": (2, 2), "concat": (0, None), "sum": (1, 1), "count": (1, 1),
    "count-selected": (1, 1), "selected": (2, 2), "selected-at": (2, 2), "jr:choice-name": (2, 2),
    "string-length": (1, 1), "substr": (2, 3), "contains": (2, 2), "starts-with": (2, 2), "ends-with": (2, 2),
    "regex": (2, 2), "round": (1, 2), "int": (1, 1), "number": (1, 1), "string": (1, 1), "boolean": (1, 1),
    "not": (1, 1), "true": (0, 0), "false": (0, 0), "today": (0, 0), "now": (0, 0), "date": (1, 1),
    "decimal-date-time": (1, 1), "format-date": (2, 2), "format-date-time": (2, 2), "min": (1, None),
    "max": (1, None), "position": (0, 1), "indexed-repeat": (3, 3), "once": (1, 1), "join": (1, None),
    "pow": (2, 2), "atan2": (2, 2), "pi": (0, 0), "abs": (1, 1),
    **{name: (1, 1) for name in ("sqrt", "exp", "exp10", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan")},
}
# ODK's math functions of one number; a value outside their domain (sqrt(-1), log(0)) gives NaN, as in ODK.
MATH: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt, "exp": math.exp, "exp10": lambda x: 10.0 ** x, "log": math.log, "log10": math.log10,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "abs": abs,
}
VOLATILE = ("today", "now")  # results that change with the clock


def codes(value: Value) -> list[str]:
    return as_text(value).split()


def pattern_problem(pattern: str) -> str | None:
    """Why a regex() pattern cannot be used (too long, or not a pattern a safe engine runs), or None."""
    if len(pattern) > MAX_PATTERN:
        return f"the regex pattern is longer than {MAX_PATTERN} characters"
    try:
        re2.compile(pattern)
    except re2.error as error:
        return (f"the regex pattern '{pattern}' cannot be used ({error}); back-references and look-arounds "
                "are not supported")
    return None


def regex(subject: Value, pattern: Value) -> bool:
    """Whether the pattern matches somewhere in the text, run by RE2 (linear time: no catastrophic patterns)."""
    pattern_text = as_text(pattern)
    if pattern_problem(pattern_text) is not None:
        return False
    return re2.search(pattern_text, as_text(subject)[:MAX_SUBJECT]) is not None


def xpath_round(value: Value, digits: Value = 0.0) -> float:
    """XPath round(): halves go up (towards +infinity); a second argument keeps that many decimals (ODK)."""
    number, places = as_number(value), as_number(digits)
    if math.isnan(number) or math.isinf(number) or math.isnan(places):
        return number if not math.isnan(places) else NAN
    scale = 10 ** int(places)
    return math.floor(number * scale + 0.5) / scale


def xpath_int(value: Value) -> float:
    number = as_number(value)
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def substr(text: Value, start: Value, end: Value | None = None) -> str:
    """ODK substr(): 0-based start, end not included."""
    string = as_text(text)
    first, last = as_number(start), len(string) if end is None else as_number(end)
    if math.isnan(first) or math.isnan(last):
        return ""
    first, last = max(0, int(first)), min(len(string), int(last))
    return string[first:last] if first < last else ""


def to_date(value: Value) -> str:
    """date(): a number of days since 1970 or a date(-time) text, as an ISO date ("" when it is neither)."""
    if isinstance(value, str) and plain_number(value) is None:
        moment = as_datetime(value)
        return moment.date().isoformat() if moment else ""
    return date_text(as_number(value))


def decimal_date_time(value: Value) -> float:
    days = as_days(value) if isinstance(value, str) else None
    return days if days is not None else as_number(value)


_FORMATS = {
    "%Y": lambda m: f"{m.year:04d}", "%y": lambda m: f"{m.year % 100:02d}", "%m": lambda m: f"{m.month:02d}",
    "%n": lambda m: str(m.month), "%b": lambda m: m.strftime("%b"), "%d": lambda m: f"{m.day:02d}",
    "%e": lambda m: str(m.day), "%a": lambda m: m.strftime("%a"), "%H": lambda m: f"{m.hour:02d}",
    "%h": lambda m: str(m.hour), "%M": lambda m: f"{m.minute:02d}", "%S": lambda m: f"{m.second:02d}",
    "%3": lambda m: f"{m.microsecond // 1000:03d}",
}


def format_date(value: Value, pattern: Value) -> str:
    """format-date(): ODK's %Y %y %m %n %b %d %e %a %H %h %M %S %3; "" for a value that is no date."""
    moment = as_datetime(value) if isinstance(value, str) else None
    if moment is None and not isinstance(value, str):
        days = as_number(value)
        moment = as_datetime(date_text(days)) if not math.isnan(days) else None
    if moment is None:
        return ""
    text, out, index = as_text(pattern), [], 0
    while index < len(text):
        piece = text[index:index + 2]
        if piece in _FORMATS:
            out.append(_FORMATS[piece](moment))
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def extreme(choose, arguments: list[Value]) -> float:
    """min()/max(): NaN when any value is not a number (an empty answer included), as in XPath 2."""
    numbers = [as_number(argument) for argument in arguments]
    if not numbers or any(math.isnan(n) for n in numbers):
        return NAN
    return choose(numbers)


def number_function(function, *numbers: float) -> float:
    """A math function of numbers: NaN in, or a value outside its domain, gives NaN (never an error)."""
    try:
        return float(function(*numbers))
    except (ValueError, OverflowError, ZeroDivisionError):
        return NAN


def call(name: str, arguments: list[Value], environment: Environment) -> Value:
    """Apply a function whose arguments are evaluated (every function but the lazy ones)."""
    if name == "concat":
        return "".join(as_text(a) for a in arguments)
    if name == "join":
        return as_text(arguments[0]).join(as_text(a) for a in arguments[1:] if as_text(a) != "")
    if name == "sum" and isinstance(arguments[0], NodeSet):  # unanswered entries count as nothing, not NaN
        return float(sum(as_number(v) for v in arguments[0].values if v.strip() != ""))
    if name == "count" and isinstance(arguments[0], NodeSet):
        return float(len(arguments[0].values))
    if name in ("sum", "number"):
        return as_number(arguments[0])
    if name == "count":
        return 1.0
    if name == "count-selected":
        return float(len(codes(arguments[0])))
    if name == "selected":
        return as_text(arguments[1]).strip() in codes(arguments[0])
    if name == "selected-at":
        index, chosen = as_number(arguments[1]), codes(arguments[0])
        return chosen[int(index)] if not math.isnan(index) and 0 <= int(index) < len(chosen) else ""
    if name == "jr:choice-name":
        code = as_text(arguments[0])
        question = as_text(arguments[1]).strip()
        if question.startswith("${") and question.endswith("}"):
            question = question[2:-1].strip()
        if environment.choice_label is None or code == "":
            return code
        return environment.choice_label(question, code)
    if name == "string-length":
        return float(len(as_text(arguments[0])))
    if name == "substr":
        return substr(*arguments)
    if name == "contains":
        return as_text(arguments[1]) in as_text(arguments[0])
    if name == "starts-with":
        return as_text(arguments[0]).startswith(as_text(arguments[1]))
    if name == "ends-with":
        return as_text(arguments[0]).endswith(as_text(arguments[1]))
    if name == "regex":
        return regex(arguments[0], arguments[1])
    if name == "round":
        return xpath_round(*arguments)
    if name == "int":
        return xpath_int(arguments[0])
    if name == "string":
        return as_text(arguments[0])
    if name == "boolean":
        return truthy(arguments[0])
    if name == "not":
        return not truthy(arguments[0])
    if name in ("true", "false"):
        return name == "true"
    if name == "today":
        return environment.now().date().isoformat()
    if name == "now":
        return environment.now().isoformat(timespec="milliseconds")
    if name == "date":
        return to_date(arguments[0])
    if name == "decimal-date-time":
        return decimal_date_time(arguments[0])
    if name in ("format-date", "format-date-time"):
        return format_date(arguments[0], arguments[1])
    if name in MATH:
        return number_function(MATH[name], as_number(arguments[0]))
    if name == "pow":
        return number_function(math.pow, as_number(arguments[0]), as_number(arguments[1]))
    if name == "atan2":
        return number_function(math.atan2, as_number(arguments[0]), as_number(arguments[1]))
    if name == "pi":
        return math.pi
    if name == "min":
        return extreme(min, arguments)
    if name == "max":
        return extreme(max, arguments)
    if name == "position":
        return 1.0  # outside a repeat, a node is the first of its kind
    if name == "indexed-repeat":
        index = as_number(arguments[2])
        if isinstance(arguments[0], NodeSet):
            values = arguments[0].values
            return values[int(index) - 1] if not math.isnan(index) and 1 <= int(index) <= len(values) else ""
        return arguments[0] if index == 1 else ""
    raise KeyError(name)
