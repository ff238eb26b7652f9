"""Same-page follow-ups on a 360 px phone (issue 16.9): without JavaScript, an answer that makes a question on the
same page relevant brings the page back with the new question marked, instead of moving on; with JavaScript the
question appears in place."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.models import Answer
from tests import factories

pytestmark = pytest.mark.browser

CHOICES = [{"list_name": "yn", "name": "yes", "label": "Yes"}, {"list_name": "yn", "name": "no", "label": "No"}]
FORM = [
    {"type": "begin_group", "name": "membership", "label": "Membership"},
    {"type": "select_one yn", "name": "member", "label": "Are you a member of an Action Group?"},
    {"type": "text", "name": "which", "label": "Which Action Group?", "relevant": "${member} = 'yes'"},
    {"type": "end_group", "name": "membership"},
    {"type": "begin_group", "name": "more", "label": "More"},
    {"type": "text", "name": "comment", "label": "Anything else?"},
    {"type": "end_group", "name": "more"},
]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_follow_up_on_the_same_page_is_asked_before_moving_on(app, browser, live_server, javascript):
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(FORM, CHOICES))
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10000)
    try:
        page.goto(f"{live_server}/s/{token}")
        page.get_by_role("button", name="Start the survey").click()
        expect(page).to_have_url(re.compile(r"/page/membership$"))
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
        with app.app_context():
            stored = {a.question: a.value for a in db.session.scalars(db.select(Answer))}
        assert (stored["member"], stored["which"]) == ("yes", "Supply chains")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
