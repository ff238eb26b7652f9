"""XPath's conversions between text, numbers, booleans and dates, as ODK applies them to stored answers.

Every answer is stored as text ("" when unanswered, space-separated codes for select_multiple). Numbers follow
XPath: text that is not a number (and so an empty answer) converts to NaN, NaN compares false with everything and
spreads through arithmetic. Dates are ISO text; in arithmetic and against a number they stand for days since
1970-01-01 (a date-time for a fraction of a day), as in ODK.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

Value = str | float | bool

NAN = float("nan")
EPOCH = date(1970, 1, 1)
_NUMERIC = re.compile(r"^\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$")
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_DATETIME = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def plain_number(value: Value) -> float | None:
    """The number a value is written as (a float, or numeric text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if _NUMERIC.match(value):
        return float(value)
    return None


def as_datetime(value: Value) -> datetime | None:
    """The moment an ISO date or date-time text stands for (dates at midnight UTC), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DATE.match(text)
    try:
        if match:
            return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
        if _DATETIME.match(text):
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        return None
    return None


def as_days(value: Value) -> float | None:
    """Days since 1970-01-01 of a date or date-time text, or None."""
    moment = as_datetime(value)
    if moment is None:
        return None
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(days=1)


def as_number(value: Value) -> float:
    """XPath number(): booleans as 1/0, numeric text as its number, dates as days, anything else NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    number = plain_number(value)
    if number is not None:
        return number
    days = as_days(value)
    return NAN if days is None else days


def as_text(value: Value) -> str:
    """XPath string(): whole numbers without decimals, NaN and Infinity by name, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def truthy(value: Value) -> bool:
    """XPath boolean(): non-empty text, a non-zero number (NaN is false), or true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return value != ""


def date_text(days: float) -> str:
    """The ISO date of a number of days since 1970-01-01 ("" when it is not a finite number)."""
    if math.isnan(days) or math.isinf(days):
        return ""
    try:
        return (EPOCH + timedelta(days=math.floor(days))).isoformat()
    except OverflowError:
        return ""


def compare(operator: str, left: Value, right: Value) -> bool:
    """=, !=, <, <=, >, >= with XPath's rules, dates compared as dates, and empty answers never ordered."""
    if operator in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            same = truthy(left) == truthy(right)
        else:
            same = _equal(left, right)
        return same if operator == "=" else not same
    a, b = _ordered(left, right)
    if a is None:
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]


def _equal(left: Value, right: Value) -> bool:
    left_number, right_number = plain_number(left), plain_number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    if left_number is not None or right_number is not None:  # a date against a number of days
        left_days = left_number if left_number is not None else as_days(left)
        right_days = right_number if right_number is not None else as_days(right)
        if left_days is not None and right_days is not None:
            return left_days == right_days
    return as_text(left).strip() == as_text(right).strip()


def _ordered(left: Value, right: Value) -> tuple:
    """Both sides as numbers (dates as days) when they can be, else as text; (None, None) when one is empty."""
    if isinstance(left, bool) or isinstance(right, bool):
        return as_number(left), as_number(right)
    a, b = plain_number(left), plain_number(right)
    if a is not None and b is not None:
        return a, b
    a = a if a is not None else as_days(left)
    b = b if b is not None else as_days(right)
    if a is not None and b is not None:
        return a, b
    a_text, b_text = as_text(left), as_text(right)
    if a_text.strip() == "" or b_text.strip() == "":
        return None, None
    if plain_number(left) is not None or plain_number(right) is not None:
        return None, None  # a number against text that is no number: NaN, so false
    return a_text, b_text


def arithmetic(operator: str, left: Value, right: Value) -> float:
    """+ - * div mod on XPath numbers: NaN spreads, division by zero gives Infinity, mod keeps the dividend's sign."""
    a, b = as_number(left), as_number(right)
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if operator == "div":
        if b == 0:
            if a == 0 or math.isnan(a):
                return NAN
            return math.copysign(math.inf, a) * math.copysign(1, b)
        return a / b
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return NAN
    return math.fmod(a, b)
