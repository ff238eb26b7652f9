"""The audit log page: admins read who did what and when, newest first, paginated and filtered by action."""

import re
from datetime import UTC, datetime, timedelta

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.versions import DEFAULT_SURVEY_FILE
from tests.conftest import ADMIN

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_entries(count: int, action: str = "partners.edit", start: datetime = START):
    for index in range(count):
        db.session.add(AuditEntry(actor=ADMIN[0], action=action, target=f"organisation {index}",
                                  details={"field": "name", "n": index}, at=start + timedelta(minutes=index)))
    db.session.commit()


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)


def test_admin_reads_entries_newest_first_with_who_what_when_target_details(app, admin):
    with app.app_context():
        add_entries(2)
        db.session.add(AuditEntry(actor="cli", action="rounds.open", target="round 7", details={"invited": 12},
                                  at=START + timedelta(days=1)))
        db.session.commit()
    page = admin.get("/secretariat/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    found = rows(html)
    assert len(found) == 3
    assert "2026-03-02 09:00:00" in found[0] and "cli" in found[0] and "rounds.open" in found[0]
    assert "round 7" in found[0] and "invited: 12" in found[0]
    assert "organisation 1" in found[1] and "organisation 0" in found[2]
    assert ADMIN[0] in found[2] and "field: name" in found[2]


def test_a_real_action_appears(app, admin, runner):
    result = runner.invoke(args=["surveys", "import", str(DEFAULT_SURVEY_FILE)])
    assert result.exit_code == 0, result.output
    html = admin.get("/secretariat/audit").get_data(as_text=True)
    assert "survey.import" in html and "alliance87_engagement" in html and DEFAULT_SURVEY_FILE.name in html


def test_filter_by_action_full_page_and_fragment(app, admin):
    with app.app_context():
        add_entries(3, "partners.edit")
        add_entries(2, "reminders.send")
    page = admin.get("/secretariat/audit?action=reminders.send")
    html = page.get_data(as_text=True)
    assert len(rows(html)) == 2 and "partners.edit</code>" not in html
    assert '<option value="reminders.send" selected>' in html
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
    assert "Nothing recorded yet." in admin.get("/secretariat/audit").get_data(as_text=True)


def test_analyst_is_refused(app, analyst):
    assert analyst.get("/secretariat/audit").status_code == 403
    assert analyst.get("/secretariat/audit", headers={"HX-Request": "true"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(app, accounts, client):
    page = client.get("/secretariat/audit")
    assert page.status_code in (302, 303) and "/sign-in" in page.headers["Location"]
    fragment = client.get("/secretariat/audit?action=x", headers={"HX-Request": "true"})
    assert "/sign-in" in fragment.headers["HX-Redirect"]
