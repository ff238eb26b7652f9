"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright: fixtures for every browser test.

tests/conftest.py imports them, so there is one Chromium per test session wherever a browser test lives.
"""

import re
import threading

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from surveys.demo import DEMO_ADMIN, DEMO_ANALYST, load_demo
from surveys.invitations import token_for
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _closing_responses(app):
    """The app with each response read whole and closed before the server writes it.

    Werkzeug's development server drains the socket before it closes the response; when the browser drops the
    connection (a favicon fetch cut short by the next page), that read raises and a static file is left open, to
    surface as a ResourceWarning in whichever test the garbage collector happens to run. gunicorn is not affected.
    """
    def application(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()
    return application


@pytest.fixture
def live_server(app):
    """Serve the test app on a free port in a thread; yields its base URL."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, _closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    yield base
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def demo_links(app, live_server):
    """{organisation name: personal link} for the demo round."""
    with app.app_context():
        _round, invitations = load_demo()
        return {inv.contact.organisation.name: f"{live_server}/s/{token_for(inv)}" for inv in invitations}


def partner_link(app, live_server: str, rows: list[dict], choices: list[dict] | None = None) -> str:
    """The link of a partner invited to a survey made of these XLSForm rows, on the live server."""
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(rows, choices))
    return f"{live_server}/s/{token}"


def sign_in(page, base: str, role: str = "admin") -> None:
    """Sign in through the form as the demo's account of `role` (tests/conftest.py's ACCOUNTS); the demo must be
    loaded (the demo_links fixture)."""
    email, password = {"admin": DEMO_ADMIN, "analyst": DEMO_ANALYST}[role]
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/secretariat/$"))


def open_round(page, base: str, name: str, survey: str | None = None) -> None:
    """Create and open a round through the Secretariat's pages (signed in), of `survey`'s version when given."""
    page.goto(f"{base}/secretariat/rounds/new")
    if survey:
        version = page.get_by_label("Survey version")
        version.select_option(version.locator("option", has_text=survey).get_attribute("value"))
    page.get_by_label("Name of the round").fill(name)
    page.get_by_label("Closes on").fill("2099-01-31")
    page.locator("form button[type=submit]").last.click()
    page.get_by_role("button", name=re.compile("Open the round")).click()
    expect(page.get_by_text(re.compile("Round opened"))).to_be_visible()


class CspWatcher:
    """Collects Content-Security-Policy violations reported in the browser's console."""

    def __init__(self, page):
        self.violations = []
        page.on("console", self._on_console)

    def _on_console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.violations.append(text)


PHONE_POSITION = {"latitude": 5.6037, "longitude": -0.187}


def _page(browser, javascript: bool, width: int = 1280, **options):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(10000)
    return context, page


@pytest.fixture
def js_page(browser):
    context, page = _page(browser, javascript=True)
    page.csp = CspWatcher(page)
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser):
    context, page = _page(browser, javascript=False)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _page(browser, javascript=True, width=360)
    page.csp = CspWatcher(page)
    yield page
    context.close()


@pytest.fixture
def partner_phone(browser, javascript):
    """A 360 px phone with JavaScript on or off, as the test's `javascript` parameter says, that gives its position
    (PHONE_POSITION, in Accra) when a page asks for it."""
    context, page = _page(browser, javascript=javascript, width=360, geolocation=PHONE_POSITION,
                          permissions=["geolocation"])
    yield page
    context.close()

