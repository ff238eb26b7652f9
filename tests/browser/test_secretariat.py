"""The Secretariat in Chromium: sign in, import an Excel-made partner file, open a round, and the analyst's view."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from partners.models import Organisation
from surveys.models import Invitation, Round
from tests.browser_support import open_round, sign_in

pytestmark = pytest.mark.browser

# As Excel in a French locale saves "CSV UTF-8": BOM, semicolons, CRLF.
EXCEL_CSV = (
    "\ufefforganisation;category;country;pathfinder;action_groups;gcg_member;contact_name;contact_email;language\r\n"
    "Ministère de l'Emploi du Sénégal;government_pathfinder;Sénégal;oui;migration;non;Aïssatou Diop;"
    "aissatou@emploi.example.sn;fr\r\n"
    "Sindicato Nacional;workers;Perú;no;supply_chains;no;José Núñez;jose@sindicato.example.pe;es\r\n"
)


def test_admin_imports_partners_and_opens_a_round(app, js_page, live_server, demo_links, tmp_path):
    page = js_page
    sign_in(page, live_server, "admin")
    csv_file = tmp_path / "partners.csv"
    csv_file.write_bytes(EXCEL_CSV.encode("utf-8"))
    page.goto(f"{live_server}/partners/import")
    page.locator("input[type=file]").set_input_files(str(csv_file))
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("Aïssatou Diop")).to_be_visible()
    page.get_by_role("button", name="Import").last.click()
    expect(page.get_by_text(re.compile("2 organisations added"))).to_be_visible()
    with app.app_context():
        senegal = db.session.scalar(db.select(Organisation).filter_by(name="Ministère de l'Emploi du Sénégal"))
        assert (senegal.country, senegal.region, senegal.pathfinder) == ("SN", "africa", True)

    open_round(page, live_server, "Browser round")
    with app.app_context():
        round_ = db.session.scalar(db.select(Round).filter_by(name="Browser round"))
        assert round_.status == "open"
        assert db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(round_id=round_.id)) == 10

    # One mail per batch: the page asks for the next batch by itself until all ten are sent.
    app.config["MAIL_SEND_SECONDS"] = 0
    page.get_by_role("button", name=re.compile(r"Send invitations \(10 not yet sent\)")).click()
    expect(page.locator("#send-report")).to_contain_text("10 invitations will be mailed")  # confirm first
    assert not list((tmp_path / "outbox").glob("*.eml"))
    page.get_by_role("button", name="Send 10 invitations").click()
    expect(page.locator("#send-report")).to_contain_text("10 invitations sent.", timeout=30000)
    expect(page.get_by_role("button", name=re.compile(r"Send invitations \(0 not yet sent\)"))).to_be_disabled()
    expect(page.locator("#send-report")).not_to_contain_text("more to send")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Invitation.id)).where(
            Invitation.round_id == round_.id, Invitation.invited_at.is_not(None))) == 10
    assert len(list((tmp_path / "outbox").glob("*.eml"))) >= 10
    assert page.csp.violations == []


def test_analyst_reads_everything_and_has_nothing_to_press(app, js_page, live_server, demo_links):
    page = js_page
    sign_in(page, live_server, "analyst")
    expect(page.get_by_role("link", name="New round")).to_have_count(0)
    page.goto(f"{live_server}/secretariat/rounds/1/dashboard")
    expect(page.locator("h1")).to_contain_text("demo")
    expect(page.get_by_role("button", name=re.compile("Remind"))).to_have_count(0)
    page.goto(f"{live_server}/partners/")
    expect(page.get_by_text("Ministry of Labour of Ghana").first).to_be_visible()
    expect(page.get_by_role("link", name="Add an organisation")).to_have_count(0)
    refused = page.request.post(f"{live_server}/secretariat/rounds/1/remind",
                                form={"csrf_token": page.locator("input[name=csrf_token]").first.input_value()})
    assert refused.status == 403
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server}/secretariat/")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_report_tables_open_from_behind_their_chart_without_javascript(app, live_server, demo_links, nojs_page):
    """Long tables wait behind their chart in <details>; the contents is short; both open with no script."""
    from surveys.demo import load_demo, load_demo_history

    with app.app_context():
        round_, _invitations = load_demo()
        load_demo_history(round_)
        round_id = round_.id
    sign_in(nojs_page, live_server, "analyst")
    nojs_page.goto(f"{live_server}/secretariat/rounds/{round_id}/report")
    table = nojs_page.locator("#block-funnel table")
    expect(table).to_be_hidden()
    nojs_page.locator("#block-funnel summary").click()
    expect(table).to_be_visible()
    expect(nojs_page.locator(".report-toc ol")).to_be_hidden()
    nojs_page.locator(".report-toc summary").click()
    nojs_page.get_by_role("link", name="Key findings", exact=True).click()
    expect(nojs_page.locator("#key-findings")).to_be_in_viewport()
