"""Secretariat pages in Chromium under the real Content-Security-Policy: signed in, with htmx at work, zero violations."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import CspWatcher, sign_in

pytestmark = pytest.mark.browser


def test_dashboard_and_registry_run_without_a_csp_violation(app, js_page, live_server, demo_links):
    page = js_page
    sign_in(page, live_server, "admin")
    assert page.evaluate("typeof htmx") == "object"  # htmx loaded, so its behaviour is what is checked

    page.goto(f"{live_server}/secretariat/rounds/1/dashboard")
    expect(page.locator("h1")).to_be_visible()
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server}/partners/")
    expect(page.locator("h1")).to_be_visible()
    page.locator("input[type=search]").first.press_sequentially("Ghana")  # active search: htmx swaps the table
    expect(page).to_have_url(re.compile(r"q=Ghana"))
    expect(page.locator("#results").get_by_text("Survivor Alliance Network")).to_have_count(0)
    expect(page.get_by_text("Ministry of Labour of Ghana").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert isinstance(page.csp, CspWatcher)
    assert page.csp.violations == []
    # The header the browser enforced was the strict one.
    response = page.request.get(f"{live_server}/partners/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_the_watcher_does_see_a_violation(js_page, live_server):
    """The control: an inline script is refused by the policy and reported, so the test above can fail."""
    js_page.goto(f"{live_server}/sign-in")
    js_page.evaluate("""() => { const s = document.createElement('script');
                                s.textContent = 'window.ran = true'; document.body.append(s); }""")
    js_page.wait_for_timeout(300)
    assert js_page.evaluate("window.ran === undefined")
    assert js_page.csp.violations
