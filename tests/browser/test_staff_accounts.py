"""Staff accounts in Chromium, by keyboard: an admin invites a colleague (JavaScript on), who chooses a password and
signs in on a phone without JavaScript; a forgotten password is reset the same way."""

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engagement.mail import wait_for_background_mail
from tests.browser_support import sign_in
from tests.conftest import ANALYST

pytestmark = pytest.mark.browser


@pytest.fixture
def phone_without_javascript(browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


def mailed_link(app, recipient: str, kind: str) -> str:
    """The link of the last mail to `recipient` in the development outbox."""
    wait_for_background_mail()
    files = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    for path in reversed(files):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if recipient in str(message["To"]):
            text = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(rf"http://\S+/{kind}/\S+", text).group(0)
    raise AssertionError(f"no mail to {recipient}")


def test_invite_a_colleague_who_chooses_a_password_and_signs_in(app, js_page, phone_without_javascript,
                                                                 live_server, demo_links):
    admin = js_page
    sign_in(admin, live_server, "admin")
    admin.get_by_role("link", name="Staff").click()
    admin.get_by_label("Colleague's email").fill("ines.moreau@alliance87.example")
    admin.get_by_label("Role", exact=True).select_option("analyst")
    admin.get_by_label("Colleague's email").press("Enter")  # the keyboard's way to send the form
    expect(admin.get_by_text("An invitation was sent to ines.moreau@alliance87.example")).to_be_visible()
    expect(admin.locator("#staff")).to_contain_text("Invitations waiting")
    assert admin.csp.violations == []

    colleague = phone_without_javascript
    colleague.goto(mailed_link(app, "ines.moreau@alliance87.example", "accept-invitation"))
    expect(colleague.get_by_role("heading", name="Choose your password")).to_be_visible()
    colleague.get_by_label("New password", exact=True).fill("password1234")
    colleague.get_by_label("The new password again").fill("password1234")
    colleague.get_by_label("The new password again").press("Enter")
    expect(colleague.get_by_text("one of the most common")).to_be_visible()
    colleague.get_by_label("New password", exact=True).fill("lantern harbour quietly")
    colleague.get_by_label("The new password again").fill("lantern harbour quietly")
    colleague.get_by_label("The new password again").press("Enter")
    expect(colleague.get_by_text("Your password is set. Sign in with it now.")).to_be_visible()
    colleague.get_by_label("Email").fill("ines.moreau@alliance87.example")
    colleague.get_by_label("Password").fill("lantern harbour quietly")
    colleague.get_by_label("Password").press("Enter")
    expect(colleague).to_have_url(re.compile(r"/secretariat/$"))
    expect(colleague.get_by_text("ines.moreau@alliance87.example (analyst)")).to_be_visible()
    expect(colleague.get_by_role("link", name="Staff")).to_have_count(0)
    colleague.get_by_role("link", name="Your account").click()
    expect(colleague.get_by_role("heading", name="Change your password")).to_be_visible()
    wide = colleague.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361).map(e => e.tagName + "." + e.className)""")
    assert not wide, wide  # nothing wider than the phone


def test_a_forgotten_password_is_reset_on_a_phone_without_javascript(app, phone_without_javascript, live_server,
                                                                     demo_links):
    page = phone_without_javascript
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(ANALYST[0])
    page.get_by_label("Email").press("Enter")
    expect(page.get_by_text(f"If {ANALYST[0]} is the address of a staff account")).to_be_visible()
    link = mailed_link(app, ANALYST[0], "reset-password")
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("copper kettle at dawn")
    page.get_by_label("The new password again").fill("copper kettle at dawn")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_text("Your new password is set")).to_be_visible()
    page.get_by_label("Email").fill(ANALYST[0])
    page.get_by_label("Password").fill("copper kettle at dawn")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/secretariat/$"))
    page.goto(link)
    expect(page.get_by_text("This link has been used already")).to_be_visible()
