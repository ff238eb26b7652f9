"""Tried as a new user would (issue 16, "Done when"): a form written in KoboToolbox style (label::English (en)
headers, metadata, a calculation, ${name} in a label, relevant, a regex() constraint with its message, a required
expression, a cascade, an open repeat, a location and an image) is imported through the Secretariat's page, a round
opened, a partner answers it all on a 360 px phone without JavaScript, and the three exports hold the answers."""

import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.invitations import token_for
from surveys.models import Invitation, Response
from tests import factories
from tests.browser_support import open_round, sign_in

pytestmark = pytest.mark.browser

EN = "label::English (en)"
HEADERS = ["type", "name", EN, "hint::English (en)", "required", "relevant", "constraint",
           "constraint_message::English (en)", "calculation", "choice_filter", "appearance"]
SURVEY = [
    ["start", "start"], ["end", "end"], ["today", "today"], ["deviceid", "deviceid"],
    ["begin_group", "org", "Your organisation"],
    ["text", "org_name", "Name of your organisation", "", "yes"],
    ["text", "org_email", "Contact email", "name@example.org", "", "",
     r"regex(., '^[^@ ]+@[^@ ]+\.[a-z]+$')", "Give an email address such as name@example.org"],
    ["integer", "men", "Men on your staff", "", "", "", ". >= 0", "A number of people is 0 or more"],
    ["integer", "women", "Women on your staff"],
    ["calculate", "total", "", "", "", "", "", "", "coalesce(${men}, 0) + coalesce(${women}, 0)"],
    ["select_one yn", "member", "Is ${org_name} a member of Alliance 8.7?"],
    ["text", "why", "Why did ${org_name} join?", "", "${member} = 'yes'", "${member} = 'yes'"],
    ["end_group"],
    ["begin_group", "place", "Where you work"],
    ["note", "staff_note", "${org_name} has ${total} staff."],
    ["select_one country", "work_country", "Country"],
    ["select_one district", "work_district", "District", "", "yes", "", "", "", "", "country=${work_country}"],
    ["geopoint", "office", "Where is your office?"],
    ["end_group"],
    ["begin_repeat", "sites", "Project sites"],
    ["text", "site_name", "Name of the site"],
    ["integer", "site_staff", "Staff at the site"],
    ["end_repeat"],
    ["begin_group", "evidence", "Evidence"],
    ["image", "logo", "Your logo"],
    ["end_group"],
]
CHOICES = [
    ["list_name", "name", EN, "country"],
    ["yn", "yes", "Yes"], ["yn", "no", "No"],
    ["country", "gh", "Ghana"], ["country", "ke", "Kenya"],
    ["district", "accra", "Accra", "gh"], ["district", "kumasi", "Kumasi", "gh"],
    ["district", "nairobi", "Nairobi", "ke"], ["district", "mombasa", "Mombasa", "ke"],
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def kobo_form(path):
    """The form as KoboToolbox's Excel template lays it out: survey, choices and settings sheets."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(HEADERS)
    for row in SURVEY:
        survey.append(row)
    choices = book.create_sheet("choices")
    for row in CHOICES:
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append(["Kobo staff survey", "kobo_staff", "2026120401", "English (en)"])
    book.save(path)
    return path


def shot(page, shots, name):
    """A full-page screenshot of the page as it is (under tmp_path), for a person to look at."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("javascript", [False], ids=["no-javascript"])
def test_a_kobo_form_is_imported_answered_without_javascript_and_exported(
        app, live_server, accounts, js_page, partner_phone, javascript, tmp_path):
    with app.app_context():
        factories.organisation(contacts=[("Ama", "ama@example.org", "en")])
    shots = tmp_path / "shots"
    shots.mkdir()
    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"))

    # The Secretariat imports the form file through its page, then opens a round of it.
    staff = js_page
    sign_in(staff, live_server, "admin")
    staff.goto(f"{live_server}/secretariat/surveys")
    staff.get_by_label("XLSForm (.xlsx, .xls) or YAML file").set_input_files(str(kobo_form(tmp_path / "kobo.xlsx")))
    staff.locator("form[enctype] button[type=submit]").first.click()
    expect(staff.get_by_text(re.compile("imported as version 1"))).to_be_visible()
    # The phone-app metadata rows are accepted and named in one warning (a web response keeps its own times).
    expect(staff.locator("main")).to_contain_text("row 2 'start' (start)")
    expect(staff.locator("main")).to_contain_text("sites/site_name")  # a repeat's questions are listed too
    shot(staff, shots, "0-imported")
    open_round(staff, live_server, "Kobo round", survey="Kobo staff survey")
    with app.app_context():
        invitation = db.session.scalar(db.select(Invitation))
        link, round_id = f"{live_server}/s/{token_for(invitation)}", invitation.round_id

    # The partner answers on a 360 px phone with JavaScript off.
    page = partner_phone
    page.goto(link)
    shot(page, shots, "1-welcome")
    page.get_by_role("button", name="Start the survey").click()
    expect(page).to_have_url(re.compile(r"/page/org$"))
    page.get_by_label("Name of your organisation").fill("Ghana Labour Network")
    page.get_by_label("Contact email").fill("not an address")
    page.get_by_label("Men on your staff", exact=True).fill("12")
    page.get_by_label("Women on your staff").fill("15")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    # The page comes back: the regex() constraint's message, and the follow-up the required expression asks for.
    expect(page.locator("#error-org_email")).to_contain_text("Give an email address such as name@example.org")
    expect(page.get_by_label("Why did Ghana Labour Network join?")).to_be_visible()
    # The summaries above the page name the question as the page does, its ${org_name} filled in.
    expect(page.locator("#error-summary")).to_contain_text("Why did Ghana Labour Network join?")
    expect(page.locator("#new-questions")).to_contain_text("Why did Ghana Labour Network join?")
    shot(page, shots, "2-org-problems")
    page.get_by_label("Contact email").fill("ama@network.example.org")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#error-why")).to_contain_text("Please answer this question.")
    page.get_by_label("Why did Ghana Labour Network join?").fill("To share what works")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/page/place$"))

    expect(page.get_by_text("Ghana Labour Network has 27 staff.")).to_be_visible()
    expect(page.get_by_label("Kumasi")).to_have_count(0)
    page.get_by_label("Ghana").check()
    page.get_by_role("button", name="Save and continue").click()  # no script: the page comes back narrowed
    expect(page).to_have_url(re.compile(r"/page/place$"))
    expect(page.get_by_label("Kumasi")).to_be_visible()
    expect(page.get_by_label("Nairobi")).to_have_count(0)
    page.get_by_label("Kumasi").check()
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    page.get_by_label("Latitude").fill("6.6885")
    page.get_by_label("Longitude").fill("-1.6244")
    shot(page, shots, "3-place")
    page.get_by_role("button", name="Save and continue").click()

    expect(page).to_have_url(re.compile(r"/page/sites"))
    for number, (name, people) in enumerate((("Kumasi market", "4"), ("Tema port", "7")), start=1):
        page.get_by_role("button", name="Add an entry").click()
        page.locator(f'input[name="sites[{number}]/site_name"]').fill(name)
        page.locator(f'input[name="sites[{number}]/site_staff"]').fill(people)
    shot(page, shots, "4-sites")
    page.get_by_role("button", name="Save and continue").click()

    expect(page).to_have_url(re.compile(r"/page/evidence"))
    page.get_by_label("Your logo").set_input_files({"name": "network logo.png", "mimeType": "image/png",
                                                    "buffer": PNG})
    page.get_by_role("button", name="Upload the file").click()
    expect(page.locator("#q-logo .uploaded-file")).to_contain_text("network logo.png")
    shot(page, shots, "5-evidence")
    page.get_by_role("button", name="Save and review your answers").click()
    expect(page).to_have_url(re.compile(r"/review(#q-logo)?$"))
    shot(page, shots, "6-review")
    expect(page.locator("main")).to_contain_text("Is Ghana Labour Network a member of Alliance 8.7?")
    expect(page.locator("main")).not_to_contain_text("${")
    page.get_by_role("button", name=re.compile("Submit")).first.click()
    expect(page).to_have_url(re.compile(r"/receipt$"))
    shot(page, shots, "7-receipt")
    with app.app_context():
        response = db.session.scalar(db.select(Response))
        assert response.status == "submitted"
        response_id = str(response.id)
    assert not {"start", "end", "today", "deviceid"} & set(factories.stored_answers(app))  # the server's own times

    # The Secretariat downloads the three exports from the round's dashboard.
    staff.goto(f"{live_server}/secretariat/rounds/{round_id}/dashboard")
    downloads = {}
    for button, key in (("CSV, one row per response", "wide"), ("Long CSV, one row per answer", "long"),
                        ("Excel workbook with codebook", "xlsx")):
        with staff.expect_download() as download:
            staff.get_by_role("button", name=button).click()
        downloads[key] = download.value.path().read_bytes()

    wide = list(csv.DictReader(io.StringIO(downloads["wide"].decode("utf-8-sig"))))
    assert len(wide) == 1
    row = wide[0]
    assert row["total"] == "27" and row["work_country"] == "gh" and row["work_district"] == "kumasi"
    assert float(row["office_latitude"]) == pytest.approx(6.6885)
    assert float(row["office_longitude"]) == pytest.approx(-1.6244)
    assert row["logo"] == "network logo.png"
    assert row["org_email"] == "ama@network.example.org" and row["why"] == "To share what works"

    long = {(r["question"], r["value"]) for r in csv.DictReader(io.StringIO(downloads["long"].decode("utf-8-sig")))}
    assert {("total", "27"), ("work_country", "gh"), ("work_district", "kumasi"), ("logo", "network logo.png"),
            ("sites/site_name", "Kumasi market"), ("sites/site_name", "Tema port"), ("office", "6.6885")} <= long

    path = tmp_path / "export.xlsx"
    path.write_bytes(downloads["xlsx"])
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    sites = next(rows for title, rows in sheets.items() if "sites" in title)
    header = sites[0]
    entries = [dict(zip(header, r, strict=False)) for r in sites[1:]]
    id_column = next(h for h in header if h and "response" in str(h).lower())
    assert {(str(e[id_column]), e["site_name"], str(e["site_staff"])) for e in entries} == {
        (response_id, "Kumasi market", "4"), (response_id, "Tema port", "7")}
