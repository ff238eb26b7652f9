"""Cascading choices in Chromium on a 360 px phone (issue 16.4): with JavaScript the districts follow the country
in place; without it, "Save and continue" brings the page back with the narrowed districts before moving on."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.survey_driver import open_and_start
from tests.browser_support import partner_link
from tests.surveys.test_cascades import CHOICES, FORM

pytestmark = pytest.mark.browser


@pytest.fixture
def link(app, live_server):
    return partner_link(app, live_server, FORM, CHOICES)


stored = factories.stored_answers


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_districts_follow_the_country_on_a_phone(app, link, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, link, "place")
    districts = page.locator("#q-district input[name=district]")
    expect(districts).to_have_count(0)
    page.get_by_label("Kenya").check()
    if javascript:
        expect(districts).to_have_count(2)  # redrawn in place by the autosave, without leaving the page
    else:
        page.get_by_role("button", name="Save and continue").click()
        expect(page.get_by_text("The options of a question on this page changed")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/page/place$"))
    expect(page.get_by_label("Nairobi")).to_be_visible()
    expect(page.get_by_label("Kampala")).to_have_count(0)
    page.get_by_label("Uganda").check()
    if not javascript:
        page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_label("Kampala")).to_be_visible()
    expect(page.get_by_label("Nairobi")).to_have_count(0)
    page.get_by_label("Kampala").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/more$"))
    assert (stored(app)["country"], stored(app)["district"]) == ("ug", "kampala")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
