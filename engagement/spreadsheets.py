"""Cells for a spreadsheet: text it could run as a formula is neutralised on the way out and restored on the way in.

Every CSV and XLSX file the platform writes (the registry, a round's invitations, the exports, the report's tables)
goes through `neutralise`; the registry's import reads its own exports back through `unneutralise`. No Flask here,
so the analysis's exports can use it.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
RISKY_FIRST = frozenset("=+-@\t\r'")  # a cheap first test before the expression
NEUTRALISE = re.compile(r"'*[=+\-@\t\r]")
NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(value):
    """Text that starts with =, +, -, @, a tab or a carriage return gets a leading quote; anything else is unchanged.

    Text that starts with quotes before such a character gets one more, so `unneutralise` undoes it exactly.
    Numbers, None and empty text pass unchanged.
    """
    if value.__class__ is str and value[:1] in RISKY_FIRST and NEUTRALISE.match(value):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The text as it was before `neutralise` (for reading a file the platform wrote back in)."""
    return value[1:] if NEUTRALISED.match(value) else value


BOM = "\ufeff"  # UTF-8 byte-order mark: without it Excel on Windows reads "Ministère" as "MinistÃ¨re"
NO = ("0", "false", "no", "off")


def wants_bom(value: str | None) -> bool:
    """Every CSV starts with a byte-order mark unless the request says bom=0 (for tools that dislike it)."""
    return (value or "").strip().lower() not in NO
