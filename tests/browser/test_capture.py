"""A location and a calculation in Chromium on a 360 px phone (issue 16.2 and 16.6), JavaScript on and off: with it,
"Use my location" fills the fields from the browser's position and a calculation shown on the page follows its
inputs in place; without it, the partner types the location and sees the calculation after saving."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.models import Answer
from tests import factories
from tests.surveys.test_calculations import FORM, YES_NO
from tests.surveys.test_location import ROWS

pytestmark = pytest.mark.browser


def stored(app) -> dict:
    with app.app_context():
        return {a.question: a.value for a in db.session.scalars(db.select(Answer))}


def phone(browser, javascript: bool, **options):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 800}, **options)
    page = context.new_page()
    page.set_default_timeout(10000)
    return context, page


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_location_on_a_phone(app, browser, live_server, javascript):
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(ROWS))
    context, page = phone(browser, javascript, geolocation={"latitude": 5.6037, "longitude": -0.187},
                          permissions=["geolocation"])
    try:
        page.goto(f"{live_server}/s/{token}")
        page.get_by_role("button", name="Start the survey").click()
        expect(page).to_have_url(re.compile(r"/page/where$"))
        button = page.get_by_role("button", name="Use my location")
        if javascript:
            button.click()
            expect(page.get_by_label("Latitude")).to_have_value("5.603700")
            expect(page.get_by_label("Longitude")).to_have_value("-0.187000")
        else:
            expect(button).to_be_hidden()
            page.get_by_label("Latitude").fill("5.6037")
            page.get_by_label("Longitude").fill("-0.187")
        page.get_by_role("button", name="Save and review your answers").click()
        expect(page).to_have_url(re.compile(r"/review$"))
        latitude, longitude = stored(app)["office"].split()
        assert (float(latitude), float(longitude)) == (5.6037, -0.187)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_calculation_shown_on_a_phone(app, browser, live_server, javascript):
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(FORM, YES_NO))
    context, page = phone(browser, javascript)
    try:
        page.goto(f"{live_server}/s/{token}")
        page.get_by_role("button", name="Start the survey").click()
        expect(page).to_have_url(re.compile(r"/page/first$"))
        share = page.locator("#q-share")
        page.locator("#f-men").fill("8")
        page.locator("#f-women").fill("4")
        page.locator("#f-women").blur()
        if javascript:
            expect(share).to_contain_text("33.3")  # redrawn in place after the autosave
            page.locator("#f-women").fill("8")
            page.locator("#f-women").blur()
            expect(share).to_contain_text("50")
            expect(page).to_have_url(re.compile(r"/page/first$"))
        else:
            expect(share).not_to_contain_text("33.3")
            page.get_by_label("Yes").check()
            page.get_by_role("button", name="Save and continue").click()
            expect(page.get_by_text("You told us about 12 staff (Yes).")).to_be_visible()
            page.goto(f"{live_server}/s/{token}/page/first")
            expect(share).to_contain_text("33.3")
        assert stored(app)["share"] == ("50" if javascript else "33.3")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
