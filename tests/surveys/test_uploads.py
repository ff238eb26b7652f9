"""Image and file questions (issue 16 §6): a partner uploads, replaces and removes a file without JavaScript; a
refused file (too large, wrong type, content that lies about its type) changes nothing; a file is served only to its
own partner's link and to signed-in staff; a closed round or a submitted response takes no file."""

import csv
import io
import zipfile

import openpyxl
import pytest

from engagement.extensions import db
from surveys.models import Response, Round, UploadedFile
from surveys.uploads import accepted_extensions
from surveys.xlsform_building import build_definition
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64
ROWS = factories.group("evidence", "Evidence", {"type": "image", "name": "logo", "label": "Your logo"},
                       {"type": "file", "name": "report", "label": "Your annual report", "body::accept": ".pdf"})


@pytest.fixture
def partner(app, client, tmp_path):
    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"), UPLOAD_MAX_BYTES=1024)
    return factories.started_partner(client, ROWS)


def send(client, token, question, data, name):
    return client.post(f"/s/{token}/upload/{question}", data={question: (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored(app):
    with app.app_context():
        files = {f.question: (f.file_name, f.storage_key) for f in db.session.scalars(db.select(UploadedFile))}
    return files, factories.stored_answers(app)


def test_the_page_offers_a_plain_multipart_upload(client, partner):
    token, _round = partner
    page = client.get(f"/s/{token}/page/evidence").get_data(as_text=True)
    assert 'type="file" id="f-logo" name="logo" accept="image/*"' in page
    assert 'formaction="../upload/logo" formenctype="multipart/form-data"' in page
    assert 'hx-post="../answer/logo"' not in page  # choosing a file does not pretend to save it


def test_upload_replace_and_remove_without_javascript(app, client, partner, tmp_path):
    token, _round = partner
    sent = send(client, token, "logo", PNG, "logo.png")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/page/evidence#q-logo")
    files, answers = stored(app)
    assert answers["logo"] == "logo.png" and files["logo"][0] == "logo.png"
    first_key = files["logo"][1]
    assert first_key != "logo.png" and (tmp_path / "uploads" / first_key).read_bytes() == PNG
    page = client.get(f"/s/{token}/page/evidence").get_data(as_text=True)
    assert '<a href="../file/logo">logo.png</a>' in page and "Remove the file" in page
    mine = client.get(f"/s/{token}/file/logo")
    assert mine.status_code == 200 and mine.data == PNG
    assert mine.headers["Content-Disposition"].startswith("attachment")
    assert mine.headers["X-Content-Type-Options"] == "nosniff"

    send(client, token, "logo", PNG + b"new", "new logo.png")
    files, answers = stored(app)
    assert answers["logo"] == "new logo.png"
    assert not (tmp_path / "uploads" / first_key).exists()  # the replaced file is gone

    removed = client.post(f"/s/{token}/upload/logo/remove")
    assert removed.status_code == 303
    assert stored(app) == ({}, {})
    assert list((tmp_path / "uploads").iterdir()) == []
    assert client.post(f"/s/{token}/upload/logo/remove").status_code == 303  # removing twice changes nothing
    assert client.get(f"/s/{token}/file/logo").status_code == 404


@pytest.mark.parametrize(("question", "data", "name", "message"), [
    ("logo", PNG * 20, "big.png", "This file is too large: 1 KB at most."),
    ("logo", PDF, "report.pdf", "This type of file is not accepted here. Accepted: .png, .jpg"),
    ("report", PNG, "logo.png", "This type of file is not accepted here. Accepted: .pdf."),
    ("report", b"MZ\x90\x00 an executable", "report.pdf", "does not match its name (.pdf)"),
    ("logo", b"", "empty.png", "Choose a file to upload."),
])
def test_a_refused_file_changes_nothing_and_says_why(app, client, partner, question, data, name, message):
    token, _round = partner
    refused = send(client, token, question, data, name)
    assert refused.status_code == 422
    assert message in refused.get_data(as_text=True).replace("&#39;", "'")
    assert stored(app) == ({}, {})


def test_the_upload_body_limit_is_separate_from_the_ordinary_page_limit(app, client, partner):
    token, _round = partner
    app.config.update(UPLOAD_MAX_BYTES=200 * 1024)
    big = PDF + b"x" * (100 * 1024)  # over the 64 KB of an ordinary partner page
    assert send(client, token, "report", big, "report.pdf").status_code == 303
    assert client.post(f"/s/{token}/page/evidence", data={"x": "y" * (100 * 1024)}).status_code == 413
    app.config.update(UPLOAD_MAX_BYTES=1024)
    assert send(client, token, "report", big, "report.pdf").status_code == 413


def test_another_partners_link_finds_no_file(app, client, tmp_path):
    app.config.update(UPLOADS_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        factories.organisation(contacts=[("Ama", "ama@example.org", "en")])
        factories.organisation("Workers' Union", contacts=[("Bo", "bo@example.org", "en")])
        _round, tokens = factories.open_round_for(factories.survey_from_rows(ROWS))
    token, other = tokens["ama@example.org"], tokens["bo@example.org"]
    for link in (token, other):
        client.get(f"/s/{link}")
        client.post(f"/s/{link}/start")
    client.get(f"/s/{token}/page/evidence")  # the client sends the form token of the last page it read
    assert send(client, token, "logo", PNG, "logo.png").status_code == 303
    client.get(f"/s/{other}/page/evidence")
    assert client.get(f"/s/{other}/file/logo").status_code == 404
    assert client.post(f"/s/{other}/upload/logo/remove").status_code == 303
    assert stored(app)[1] == {"logo": "logo.png"}  # the first partner's file is untouched
    assert client.get(f"/s/{token}/file/logo").data == PNG


def test_a_submitted_response_or_a_closed_round_takes_no_file(app, client, partner):
    token, round_id = partner
    with app.app_context():
        db.session.execute(db.update(Response).values(status="submitted"))
        db.session.commit()
    assert send(client, token, "logo", PNG, "logo.png").status_code == 409
    with app.app_context():
        db.session.execute(db.update(Response).values(status="in_progress"))
        db.session.execute(db.update(Round).where(Round.id == round_id).values(status="closed"))
        db.session.commit()
    assert send(client, token, "logo", PNG, "logo.png").status_code == 410
    assert stored(app) == ({}, {})


def response_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Response.id))


def test_staff_download_a_partners_file_and_no_one_else_does(app, client, partner, admin, analyst):
    token, _round = partner
    send(client, token, "logo", PNG, "logo.png")
    rid = response_id(app)
    anonymous = client.get(f"/secretariat/files/{rid}/logo")
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["Location"]
    for staff in (admin, analyst):
        got = staff.get(f"/secretariat/files/{rid}/logo")
        assert got.status_code == 200 and got.data == PNG
        assert got.headers["Content-Disposition"] == "attachment; filename=logo.png"
    assert admin.get(f"/secretariat/files/{rid}/report").status_code == 404
    assert admin.get(f"/secretariat/files/{rid + 1}/logo").status_code == 404


def test_exports_list_the_file_by_name_with_the_staff_link(app, client, partner, analyst):
    token, round_id = partner
    send(client, token, "logo", PNG, "logo.png")
    rid = response_id(app)
    link = f"http://localhost/secretariat/files/{rid}/logo"
    wide = list(csv.DictReader(io.StringIO(analyst.get(f"/secretariat/rounds/{round_id}/export.csv?bom=0")
                                           .get_data(as_text=True))))
    assert wide[0]["logo"] == "logo.png" and wide[0]["logo_link"] == link
    assert wide[0]["report"] == "" and wide[0]["report_link"] == ""
    long = analyst.get(f"/secretariat/rounds/{round_id}/export-long.csv?bom=0").get_data(as_text=True)
    rows = [r for r in csv.reader(io.StringIO(long))]
    assert [str(rid), "logo", "", "logo.png", ""] in rows and [str(rid), "logo", "link", link, ""] in rows
    workbook = openpyxl.load_workbook(io.BytesIO(analyst.get(f"/secretariat/rounds/{round_id}/export.xlsx").data))
    sheet = list(workbook["responses"].iter_rows(values_only=True))
    header = list(sheet[0])
    assert sheet[1][header.index("logo")] == "logo.png" and sheet[1][header.index("logo_link")] == link
    anonymised = analyst.get(f"/secretariat/rounds/{round_id}/export.csv?anonymised=1")
    assert anonymised.status_code == 200
    with zipfile.ZipFile(io.BytesIO(anonymised.data)) as archive:
        data = next(archive.read(n) for n in archive.namelist() if n.endswith(".csv")).decode("utf-8-sig")
    assert "logo" not in data.splitlines()[0] and "logo.png" not in data  # a file's name may name the partner


def test_the_form_names_its_accepted_types_or_gets_a_safe_default_list():

    rows = [dict(r, _row=n + 2) for n, r in enumerate(ROWS + [
        {"type": "photo", "name": "site", "label": "The site"},
        {"type": "file", "name": "any", "label": "Anything", "body::accept": "image/*, .pdf, .exe"},
    ])]
    definition = build_definition({"survey": rows, "choices": [], "settings": []})
    assert definition.question("logo").type == "image" and definition.question("site").type == "image"
    assert accepted_extensions(definition.question("logo")) == (".png", ".jpg", ".jpeg", ".gif", ".webp")
    assert accepted_extensions(definition.question("report")) == (".pdf",)
    assert accepted_extensions(definition.question("any")) == (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf")


def test_the_review_and_the_secretariats_page_link_to_the_file(app, client, partner, analyst):
    token, round_id = partner
    send(client, token, "logo", PNG, "logo.png")
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert '<a class="answer-value" href="file/logo" download>logo.png</a>' in review
    with app.app_context():
        response = db.session.scalar(db.select(Response))
        invitation_id, rid = response.invitation_id, response.id
    detail = analyst.get(f"/secretariat/rounds/{round_id}/responses/{invitation_id}").get_data(as_text=True)
    assert f'href="/secretariat/files/{rid}/logo" download>logo.png</a>' in detail

