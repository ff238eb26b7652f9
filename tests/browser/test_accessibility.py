"""axe-core's WCAG 2.2 A and AA rules on every page a partner or the Secretariat sees, on a desktop and a phone.

axe.min.js comes inside the axe-playwright-python package (no network). Playwright evaluates it through the
DevTools protocol, which the page's Content-Security-Policy (script-src 'self') does not govern, so the pages are
checked under their real policy.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from engagement import accounts
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.models import User
from partners.models import Contact, Organisation
from surveys.models import Invitation, Response, Round
from surveys.rounds import close_round
from surveys.versions import definition_for
from synthetic.responses import fill_round
from tests.browser_support import sign_in

pytestmark = pytest.mark.browser

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
         "resultTypes": ["violations"]}
AXE = Axe()
WIDTHS = [1280, 360]
GHANA, SENEGAL = "Ministry of Labour of Ghana", "Survivor Alliance Network"


def violations(page) -> list[str]:
    """axe's violations on the page as it is now: rule, impact, and the elements at fault."""
    found = AXE.run(page, options=RULES).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(
        f"    {' '.join(map(str, node['target']))}: {node['failureSummary'].splitlines()[-1].strip()}"
        for node in v["nodes"]) for v in found]


def check(page, url: str, problems: dict, status: int | None = None, then=None) -> None:
    """Open `url` (and do `then` on it, e.g. send a form with mistakes); record axe's violations under `url`, and
    a page wider than the screen."""
    response = page.goto(url)
    if status is not None:
        assert response.status == status, (url, response.status)
    if then is not None:
        then(page)
    page.wait_for_load_state("networkidle")
    found = violations(page)
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > page.viewport_size["width"]:  # a phone scrolls sideways only inside a table's own scroll box
        found.append(f"the page is {wide} px wide")
    if found:
        problems[url + (" after " + then.__doc__ if then else "")] = found


def assert_none(problems: dict, width: int) -> None:
    assert not problems, f"axe violations at {width} px:\n" + "\n".join(
        f"{url}\n  " + "\n  ".join(found) for url, found in problems.items())


@pytest.fixture
def context_at(browser):
    contexts = []

    def make(width: int):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


def test_axe_does_report_a_violation(js_page, live_server):
    """The control: an image without a text alternative is reported, so the tests below can fail."""
    js_page.goto(f"{live_server}/sign-in")
    js_page.evaluate("() => { const img = document.createElement('img'); img.src = '/static/favicon.svg';"
                     " document.querySelector('main').append(img); }")
    assert any(found.startswith("image-alt (critical)") for found in violations(js_page))


def wrong_password(page):
    """a wrong password"""
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Email or password is not correct.").wait_for()


def empty_form(page):
    """the form sent empty"""
    page.locator("main form button[type=submit]").last.click()
    page.locator(".error-message").first.wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_partner_page(app, live_server, demo_links, context_at, width):
    page = context_at(width)
    problems = {}
    link = demo_links[GHANA]
    check(page, link, problems, 200)
    page.get_by_role("button", name="Start the survey").click()
    page.wait_for_url("**/page/**")
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        names = [survey_page.name for survey_page in definition_for(round_.survey_version).pages]
    for name in names:
        check(page, f"{link}/page/{name}", problems)
    check(page, f"{link}/review", problems, 200)

    # The receipt of a partner who has submitted.
    other = demo_links[SENEGAL]
    page.goto(other)
    page.get_by_role("button", name="Start the survey").click()
    page.wait_for_url("**/page/**")
    with app.app_context():
        response = db.session.scalar(db.select(Response).join(Invitation).join(Contact).join(Organisation)
                                     .where(Organisation.name == SENEGAL))
        response.status = "submitted"
        response.submitted_at = response.updated_at
        db.session.commit()
    check(page, f"{other}/receipt", problems, 200)
    check(page, f"{live_server}/s/{'A' * 43}", problems, 404)

    with app.app_context():
        close_round(db.session.scalar(db.select(Round)))
        db.session.commit()
    check(page, link, problems, 410)
    assert_none(problems, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_secretariat_page(app, live_server, demo_links, context_at, width):
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        fill_round(round_.id, definition_for(round_.survey_version), 40)  # enough answers for every chart
        db.session.commit()
        round_id, version_id = round_.id, round_.survey_version_id
        ghana = db.session.scalar(db.select(Organisation).filter_by(name=GHANA))
        organisation_id, contact_id = ghana.id, ghana.contacts[0].id
    page = context_at(width)
    problems = {}
    check(page, f"{live_server}/sign-in", problems, 200)
    check(page, f"{live_server}/sign-in", problems, 200, then=wrong_password)
    sign_in(page, live_server, "admin")
    base = live_server
    for path in ("/secretariat/", f"/secretariat/rounds/{round_id}", "/secretariat/rounds/new",
                 f"/secretariat/rounds/{round_id}/dashboard", f"/secretariat/rounds/{round_id}/report",
                 "/secretariat/audit", "/partners/", f"/partners/{organisation_id}", "/partners/new",
                 f"/partners/{organisation_id}/edit", f"/partners/{organisation_id}/contacts/{contact_id}/edit",
                 f"/partners/{organisation_id}/delete", "/partners/import", "/secretariat/surveys",
                 f"/secretariat/surveys/versions/{version_id}", f"/secretariat/previews/new?round={round_id}",
                 f"/secretariat/previews/new?version={version_id}"):
        check(page, base + path, problems, 200)
    check(page, f"{base}/partners/new", problems, 200, then=empty_form)
    check(page, f"{base}/secretariat/rounds/new", problems, 200, then=empty_form)
    check(page, f"{base}/partners/999999", problems, 404)
    assert_none(problems, width)


def weak_password(page):
    """a common password, typed twice"""
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("The new password again").fill("password1234")
    page.get_by_role("button", name="Set the password").click()
    page.locator(".error-message").first.wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_staff_account_pages(app, live_server, demo_links, context_at, width):
    """The staff list, one's own account, "Forgot your password?" and the pages behind the links mailed to staff."""
    with app.test_request_context(), write_transaction():
        inviter = db.session.scalar(db.select(User).filter_by(role="admin"))
        invitation, _message = accounts.invite("new.colleague@alliance87.example", "analyst", "en", inviter)
        reset = accounts.request_reset(inviter.email, "en")
    page = context_at(width)
    problems = {}
    base = live_server
    check(page, f"{base}/forgot-password", problems, 200)
    check(page, f"{base}/forgot-password", problems, 200, then=empty_form)
    check(page, f"{base}/accept-invitation/{invitation}", problems, 200)
    check(page, f"{base}/accept-invitation/{invitation}", problems, 200, then=weak_password)
    check(page, f"{base}/reset-password/{reset}", problems, 200)
    check(page, f"{base}/reset-password/{'A' * 43}", problems, 404)
    sign_in(page, base, "admin")
    check(page, f"{base}/secretariat/staff", problems, 200)
    check(page, f"{base}/secretariat/staff", problems, 200, then=empty_form)
    check(page, f"{base}/secretariat/account", problems, 200)
    check(page, f"{base}/secretariat/account", problems, 200, then=empty_form)
    assert_none(problems, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_coding_workspace(app, live_server, demo_links, context_at, width):
    """The coding pages pass axe, fit a phone, and a comment is coded in place with htmx."""
    from analysis.coding_store import seed_demo_codes
    from engagement.database import run_write

    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        fill_round(round_.id, definition_for(round_.survey_version), 60, submitted_share=1.0)
        db.session.commit()
        run_write(lambda: seed_demo_codes(db.session, round_.id, limit=10))
        round_id = round_.id
    page = context_at(width)
    sign_in(page, live_server, "analyst")
    problems = {}
    workspace = f"{live_server}/secretariat/rounds/{round_id}/coding/one_change"
    for url in (f"{live_server}/secretariat/rounds/{round_id}/coding", workspace, workspace + "?coder=second",
                f"{live_server}/secretariat/rounds/{round_id}/report"):
        check(page, url, problems, 200)
        if "/coding" in url:  # nothing of the workspace is wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= width, url
    page.goto(workspace)
    comment = page.locator("li.coding-comment").nth(12)  # past the ten the demo coded
    comment.get_by_role("checkbox").first.check()
    comment.get_by_role("button", name="Save").click()
    saved = page.locator("li.coding-comment").nth(12)
    expect(saved.get_by_text("Saved.")).to_be_visible()
    assert page.url == workspace  # swapped in place, no reload
    expect(page.locator("#progress")).to_contain_text("of")
    found = violations(page)
    assert not found, "\n".join(found)
    assert_none(problems, width)


def open_everything(page):
    """the contents and every collapsed table opened"""
    for summary in page.locator("details > summary").all():
        summary.click()


def too_long_findings(page):
    """key findings over the length limit"""
    page.get_by_label("Key findings").fill("x" * 4001)
    page.get_by_role("button", name="Save the key findings").click()
    page.locator(".error-message").first.wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_with_key_findings_comparison_and_collapsed_tables(app, live_server, demo_links, context_at,
                                                                      width):
    """The report as `flask demo` leaves it (last year's round to compare with), its tables opened, the editor."""
    from surveys.demo import load_demo, load_demo_history

    with app.app_context():
        round_, _invitations = load_demo()
        last = load_demo_history(round_)
        this_id, last_id = round_.id, last.id
    page = context_at(width)
    problems = {}
    sign_in(page, live_server, "analyst")
    report = f"{live_server}/secretariat/rounds/{this_id}/report?compare={last_id}"
    check(page, report, problems, 200)
    check(page, report, problems, 200, then=open_everything)
    check(page, f"{live_server}/secretariat/rounds/{this_id}/report?category=survivor", problems, 200)
    editor = f"{live_server}/secretariat/rounds/{this_id}/report/key-findings"
    check(page, editor, problems, 200)
    check(page, editor, problems, 200, then=too_long_findings)  # the form comes back (422) in place
    assert_none(problems, width)
    page.goto(report)
    scrollers = page.locator(".table-scroll")
    assert scrollers.count() > 20
    assert all(s.get_attribute("tabindex") == "0" and s.get_attribute("aria-label") for s in scrollers.all())


CAPTURE_ROWS = [
    {"type": "begin_group", "name": "capture", "label": "Staff, office and evidence"},
    {"type": "integer", "name": "men", "label": "Men"},
    {"type": "integer", "name": "women", "label": "Women"},
    {"type": "calculate", "name": "total", "label": "Total staff", "calculation": "coalesce(${men}, 0) + "
                                                                                 "coalesce(${women}, 0)"},
    {"type": "geopoint", "name": "office", "label": "Where is your office?"},
    {"type": "image", "name": "logo", "label": "Your logo"},
    {"type": "file", "name": "report", "label": "Your annual report", "body::accept": ".pdf"},
    {"type": "end_group", "name": "capture"},
]


@pytest.mark.parametrize("width", WIDTHS)
def test_calculation_location_and_upload_pages(app, live_server, context_at, width, tmp_path):
    """A page with a calculation shown, a location and two uploads passes axe, as drawn, with a file uploaded and
    with a refused file's error."""
    from tests import factories

    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        _round, token = factories.invited_partner(factories.survey_from_rows(CAPTURE_ROWS))
    link = f"{live_server}/s/{token}"
    page = context_at(width)
    problems = {}
    page.goto(link)
    page.get_by_role("button", name="Start the survey").click()
    page.wait_for_url("**/page/**")
    check(page, f"{link}/page/capture", problems, 200)

    def upload_a_logo(page):
        """uploading a logo"""
        page.locator("#f-logo").set_input_files({"name": "logo.png", "mimeType": "image/png",
                                                 "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64})
        page.locator("#q-logo").get_by_role("button", name="Upload the file").click()
        expect(page.locator("#q-logo").get_by_role("link", name="logo.png")).to_be_visible()

    def refused_report(page):
        """a refused report"""
        page.locator("#f-report").set_input_files({"name": "report.txt", "mimeType": "text/plain", "buffer": b"x"})
        page.locator("#q-report").get_by_role("button", name="Upload the file").click()
        expect(page.locator("#error-report")).to_be_visible()

    check(page, f"{link}/page/capture", problems, 200, then=upload_a_logo)
    check(page, f"{link}/page/capture", problems, 200, then=refused_report)
    assert_none(problems, width)


def test_report_charts_stay_readable_on_a_phone(app, live_server, demo_links, context_at):
    """At 360 px a chart keeps a width its labels read at (about 11 px, not 5) inside its own scroll box, which the
    keyboard reaches and scrolls; the page itself is no wider than the screen."""
    from surveys.demo import load_demo, load_demo_history

    with app.app_context():
        round_, _invitations = load_demo()
        load_demo_history(round_)
        round_id = round_.id
    page = context_at(360)
    sign_in(page, live_server, "analyst")
    page.goto(f"{live_server}/secretariat/rounds/{round_id}/report")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    boxes = page.locator(".chart-scroll")
    assert boxes.count() > 10
    for box in boxes.all():
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
        assert box.get_attribute("aria-label").startswith("Chart: ")
        svg_width = box.locator("svg").bounding_box()["width"]
        assert svg_width * 12 / 720 >= 10.5, svg_width  # label size in CSS px (12 units of a 720-unit drawing)
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    first = boxes.first
    first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("b => b.scrollLeft > 0", arg=first.element_handle())
    assert page.get_by_text("Scroll sideways to see the whole chart.").first.is_visible()
