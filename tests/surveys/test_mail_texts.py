"""A round's own invitation and reminder texts (issue 14 §4): placeholders checked, preview, test to me, sent mail."""

import re
from urllib.parse import urlsplit

import pytest

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.mail_texts import default_text, fill, problems
from surveys.mailing import build_message, mail_context, send_invitations
from surveys.models import Invitation, MailText, Preview, Response, Round
from tests.conftest import ADMIN
from tests.surveys.test_mailing import EVIL_NAME, partners_and_round, parts

GOOD_BODY = "Dear {contact},\n\n{organisation} is invited; the survey closes on {closes}.\n\n{link}\n\nAsk {secretariat}."


@pytest.mark.parametrize("subject, body, expected", [
    ("Hello {contact}", GOOD_BODY, []),
    ("Hello {org}", GOOD_BODY, [("subject", "unknown", "{org}")]),
    ("Hello", GOOD_BODY.replace("{closes}", "{deadline}"), [("body", "unknown", "{deadline}")]),
    ("Hello", "Dear {contact}, no link here.", [("body", "no_link", "")]),
    ("Hello {link}", GOOD_BODY, [("subject", "link_in_subject", "")]),
    ("Hello", GOOD_BODY + " {", [("body", "braces", "")]),
    ("Hello", GOOD_BODY + " {contact.__class__}", [("body", "unknown", "{contact.__class__}")]),
    ("Hello {contact!r}", GOOD_BODY, [("subject", "unknown", "{contact}")]),
    ("Hello {contact:>99}", GOOD_BODY, [("subject", "unknown", "{contact}")]),
    ("Hello {}", GOOD_BODY, [("subject", "unknown", "{}")]),
    ("Braces {{kept}}", GOOD_BODY, []),
    ("  ", "", [("subject", "missing", ""), ("body", "missing", "")]),
    ("x" * 201, GOOD_BODY, [("subject", "too_long", "200")]),
])
def test_problems_name_each_fault(subject, body, expected):
    assert [(p.field, p.code, p.detail) for p in problems(subject, body)] == expected


def test_the_default_texts_are_todays_mails_with_placeholders(app):
    with app.app_context():
        round_ = partners_and_round()
        for invitation in round_.invitations:
            context = mail_context(invitation, "invitation")
            language = context["lang"]
            subject, body = default_text(round_, "invitation", language)
            assert "{link}" in body and "{contact}" in body and not problems(subject, body)
            message = build_message(invitation, "invitation")
            values = {"organisation": context["organisation"], "contact": context["contact_name"],
                      "link": context["link"], "closes": context["closes_on"],
                      "secretariat": context["secretariat_email"]}
            assert fill(subject, values) == message["Subject"]
            assert fill(body, values).strip() == parts(message)[0].strip()
        subject, body = default_text(round_, "reminder", "fr")
        assert subject.startswith("Rappel : ") and subject.endswith("clôture le {closes}")
        assert "Nous n'avons pas encore reçu les réponses de {organisation}" in body


def page_url(round_id, kind="invitation", language="en"):
    return f"/secretariat/rounds/{round_id}/mail/{kind}/{language}"


def make_round(app):
    with app.app_context():
        return partners_and_round().id


def test_the_editor_page_and_its_fragment(app, admin):
    round_id = make_round(app)
    page = admin.get(page_url(round_id, language="fr"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    for name in ("{organisation}", "{contact}", "{link}", "{closes}", "{secretariat}"):
        assert f"<code>{name}</code>" in html
    assert "Bonjour {contact}," in html and "The default text" in html
    assert "Bonjour Hery Rakoto," in html  # previewed for a French contact first
    assert 'name="action" value="save"' in html and "Send a test to me" in html
    fragment = admin.get(page_url(round_id, language="fr"), headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="editor-title"' in body
    with app.app_context():
        ama = db.session.scalar(db.select(Invitation).where(Invitation.contact.has(email="ama@labour.example.gh")))
        contact_id = ama.contact_id
    chosen = admin.get(page_url(round_id, language="fr") + f"?contact={contact_id}").get_data(as_text=True)
    assert "Bonjour Ama Mensah," in chosen and "http://localhost/s/" in chosen
    assert admin.get(page_url(round_id, kind="thanks")).status_code == 404
    assert admin.get(page_url(round_id, language="de")).status_code == 404


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("body, message", [
    (GOOD_BODY.replace("{organisation}", "{organization}"), "{organization} is not a placeholder"),
    ("Dear {contact}, please answer.", "The text must contain {link}"),
])
def test_a_bad_text_is_refused_and_nothing_saved(app, admin, htmx, body, message):
    round_id = make_round(app)
    response = admin.post(page_url(round_id), {"subject": "Our survey", "body": body, "action": "save"}, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and "Nothing was saved" in html
    assert ("<html" in html) is not htmx
    assert 'aria-invalid="true"' in html and "Dear {contact}" in html  # the typed text is kept
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(MailText.id))) == 0


def test_a_saved_text_goes_out_with_plain_and_html_parts(app, admin, smtp):
    round_id = make_round(app)
    subject = "Your views, {organisation}"
    response = admin.post(page_url(round_id, language="es"), {"subject": subject, "body": GOOD_BODY,
                                                              "action": "save"})
    assert response.status_code == 303 and response.headers["Location"] == page_url(round_id, language="es")
    page = admin.get(page_url(round_id, language="es")).get_data(as_text=True)
    assert "Text saved" in page and "(edited)" in page and "Your views, " in page
    with app.app_context():
        saved = db.session.scalar(db.select(MailText))
        assert (saved.kind, saved.language, saved.subject) == ("invitation", "es", subject)
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="mail_text.save"))
        assert entry.details == {"kind": "invitation", "language": "es"}
        send_invitations(db.session.get(Round, round_id))
    spanish, = smtp.to("lucia@csa.example.org")
    assert spanish["Subject"] == f"Your views, {EVIL_NAME}"
    assert spanish.get_content_type() == "multipart/alternative" and spanish["Content-Language"] == "es"
    text, html = parts(spanish)
    assert text.startswith("Dear Lucía Fernández,") and f"{EVIL_NAME} is invited" in text
    link = next(line for line in text.splitlines() if line.startswith("http://localhost/s/"))
    assert f'href="{link}"' in html and ">Abrir la encuesta<" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="mailto:secretariat@alliance87.example"' in html
    french, = smtp.to("hery@travail.example.mg")  # other languages keep the default text
    assert parts(french)[0].startswith("Bonjour Hery Rakoto")


def test_restoring_the_default(app, admin):
    round_id = make_round(app)
    admin.post(page_url(round_id), {"subject": "S", "body": GOOD_BODY, "action": "save"})
    response = admin.post(page_url(round_id), {"action": "reset"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == page_url(round_id)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(MailText.id))) == 0
    assert "Dear {contact}," in admin.get(page_url(round_id)).get_data(as_text=True)


def test_preview_of_the_typed_text_changes_nothing(app, admin):
    round_id = make_round(app)
    response = admin.post(page_url(round_id), {"subject": "Hi {contact}", "body": GOOD_BODY, "action": "preview"},
                          htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Hi Ama Mensah" in html and "Dear Ama Mensah," in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(MailText.id))) == 0


def test_send_a_test_to_me(app, admin, smtp, client):
    round_id = make_round(app)
    response = admin.post(page_url(round_id, kind="reminder", language="fr"),
                          {"subject": "Rappel {organisation}", "body": "Bonjour {contact},\n\n{link}",
                           "action": "test"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f"A test was sent to {ADMIN[0]}" in html
    mail, = smtp.to(ADMIN[0])
    assert mail["Subject"].startswith("[Test] Rappel ")
    text, html_part = parts(mail)
    link = next(line for line in text.splitlines() if line.startswith("http://localhost/s/"))
    assert f'href="{link}"' in html_part
    assert client.get(urlsplit(link).path).status_code == 200  # a preview: it works and counts nothing
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Preview.id))) == 1
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 0
        assert db.session.scalar(db.select(db.func.count(MailText.id))) == 0


def test_an_analyst_reads_the_texts_and_changes_nothing(app, analyst):
    round_id = make_round(app)
    html = analyst.get(page_url(round_id)).get_data(as_text=True)
    assert "Dear {contact}," in html and 'value="save"' not in html and "Send a test to me" not in html
    assert analyst.post(page_url(round_id), {"subject": "S", "body": GOOD_BODY, "action": "save"}).status_code == 403
    assert re.search(r"readonly", html)


def test_the_audit_log_says_what_changed_in_words(app, admin):
    round_id = make_round(app)
    admin.post(page_url(round_id, kind="reminder", language="fr"), {"subject": "S", "body": GOOD_BODY,
                                                                   "action": "save"})
    admin.post(f"/secretariat/rounds/{round_id}/reminders", {"reminder_on": ""})
    html = admin.get("/secretariat/audit").get_data(as_text=True)
    assert "Changed the reminder text of 2026 review in Français" in html
    assert "Changed the reminder dates of 2026 review" in html
