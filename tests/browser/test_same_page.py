"""Same-page follow-ups on a 360 px phone (issue 16.9): without JavaScript, an answer that makes a question on the
same page relevant brings the page back with the new question marked, instead of moving on; with JavaScript the
question appears in place."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.survey_driver import open_and_start
from tests.browser_support import partner_link

pytestmark = pytest.mark.browser

FORM = [
    *factories.group(
        "membership", "Membership",
        {"type": "select_one yn", "name": "member", "label": "Are you a member of an Action Group?"},
        {"type": "text", "name": "which", "label": "Which Action Group?", "relevant": "${member} = 'yes'"},
    ),
    *factories.group("more", "More", {"type": "text", "name": "comment", "label": "Anything else?"}),
]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_follow_up_on_the_same_page_is_asked_before_moving_on(app, live_server, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, partner_link(app, live_server, FORM, factories.YES_NO), "membership")
    follow_up = page.get_by_label("Which Action Group?")
    expect(follow_up).to_be_hidden()
    page.get_by_label("Yes").check()
    if javascript:
        expect(follow_up).to_be_visible()  # shown in place, before the partner moves on
    else:
        page.get_by_role("button", name="Save and continue").click()
        expect(page).to_have_url(re.compile(r"/page/membership"))
        expect(page.get_by_text("A new question appeared because of your answers")).to_be_visible()
        expect(page.locator("#q-which.is-new")).to_be_visible()
    follow_up.fill("Supply chains")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/more(#new-questions)?$"))  # a redirect keeps the anchor
    stored = factories.stored_answers(app)
    assert (stored["member"], stored["which"]) == ("yes", "Supply chains")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
