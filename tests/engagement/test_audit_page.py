"""The audit log page: admins read who did what and when, newest first, each entry as a sentence in their language,
paginated and filtered by action; sign-ins and failed sign-ins are in it."""

import re
from datetime import UTC, date, datetime, timedelta

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.rounds import create_round
from surveys.versions import DEFAULT_SURVEY_FILE
from tests.conftest import ADMIN
from tests.factories import survey_from_rows

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_entries(count: int, action: str = "partners.edit", start: datetime = START):
    for index in range(count):
        db.session.add(AuditEntry(actor=ADMIN[0], action=action, target=f"organisation {index}",
                                  details={"field": "name", "n": index}, at=start + timedelta(minutes=index)))
    db.session.commit()


def rows(html: str, sign_ins: bool = False) -> list[str]:
    """The entries' rows; the signed-in admin's own sign-in left out unless asked for."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    found = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return found if sign_ins else [row for row in found if "Signed in" not in row]


def test_admin_reads_entries_newest_first_as_sentences_with_their_details(app, admin):
    with app.app_context():
        add_entries(2)
        version = survey_from_rows([{"type": "text", "name": "q", "label": "Q"}])
        round_ = create_round(version, "2026 partner review", date(2026, 6, 30))
        db.session.execute(db.delete(AuditEntry).where(AuditEntry.action == "round.create"))
        db.session.add(AuditEntry(actor="cli", action="round.open", target=f"round {round_.id}",
                                  details={"invited": 12, "name": "2026 partner review"},
                                  at=START + timedelta(days=1)))
        db.session.add(AuditEntry(actor=ADMIN[0], action="responses.export", target=f"round {round_.id}",
                                  details={"format": "csv", "labels": None, "bom": False, "anonymised": True},
                                  at=START + timedelta(days=2)))
        db.session.commit()
    page = admin.get("/secretariat/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    found = rows(html)
    assert len(found) == 4
    assert "March 3, 2026, 09:00 UTC" in found[0] and ADMIN[0] in found[0]
    assert "Exported the responses of 2026 partner review as CSV" in found[0] and "Anonymised: yes" in found[0]
    assert "March 2, 2026, 09:00 UTC" in found[1] and "Command line" in found[1]
    assert "Opened the round 2026 partner review" in found[1] and "Invitations created: 12" in found[1]
    assert "round 1" not in html and "bom" not in html and "None" not in html and "False" not in html
    assert "Partners edit: organisation 1" in found[2] and "Field: name" in found[2] and "N: 1" in found[2]
    assert "organisation 0" in found[3]
    assert rows(html, sign_ins=True)[0].count("Signed in") == 1


def test_sentences_in_the_readers_language(app, admin):
    with app.app_context():
        db.session.add(AuditEntry(actor="cli", action="round.closing_date", target="round 99",
                                  details={"name": "Revue 2026", "previous": "2026-06-30", "closes_on": "2026-07-15"},
                                  at=START))
        db.session.commit()
    html = admin.get("/secretariat/audit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Revue 2026" in html and "30 juin 2026" in html and "15 juillet 2026" in html
    assert "Ligne de commande" in html


def test_sign_ins_and_failed_sign_ins_are_recorded_never_the_password(app, admin, client):
    client.get("/sign-in")
    client.post("/sign-in", {"email": "Someone@Example.org", "password": "guessing-secret-1"})
    client.post("/sign-in", {"email": ADMIN[0], "password": "guessing-secret-2"})
    html = admin.get("/secretariat/audit").get_data(as_text=True)
    assert "guessing-secret" not in html
    found = rows(html, sign_ins=True)
    assert "Failed sign-in with the email " + ADMIN[0] in found[0] and "wrong password" in found[0]
    assert "Not signed in" in found[0]
    assert "someone@example.org" not in html  # typed for no account: perhaps a password in the wrong field
    assert "Failed sign-in with an unknown email" in found[1] and "Not signed in" in found[1]
    assert "Signed in" in found[2] and ADMIN[0] in found[2]
    with app.app_context():
        stored = [str(e.details) + e.target for e in db.session.scalars(db.select(AuditEntry))]
        assert not any("guessing-secret" in text for text in stored)


def test_a_real_action_appears(app, admin, runner):
    result = runner.invoke(args=["surveys", "import", str(DEFAULT_SURVEY_FILE)])
    assert result.exit_code == 0, result.output
    html = admin.get("/secretariat/audit").get_data(as_text=True)
    assert "Imported the survey alliance87_engagement" in html and DEFAULT_SURVEY_FILE.name in html
    assert '<option value="survey.import">Survey imported</option>' in html


def test_filter_by_action_full_page_and_fragment(app, admin):
    with app.app_context():
        add_entries(3, "partners.edit")
        add_entries(2, "reminders.send")
    page = admin.get("/secretariat/audit?action=reminders.send")
    html = page.get_data(as_text=True)
    assert len(rows(html)) == 2 and not any("Partners edit" in row for row in rows(html))
    assert '<option value="reminders.send" selected>Reminders sent</option>' in html
    fragment = admin.get("/secretariat/audit?action=partners.edit", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert body.lstrip().startswith('<div id="audit-entries">') and "<html" not in body and "<select" not in body
    assert len(rows(body)) == 3


def test_an_unknown_action_says_so_and_shows_everything(app, admin):
    with app.app_context():
        add_entries(2)
    page = admin.get("/secretariat/audit?action=%3Cscript%3Ealert(1)%3C/script%3E")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "There is no action called" in html and "&lt;script&gt;" in html and "<script>alert" not in html
    assert len(rows(html)) == 2


def test_pagination(app, admin):
    with app.app_context():
        db.session.execute(db.delete(AuditEntry))  # the admin's sign-in
        add_entries(120)
    first = admin.get("/secretariat/audit").get_data(as_text=True)
    assert len(rows(first)) == 50 and "organisation 119" in rows(first)[0]
    assert "Page 1 of 3 (120 entries)" in first and 'href="/secretariat/audit?page=2"' in first
    last = admin.get("/secretariat/audit?page=3").get_data(as_text=True)
    assert len(rows(last)) == 20 and "organisation 0<" in rows(last)[-1]
    assert 'rel="prev" href="/secretariat/audit?page=2"' in last and 'rel="next"' not in last
    beyond = admin.get("/secretariat/audit?page=9")
    assert beyond.status_code == 404
    assert rows(beyond.get_data(as_text=True)) == [] and "There is no page 9." in beyond.get_data(as_text=True)
    assert admin.get("/secretariat/audit?page=99999999999999999999").status_code == 404
    assert len(rows(admin.get("/secretariat/audit?page=abc").get_data(as_text=True))) == 50
    assert len(rows(admin.get("/secretariat/audit?page=-4").get_data(as_text=True))) == 50


def test_pages_keep_the_action_filter(app, admin):
    with app.app_context():
        add_entries(60, "partners.edit")
        add_entries(5, "rounds.open")
    html = admin.get("/secretariat/audit?action=partners.edit").get_data(as_text=True)
    assert 'href="/secretariat/audit?action=partners.edit&amp;page=2"' in html


def test_empty_log(app, admin):
    html = admin.get("/secretariat/audit?action=partners.import").get_data(as_text=True)
    assert "There is no action called" in html  # nothing imported yet: only the admin's sign-in is recorded
    with app.app_context():
        db.session.execute(db.delete(AuditEntry))
        db.session.commit()
    assert "Nothing recorded yet." in admin.get("/secretariat/audit").get_data(as_text=True)


def test_analyst_is_refused(app, analyst):
    assert analyst.get("/secretariat/audit").status_code == 403
    assert analyst.get("/secretariat/audit", headers={"HX-Request": "true"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(app, accounts, client):
    page = client.get("/secretariat/audit")
    assert page.status_code in (302, 303) and "/sign-in" in page.headers["Location"]
    fragment = client.get("/secretariat/audit?action=x", headers={"HX-Request": "true"})
    assert "/sign-in" in fragment.headers["HX-Redirect"]
