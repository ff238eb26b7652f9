"""Hostile text through every field people control is shown escaped wherever it appears."""

import io

import pytest
import yaml
from markupsafe import escape

from engagement.extensions import db
from partners.models import Contact, Organisation
from surveys.mailing import build_message
from surveys.models import Invitation
from tests.factories import open_round_for, organisation, survey_from_rows
from tests.partners.conftest import HEADER
from tests.security.conftest import started
from tests.security.payloads import IDS, PAYLOADS, assert_escaped


def hostile_survey(text: str):
    """A survey whose title, labels, hints and choice labels are all `text`."""
    return survey_from_rows(
        survey=[
            {"type": "begin_group", "name": "part", "label": f"Page {text}"},
            {"type": "select_one colour", "name": "colour", "label": f"Colour {text}", "hint": f"Hint {text}",
             "or_other": "yes"},
            {"type": "select_multiple colour or_other", "name": "colours", "label": f"Colours {text}"},
            {"type": "text", "name": "story", "label": f"Story {text}", "hint": f"Hint2 {text}"},
            {"type": "end_group"},
        ],
        choices=[{"list_name": "colour", "name": "red", "label": f"Red {text}"},
                 {"list_name": "colour", "name": "blue", "label": "Blue"}],
        settings={"form_id": "hostile", "form_title": f"Title {text}"},
    )


@pytest.fixture
def hostile(app, request):
    """A partner organisation, contact, survey and open round, every text field carrying the payload."""
    payload = request.param
    with app.app_context():
        version = hostile_survey(payload.text)
        organisation(name=f"Org {payload.text}", contacts=[(f"Contact {payload.text}", "hostile@example.org", "en")])
        round_, tokens = open_round_for(version, name=f"Round {payload.text}")
        return payload, round_.id, tokens["hostile@example.org"]


def _save_hostile_answers(app, client, token, payload):
    started(app, client, token)
    saves = [
        client.post(f"/s/{token}/answer/story", {"story": f"Answer {payload.text}"}, htmx=True),
        client.post(f"/s/{token}/answer/colours", {"colours": "other", "colours_other": f"Other {payload.text}",
                                                    "colours__present": "1"}, htmx=True),
    ]
    for saved in saves:
        assert saved.status_code == 200, saved.get_data(as_text=True)
        assert_escaped(saved.get_data(as_text=True), payload, "autosave fragment", shown=False)


@pytest.mark.parametrize("hostile", PAYLOADS, ids=IDS, indirect=True)
def test_partner_pages_show_survey_texts_and_answers_escaped(app, client, hostile):
    payload, _round_id, token = hostile
    assert_escaped(client.get(f"/s/{token}").get_data(as_text=True), payload, "welcome page")
    _save_hostile_answers(app, client, token, payload)
    page = client.get(f"/s/{token}/page/part").get_data(as_text=True)
    for field in ("Page", "Colour", "Hint", "Red", "Story", "Answer", "Other"):
        assert_escaped(page, payload, f"survey page ({field})")
        assert f"{field} {escape(payload.text)}" in page, field
    review = client.get(f"/s/{token}/review").get_data(as_text=True)
    assert_escaped(review, payload, "review")
    submitted = client.post(f"/s/{token}/submit")
    receipt = client.get(submitted.headers["Location"]).get_data(as_text=True)
    assert_escaped(receipt, payload, "receipt")
    assert f"Answer {escape(payload.text)}" in receipt


@pytest.mark.parametrize("hostile", PAYLOADS, ids=IDS, indirect=True)
def test_secretariat_pages_show_names_titles_and_answers_escaped(app, client, admin, hostile):
    payload, round_id, token = hostile
    _save_hostile_answers(app, client, token, payload)
    client.post(f"/s/{token}/submit")
    with app.app_context():
        org_id = db.session.scalar(db.select(Organisation.id).where(Organisation.name.like("Org %")))
        version_id = db.session.scalar(db.select(Invitation).filter_by(round_id=round_id)).round.survey_version_id
    pages = {
        "registry list": "/partners/?status=all",
        "organisation": f"/partners/{org_id}",
        "organisation edit": f"/partners/{org_id}/edit",
        "rounds overview": "/secretariat/",
        "round": f"/secretariat/rounds/{round_id}",
        "dashboard": f"/secretariat/rounds/{round_id}/dashboard",
        "survey library": "/secretariat/surveys",
        "survey version": f"/secretariat/surveys/versions/{version_id}",
        "audit log": "/secretariat/audit",
        "responses of the round": f"/secretariat/rounds/{round_id}/responses",
        "coding the open answers": f"/secretariat/rounds/{round_id}/coding",
        "invitation text": f"/secretariat/rounds/{round_id}/mail/invitation/en",
    }
    for where, url in pages.items():
        response = admin.get(url)
        assert response.status_code == 200, (where, response.status_code)
        html = response.get_data(as_text=True)
        assert_escaped(html, payload, where, shown=where not in ("audit log", "dashboard", "coding the open answers",
                                                                "invitation text"))
        fragment = admin.get(url, headers={"HX-Request": "true"})
        assert_escaped(fragment.get_data(as_text=True), payload, f"{where} (htmx)", shown=False)
    for rule in app.url_map.iter_rules():  # the collective report, when it is served
        if "report" in rule.endpoint and rule.arguments == {"round_id"} and "GET" in rule.methods:
            report = admin.get(rule.build({"round_id": round_id})[1])
            assert report.status_code < 500
            if report.mimetype != "text/html":  # the Word and PDF files: tests/analysis/test_report_documents.py
                continue
            assert_escaped(report.get_data(as_text=True), payload, rule.endpoint, shown=False)


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_mails_escape_names_and_titles_in_their_html_part(app, payload):
    with app.app_context():
        version = hostile_survey(payload.text)
        organisation(name=f"Org {payload.text}", contacts=[(f"Contact {payload.text}", "mail@example.org", "en")])
        open_round_for(version)
        invitation = db.session.scalar(db.select(Invitation).join(Contact).filter(Contact.email == "mail@example.org"))
        for kind in ("invitation", "reminder"):
            message = build_message(invitation, kind)
            html = message.get_body(("html",)).get_content()
            assert_escaped(html, payload, f"{kind} mail (html)", shown=False)
            text = message.get_body(("plain",)).get_content()
            assert "Contact" in text
        assert "\n" not in str(message["To"]) and "\n" not in str(message["Subject"])


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_csv_import_preview_and_its_errors_show_cells_escaped(app, admin, payload):
    good = f'"Org {payload.text.replace(chr(34), chr(34) * 2)}",un,CH,no,,no,"Contact {payload.text.replace(chr(34), chr(34) * 2)}",x@example.org,en'
    bad = f'Org B,"{payload.text.replace(chr(34), chr(34) * 2)}",CH,no,,no,Name,y@example.org,en'
    for rows, where in (([good], "preview"), ([bad], "error list")):
        data = (HEADER + "\n" + "\n".join(rows) + "\n").encode()
        admin.get("/partners/import")
        response = admin.post("/partners/import", {"file": (io.BytesIO(data), "partners.csv")},
                              content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 422), where
        assert_escaped(html, payload, f"CSV import {where}", shown=where == "preview")


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_xlsform_importer_errors_show_the_bad_cell_escaped(app, admin, payload):
    document = {"settings": {"form_id": "bad", "form_title": "Bad"},
                "survey": [{"type": f"select_one {payload.text}", "name": "q1", "label": "Q"},
                           {"type": payload.text, "name": "q2", "label": "Q2"}],
                "choices": []}
    data = yaml.safe_dump(document, allow_unicode=True).encode()
    admin.get("/secretariat/surveys")
    for htmx in (False, True):
        response = admin.post("/secretariat/surveys", {"file": (io.BytesIO(data), "bad.yaml")}, htmx=htmx,
                              content_type="multipart/form-data")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert_escaped(html, payload, "XLSForm import errors", shown=False)
        assert "problem" in html
