"""A repeat inside a repeat in Chromium on a 360 px phone (issue 16 §5): a child's cartoons added, answered and
removed inside the child's entry, with JavaScript (the inner block redrawn in place, answers autosaved) and without
it (ordinary submit buttons); axe checks the page as the partner sees it."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.survey_driver import open_and_start
from tests.browser.test_xlsform_capture import fits_and_passes_axe
from tests.browser_support import partner_link
from tests.surveys.test_nested_repeat_pages import OPTIONAL

pytestmark = pytest.mark.browser


@pytest.fixture
def link(app, live_server):
    return partner_link(app, live_server, OPTIONAL)


stored = factories.stored_answers


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_childs_cartoons_on_a_phone(app, link, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, link, "children")
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
