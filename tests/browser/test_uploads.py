"""Uploads in Chromium on a 360 px phone (issue 16.6), with JavaScript on and off: choose a file, see it listed,
replace it, remove it; a refused type says why and changes nothing."""

import re

import pytest
from playwright.sync_api import expect

from engagement.extensions import db
from surveys.models import Answer, UploadedFile
from tests.browser.survey_driver import open_and_start
from tests.browser_support import partner_link
from tests.surveys.test_uploads import PDF, PNG, ROWS

pytestmark = pytest.mark.browser


@pytest.fixture
def link(app, live_server, tmp_path):
    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"), UPLOAD_MAX_BYTES=1024)
    return partner_link(app, live_server, ROWS)


def stored(app) -> tuple[dict, dict]:
    with app.app_context():
        files = {f.question: f.file_name for f in db.session.scalars(db.select(UploadedFile))}
        answers = {a.question: a.value for a in db.session.scalars(db.select(Answer))}
    return files, answers


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_partner_uploads_replaces_and_removes_a_file_on_a_phone(app, link, partner_phone, javascript):
    page = partner_phone
    open_and_start(page, link, "evidence")
    page.locator("#f-logo").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": PNG})
    page.locator("#q-logo").get_by_role("button", name="Upload the file").click()
    expect(page.locator("#q-logo").get_by_role("link", name="logo.png")).to_be_visible()
    assert stored(app)[0] == {"logo": "logo.png"}

    page.locator("#f-report").set_input_files({"name": "report.exe", "mimeType": "application/octet-stream",
                                               "buffer": PDF})
    page.locator("#q-report").get_by_role("button", name="Upload the file").click()
    expect(page.locator("#error-report")).to_contain_text("This type of file is not accepted here. Accepted: .pdf.")
    assert stored(app)[0] == {"logo": "logo.png"}  # the refused file changed nothing

    for size in (2000, 300 * 1024):  # over the file limit; over the request's body limit as well (413)
        page.goto(link + "/page/evidence")
        page.locator("#f-logo").set_input_files({"name": "big.png", "mimeType": "image/png",
                                                 "buffer": PNG + b"\x00" * size})
        page.locator("#q-logo").get_by_role("button", name="Replace the file").click()
        expect(page.get_by_text(re.compile("too large"))).not_to_have_count(0)
        assert stored(app)[0] == {"logo": "logo.png"}
    page.goto(link + "/page/evidence")

    page.locator("#f-logo").set_input_files({"name": "new.png", "mimeType": "image/png", "buffer": PNG + b"2"})
    page.locator("#q-logo").get_by_role("button", name="Replace the file").click()
    expect(page.locator("#q-logo").get_by_role("link", name="new.png")).to_be_visible()
    page.locator("#q-logo").get_by_role("button", name="Remove the file").click()
    expect(page.locator("#q-logo").get_by_role("button", name="Upload the file")).to_be_visible()
    files, answers = stored(app)
    assert files == {} and answers.get("logo", "") == ""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
