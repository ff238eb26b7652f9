"""Coding the open answers in a real browser with JavaScript off, on a phone: plain forms and POST-redirect-GET."""

import re

import pytest
from playwright.sync_api import expect

from analysis.models import CommentCode
from engagement.extensions import db
from surveys.models import Round
from surveys.versions import definition_for
from synthetic.responses import fill_round
from tests.browser_support import sign_in

pytestmark = pytest.mark.browser


def test_an_analyst_codes_comments_without_javascript_on_a_phone(app, live_server, demo_links, browser):
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        fill_round(round_.id, definition_for(round_.survey_version), 60, submitted_share=1.0)
        db.session.commit()
        round_id = round_.id
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10000)
    try:
        sign_in(page, live_server, "analyst")
        page.goto(f"{live_server}/secretariat/rounds/{round_id}/coding")
        page.locator("ul.coding-questions a[href$='/coding/one_change']").click()
        for name in ("Meetings", "Funding"):
            page.locator("#new-name").fill(name)
            page.get_by_role("button", name="Add the theme").click()
            expect(page.locator(".codebook-themes")).to_contain_text(name)
        page.locator("#new-name").fill("meetings")
        page.get_by_role("button", name="Add the theme").click()
        expect(page.get_by_role("alert")).to_contain_text("already called")
        page.goto(f"{live_server}/secretariat/rounds/{round_id}/coding/one_change")
        for index in range(3):
            comment = page.locator("li.coding-comment").nth(index)
            comment.get_by_label("Meetings").check()
            comment.get_by_label("Quotable in the report").check()
            comment.get_by_role("button", name="Save").click()
            expect(page).to_have_url(re.compile(r"#comment-\d+$"))
        expect(page.locator("#progress")).to_contain_text("3 of")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CommentCode.id))) == 3
