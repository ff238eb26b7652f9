"""Repeats in Chromium on a 360 px phone (issue 16 §5): entries added, answered and removed with JavaScript (the
repeat's block redrawn in place, answers autosaved) and without it (ordinary submit buttons), a repeat inside a
repeat too; axe checks the page as the partner sees it."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.survey_driver import open_and_start
from tests.browser.test_xlsform_capture import fits_and_passes_axe
from tests.browser_support import partner_link
from tests.surveys.test_nested_repeat_pages import OPTIONAL
from tests.surveys.test_repeat_pages import SURVEY

pytestmark = pytest.mark.browser


@pytest.fixture
def link(app, live_server):
    return partner_link(app, live_server, SURVEY)


stored = factories.stored_answers


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_entries_on_a_phone(app, link, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, link, "page_1")
    page.get_by_label("Organisation").fill("ILO")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/people"))
    expect(page.get_by_text("No entries yet.")).to_be_visible()
    page.get_by_role("button", name="Add an entry").click()
    expect(page.locator('input[name="people[1]/name"]')).to_be_visible()
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)  # htmx listens on the new entry
    age = page.locator('input[name="people[1]/age"]')
    expect(age).to_have_count(0)  # asked once the entry's name is given
    page.locator('input[name="people[1]/name"]').fill("Ana")
    if javascript:  # autosaved as typed, and the entry's age appears in place
        expect(page.locator('[id="feedback-people[1]/name"]')).to_contain_text("Saved")
        expect(age).to_be_visible()
        age.fill("31")
        expect(page.locator('[id="feedback-people[1]/age"]')).to_contain_text("Saved")
    page.get_by_role("button", name="Add an entry").click()
    expect(page.locator('input[name="people[2]/name"]')).to_be_visible()
    # with htmx the block is swapped in place (no redirect to the #r-people anchor); without, the page comes back
    expect(page).to_have_url(re.compile(r"/page/people$" if javascript else r"/page/people#r-people$"))
    assert stored(app)["people[1]/name"] == "Ana"
    expect(age).to_be_visible()  # without JavaScript, on the page that came back
    page.locator('input[name="people[2]/name"]').fill("Ben")
    page.locator("#r-people-1").get_by_role("button", name="Remove this entry").click()
    expect(page.locator('input[name="people[1]/name"]')).to_have_count(0)
    expect(page.locator('input[name="people[2]/name"]')).to_have_value("Ben")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/home"))
    answers = stored(app)
    assert answers["people#entries"] == "2" and answers["people[2]/name"] == "Ben"
    assert not [name for name in answers if name.startswith("people[1]")]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_childs_cartoons_on_a_phone(app, live_server, partner_phone, javascript):
    """A repeat inside a repeat: a child's cartoons added, answered and removed inside the child's entry."""
    page = partner_phone
    open_and_start(page, partner_link(app, live_server, OPTIONAL), "children")
    page.get_by_role("button", name="Add an entry").click()
    child = page.locator('input[name="children[1]/name"]')
    expect(child).to_be_visible()
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)
    child.fill("Ana")
    cartoons = page.locator("#r-children-1-cartoons")
    cartoons.get_by_role("button", name="Add an entry").click()
    first = page.locator('input[name="children[1]/cartoons[1]/name"]')
    expect(first).to_be_visible()
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/page/children$" if javascript else r"/page/children#r-children-1-cartoons$"))
    times = page.locator('input[name="children[1]/cartoons[1]/times"]')
    expect(times).to_have_count(0)  # asked once the cartoon has a name
    first.fill("Totoro")
    if javascript:  # autosaved as typed; the cartoon's own follow-up appears in place
        expect(page.locator('[id="feedback-children[1]/cartoons[1]/name"]')).to_contain_text("Saved")
        expect(times).to_be_visible()
    cartoons.get_by_role("button", name="Add an entry").click()
    second = page.locator('input[name="children[1]/cartoons[2]/name"]')
    expect(second).to_be_visible()
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)
    expect(times).to_be_visible()  # without JavaScript, on the page that came back
    assert stored(app)["children[1]/name"] == "Ana"
    second.fill("Heidi")
    page.locator("#r-children-1-cartoons-1").get_by_role("button", name="Remove this entry").click()
    expect(first).to_have_count(0)
    expect(second).to_have_value("Heidi")
    fits_and_passes_axe(page)
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/(page_|last)"))
    answers = stored(app)
    assert answers["children[1]/cartoons#entries"] == "2" and answers["children[1]/cartoons[2]/name"] == "Heidi"
    assert not [name for name in answers if name.startswith("children[1]/cartoons[1]")]
