"""A location and a calculation in Chromium on a 360 px phone (issue 16.2 and 16.6), JavaScript on and off: with it,
"Use my location" fills the fields from the browser's position and a calculation shown on the page follows its
inputs in place; without it, the partner types the location and sees the calculation after saving."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.survey_driver import give_location, open_and_start
from tests.browser_support import partner_link
from tests.surveys.test_calculations import FORM
from tests.surveys.test_location import ROWS

pytestmark = pytest.mark.browser

stored = factories.stored_answers


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_location_on_a_phone(app, live_server, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, partner_link(app, live_server, ROWS), "where")
    give_location(page, javascript)
    page.get_by_role("button", name="Save and review your answers").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    latitude, longitude = stored(app)["office"].split()
    assert (float(latitude), float(longitude)) == (5.6037, -0.187)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_calculation_shown_on_a_phone(app, live_server, partner_phone, javascript):
    link = partner_link(app, live_server, FORM, factories.YES_NO)
    page = partner_phone
    open_and_start(page, link, "first")
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
        page.goto(f"{link}/page/first")
        expect(share).to_contain_text("33.3")
    assert stored(app)["share"] == ("50" if javascript else "33.3")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
