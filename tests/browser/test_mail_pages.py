"""The sending confirmation and the mail texts in a browser: axe-core on each page at both widths, and the
confirmation then the texts' preview used with JavaScript (htmx) without a CSP violation."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.models import Round
from tests.browser.test_accessibility import WIDTHS, assert_none, check, context_at  # noqa: F401
from tests.browser_support import sign_in

pytestmark = pytest.mark.browser


def bad_placeholder(page):
    """a text with an unknown placeholder, saved"""
    page.get_by_label("Subject").fill("Hello {organization}")
    page.get_by_role("button", name="Save").click()
    page.locator(".error-message").first.wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_mail_pages_have_no_accessibility_violation(app, live_server, demo_links, context_at, width):  # noqa: F811
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    page = context_at(width)
    problems = {}
    sign_in(page, live_server, "admin")
    for path in (f"/secretariat/rounds/{round_id}/send", f"/secretariat/rounds/{round_id}/remind?force=1",
                 f"/secretariat/rounds/{round_id}/mail/invitation/fr",
                 f"/secretariat/rounds/{round_id}/mail/reminder/es"):
        check(page, live_server + path, problems, 200)
    check(page, f"{live_server}/secretariat/rounds/{round_id}/mail/invitation/en", problems, 200,
          then=bad_placeholder)
    assert_none(problems, width)


def test_confirm_then_send_and_edit_a_text_with_javascript(app, js_page, live_server, demo_links):
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    page = js_page
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/secretariat/rounds/{round_id}")
    page.get_by_role("button", name=re.compile(r"Send invitations \(\d+ not yet sent\)")).click()
    confirmation = page.locator("#send-report")
    expect(confirmation).to_contain_text("will be mailed")
    expect(page).to_have_url(f"{live_server}/secretariat/rounds/{round_id}")  # a fragment, not a new page
    page.get_by_role("button", name=re.compile(r"^Send \d+ invitations?$")).click()
    expect(confirmation).to_contain_text("invitations sent.", timeout=30000)

    page.get_by_role("link", name="Invitation and reminder texts").click()
    page.get_by_label("Subject").fill("Your views, {organisation}")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".mail-preview")).to_contain_text("Your views, ")
    page.get_by_label("Subject").fill("Your views, {organization}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#mail-text-editor")).to_contain_text("{organization} is not a placeholder")
    assert page.csp.violations == []
