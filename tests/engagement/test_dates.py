"""One date format per language (Babel's long date, month written out) in pages, emails and exports' labels."""

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from babel.dates import format_date

from engagement.dates import date_time, long_date
from tests.analysis.test_loader import every_type_survey
from tests.conftest import signed_in
from tests.factories import open_round_for, organisation
from tests.security.servers import ROOT


@pytest.mark.parametrize("language, day, moment", [
    ("en", "January 3, 2027", "January 3, 2027, 05:07 UTC"),
    ("fr", "3 janvier 2027", "3 janvier 2027, 05:07 UTC"),
    ("es", "3 de enero de 2027", "3 de enero de 2027, 05:07 UTC"),
])
def test_one_long_date_per_language(language, day, moment):
    assert long_date(date(2027, 1, 3), language) == day
    assert date_time(datetime(2027, 1, 3, 5, 7, 59, tzinfo=UTC), language) == moment
    assert date_time(datetime(2027, 1, 3, 5, 7), language) == moment  # stored naive: UTC (SQLite)


def test_a_timestamp_is_written_on_its_utc_day_and_nothing_gives_empty_text():
    geneva = timezone(timedelta(hours=1))
    assert long_date(datetime(2027, 1, 3, 0, 30, tzinfo=geneva), "en") == "January 2, 2027"
    assert date_time(datetime(2027, 1, 3, 0, 30, tzinfo=geneva), "en") == "January 2, 2027, 23:30 UTC"
    assert long_date(None) == "" and date_time(None) == ""


def test_without_a_request_dates_are_in_english(app):
    with app.app_context():
        assert long_date(date(2027, 1, 3)) == "January 3, 2027"


def test_secretariat_pages_write_the_closing_date_in_the_readers_language(app, client):
    with app.app_context():
        organisation()
        round_, _tokens = open_round_for(every_type_survey())
        round_id, closes_on = round_.id, round_.closes_on
    signed_in(client, "admin")
    for language in ("en", "fr"):
        written = format_date(closes_on, "long", locale=language)
        headers = {"Accept-Language": language}
        for url in ("/secretariat/", f"/secretariat/rounds/{round_id}", f"/secretariat/rounds/{round_id}/dashboard"):
            html = client.get(url, headers=headers).get_data(as_text=True)
            assert written in html, (language, url)
            assert f">{closes_on.isoformat()}<" not in html


def test_templates_use_the_date_filters_only():
    """Dates are written by |long_date and |date_time: no strftime, no Babel pattern of a page's own."""
    for path in (ROOT / "templates").rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"strftime|\|\s*(date|datetime)format", text), path
        shown = re.sub(r'(datetime|value|min)="{{[^}]*}}"|min=today\.isoformat\(\)', "", text)
        assert ".isoformat()" not in shown, path
