"""One way to write a date in each language, in pages, emails and exports' labels: Babel's long date with the month
written out ("3 January 2027" is never "01/03/2027"), and times to the minute in UTC after it."""

from datetime import date, datetime

from babel.dates import format_date
from flask import Flask, has_request_context
from flask_babel import get_locale

from .timestamps import as_utc


def current_language() -> str:
    """The page's language in a request, else English (commands, mail jobs pass their own)."""
    return str(get_locale() or "en") if has_request_context() else "en"


def long_date(value: date | datetime | None, language: str | None = None) -> str:
    """3 January 2027, 3 janvier 2027, 3 de enero de 2027 (a timestamp gives its UTC day); empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).date()
    return format_date(value, "long", locale=language or current_language())


def date_time(value: datetime | None, language: str | None = None) -> str:
    """The long date, then the time in UTC to the minute: 3 janvier 2027, 05:07 UTC; empty for None."""
    if value is None:
        return ""
    moment = as_utc(value)
    return f"{long_date(moment.date(), language)}, {moment:%H:%M} UTC"


def init_dates(app: Flask) -> None:
    """The templates' filters: {{ round.closes_on|long_date }}, {{ entry.at|date_time }}."""
    app.jinja_env.filters.update(long_date=long_date, date_time=date_time)
