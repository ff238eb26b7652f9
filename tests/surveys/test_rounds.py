"""The Secretariat's round pages: new round, open, close, late invitations, sending from the page, export."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from babel.dates import format_date

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.invitations import token_for
from surveys.models import Invitation, Response, Round
from surveys.rounds import EXPORT_COLUMNS, check_round, create_round, open_round
from surveys.versions import DEFAULT_SURVEY_FILE, import_survey
from tests.conftest import signed_in
from tests.factories import organisation
from tests.sending import confirm_and_send, confirmation_fields, mailed_days_ago

EVIL = "<script>alert(1)</script> Partners"


def registry(app):
    """The default survey and four partners: two in Africa (one Pathfinder), one in the Americas, one global."""
    with app.app_context():
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        db.session.commit()
        organisation("Ministry of Labour of Ghana", action_groups="supply_chains",
                     contacts=[("Ama Mensah", "ama@labour.example.gh", "en")])
        organisation("Ministère du Travail de Madagascar", country="MG",
                     contacts=[("Hery Rakoto", "hery@travail.example.mg", "fr"),
                               ("Voahangy Rabe", "voahangy@travail.example.mg", "fr")])
        organisation(EVIL, category="workers", country="BR", region="americas", pathfinder=False,
                     action_groups="migration", contacts=[("Lucía Fernández", "lucia@csa.example.org", "es")])
        organisation("=HYPERLINK(\"http://evil.example\")", category="civil_society", country=None, region="global",
                     pathfinder=False, contacts=[("+Mallory", "@mallory@example.org", "en")])
        return version.id


def new_round_form(version_id, **changes):
    form = {"survey_version": str(version_id), "name": "2026 partner review",
            "closes_on": (datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
            "category": "", "region": "", "pathfinder": "", "action_group": ""}
    form.update(changes)
    return form


def make_open_round(app, version_id, audience=None, name="2026 partner review"):
    with app.app_context():
        from surveys.models import SurveyVersion

        round_ = create_round(db.session.get(SurveyVersion, version_id), name,
                              datetime.now(UTC).date() + timedelta(days=30), audience)
        open_round(round_)
        db.session.commit()
        return round_.id


def first_invitation(round_id: int) -> tuple:
    """One invitation of the round and the token of its link (inside an app context)."""
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.round_id == round_id))
    return invitation, token_for(invitation)


def invited_and_due_for_reminders(app, client) -> int:
    """An open round whose invitations an administrator mailed long enough ago for reminders to be due."""
    round_id = make_open_round(app, registry(app))
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    confirm_and_send(client, f"/secretariat/rounds/{round_id}/send")
    mailed_days_ago(app, round_id)
    return round_id


def audit_actions(app):
    with app.app_context():
        return [entry.action for entry in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
                if entry.action != "user.sign_in"]


# --- Plain functions -------------------------------------------------------------------------------------------

def test_check_round_names_each_problem():
    today = date(2026, 5, 1)
    assert check_round("Review", date(2026, 5, 1), today) == {}
    assert check_round("  ", date(2026, 4, 30), today) == {"name": "missing", "closes_on": "past"}
    assert check_round("x" * 201, None, today) == {"name": "too_long", "closes_on": "missing"}


# --- New round -------------------------------------------------------------------------------------------------

def test_new_round_page_and_its_audience_count_fragment(app, client):
    registry(app)
    signed_in(client)
    page = client.get("/secretariat/rounds/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "Alliance 8.7 partner engagement and services survey – version 1" in html
    assert "5 contacts match today." in html
    assert 'href="/secretariat/rounds/new"' in html  # the nav link for admins

    fragment = client.client.get("/secretariat/rounds/new?region=africa", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="audience-count"' in body and "3 contacts match today." in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_creating_a_round_saves_a_draft_and_audits_it(app, client):
    version_id = registry(app)
    signed_in(client)
    client.get("/secretariat/rounds/new")
    response = client.post("/secretariat/rounds/new", new_round_form(version_id, region="africa", pathfinder="yes"))
    assert response.status_code == 303
    with app.app_context():
        round_ = db.session.scalar(db.select(Round))
        assert round_.status == "draft" and round_.name == "2026 partner review"
        assert round_.audience == {"region": "africa", "pathfinder": "yes"}
        assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0
        location = f"/secretariat/rounds/{round_.id}"
    assert response.headers["Location"] == location
    page = client.get(location).get_data(as_text=True)
    assert "Round saved as a draft" in page
    assert "Region: Africa; Pathfinder Countries only" in page
    assert "for each of the 3 contacts matching it today" in page
    assert audit_actions(app)[-1] == "round.create"


def test_creating_a_round_with_htmx_redirects_the_whole_page(app, client):
    version_id = registry(app)
    signed_in(client)
    client.get("/secretariat/rounds/new")
    response = client.post("/secretariat/rounds/new", new_round_form(version_id), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/secretariat/rounds/")


@pytest.mark.parametrize("changes, message", [
    ({"name": "   "}, "Give the round a name."),
    ({"closes_on": "2020-01-01"}, "The closing date is in the past: choose today or a later date."),
    ({"closes_on": ""}, "Choose the date the round closes."),
    ({"closes_on": "31/12/2026"}, "Enter the closing date as a date (YYYY-MM-DD)."),
    ({"name": "x" * 201}, "The name is too long (200 characters at most)."),
    ({"category": "pirates"}, "Not a valid choice"),
    ({"survey_version": "999"}, "Not a valid choice"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_round_is_refused_with_a_clear_message_and_nothing_saved(app, client, changes, message, htmx):
    version_id = registry(app)
    signed_in(client)
    client.get("/secretariat/rounds/new")
    response = client.post("/secretariat/rounds/new", new_round_form(version_id, **changes), htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and "The round was not saved:" in body
    assert ("<html" in body) is not htmx
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Round.id))) == 0
    assert "round.create" not in audit_actions(app)


# --- Round page, opening, closing ------------------------------------------------------------------------------

def test_opening_a_draft_invites_its_audience_only(app, client):
    version_id = registry(app)
    signed_in(client)
    client.get("/secretariat/rounds/new")
    client.post("/secretariat/rounds/new", new_round_form(version_id, region="africa"))
    with app.app_context():
        round_id = db.session.scalar(db.select(Round.id))
    client.get(f"/secretariat/rounds/{round_id}")
    response = client.post(f"/secretariat/rounds/{round_id}/open")
    assert response.status_code == 303
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "Round opened: 3 invitations created" in page
    assert "Send invitations (3 not yet sent)" in page
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.status == "open" and round_.opened_at is not None
        assert sorted(inv.contact.email for inv in round_.invitations) == [
            "ama@labour.example.gh", "hery@travail.example.mg", "voahangy@travail.example.mg"]
        assert all(inv.invited_at is None for inv in round_.invitations)  # mails go separately
    assert audit_actions(app)[-1] == "round.open"

    again = client.post(f"/secretariat/rounds/{round_id}/open", htmx=True)
    assert again.status_code == 204 and again.headers["HX-Redirect"] == f"/secretariat/rounds/{round_id}"
    assert "Only a draft round can be opened" in client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 3


def test_a_draft_whose_closing_date_passed_cannot_be_opened(app, client):
    version_id = registry(app)
    with app.app_context():
        from surveys.models import SurveyVersion

        round_ = create_round(db.session.get(SurveyVersion, version_id), "Late", date(2020, 1, 1))
        db.session.commit()
        round_id = round_.id
    signed_in(client)
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "this round cannot be opened" in page and "Open the round" not in page
    client.post(f"/secretariat/rounds/{round_id}/open")
    with app.app_context():
        assert db.session.get(Round, round_id).status == "draft"


def test_round_page_full_and_fragment(app, client):
    round_id = make_open_round(app, registry(app))
    signed_in(client)
    page = client.get(f"/secretariat/rounds/{round_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert 'id="send-report"' in html and 'id="round-summary"' in html
    assert f'href="/secretariat/rounds/{round_id}/dashboard"' in html
    assert "Send reminders to the 0 who have not submitted" in html  # nobody mailed yet
    fragment = client.client.get(f"/secretariat/rounds/{round_id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="send-report"' not in body
    assert body.lstrip().startswith('<div id="round-summary"')
    assert client.get("/secretariat/rounds/9999").status_code == 404


def test_names_with_markup_are_escaped_on_the_round_page(app, client):
    version_id = registry(app)
    round_id = make_open_round(app, version_id, name="<img src=x onerror=alert(1)>")
    signed_in(client)
    html = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Partners" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_closing_stops_answers_and_keeps_started_responses(app, client):
    round_id = make_open_round(app, registry(app))
    with app.app_context():
        invitation, token = first_invitation(round_id)
        db.session.add(Response(invitation=invitation, status="in_progress"))
        db.session.commit()
    assert client.get(f"/s/{token}").status_code == 200
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")

    unconfirmed = client.post(f"/secretariat/rounds/{round_id}/close")
    assert unconfirmed.status_code == 303
    assert "Tick “Yes, close this round” to close it." in client.get(f"/secretariat/rounds/{round_id}").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Round, round_id).status == "open"

    closed = client.post(f"/secretariat/rounds/{round_id}/close", {"confirm": "yes"}, htmx=True)
    assert closed.status_code == 204 and closed.headers["HX-Redirect"] == f"/secretariat/rounds/{round_id}"
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "Round closed." in page and "This round is closed" in page and "Send invitations" not in page
    assert client.get(f"/s/{token}").status_code == 410
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.status == "closed" and round_.closed_at is not None
        assert db.session.scalar(db.select(db.func.count(Response.id))) == 1
    assert audit_actions(app)[-1] == "round.close"
    assert client.post(f"/secretariat/rounds/{round_id}/close", {"confirm": "yes"}).status_code == 303
    assert audit_actions(app).count("round.close") == 1


def test_partners_added_after_opening_can_be_invited(app, client):
    version_id = registry(app)
    round_id = make_open_round(app, version_id, audience={"region": "africa"})
    with app.app_context():
        organisation("Ministry of Labour of Kenya", country="KE",
                     contacts=[("Wanjiru Kamau", "wanjiru@labour.example.ke", "en")])
        organisation("Americas Late Org", category="workers", country="MX", region="americas", pathfinder=False,
                     contacts=[("Late Americas", "late@americas.example.org", "es")])
    signed_in(client)
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "1 contact added to the registry since the round opened matches it." in page
    response = client.post(f"/secretariat/rounds/{round_id}/invite-late")
    assert response.status_code == 303
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "1 partner contact added to the round" in page
    assert "Invite partners added since the round opened" not in page
    with app.app_context():
        emails = db.session.scalars(db.select(Invitation).where(Invitation.round_id == round_id)).all()
        assert "wanjiru@labour.example.ke" in {inv.contact.email for inv in emails}
        assert "late@americas.example.org" not in {inv.contact.email for inv in emails}
        assert len(emails) == 4
    client.post(f"/secretariat/rounds/{round_id}/invite-late")
    assert "No new partner contact to add" in client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert audit_actions(app).count("round.invite_late") == 2


# --- Sending from the page (outbox mode) -----------------------------------------------------------------------

def outbox(tmp_path):
    return [BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            for path in sorted((tmp_path / "outbox").glob("*.eml"))]


def test_send_invitations_from_the_page_full_and_htmx(app, client, tmp_path):
    round_id = make_open_round(app, registry(app))
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    response = confirm_and_send(client, f"/secretariat/rounds/{round_id}/send")
    assert response.status_code == 303
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "5 invitations sent." in page and "Send invitations (0 not yet sent)" in page
    today = format_date(datetime.now(UTC).date(), "long", locale="en")
    assert page.count(f'<td class="when">{today}, ') == 5  # the day written out, as on every secretariat page
    assert len(outbox(tmp_path)) == 5

    _again, fields = confirmation_fields(client, f"/secretariat/rounds/{round_id}/send")
    assert not fields and "Nobody to mail now" in _again and "5 contacts were already invited." in _again
    reminders, fields = confirmation_fields(client, f"/secretariat/rounds/{round_id}/remind")
    assert not fields and "5 contacts were mailed in the last 3 days." in reminders  # the gap holds them back
    assert 'name="force" value="1"' in reminders
    assert len(outbox(tmp_path)) == 5
    assert audit_actions(app).count("invitations.send") == 1


def test_sending_from_the_page_goes_in_timed_batches_that_the_page_continues(app, client, tmp_path):
    """A press sends for MAIL_SEND_SECONDS at most (at least one mail); the htmx fragment posts again by itself until
    everything is sent, and without JavaScript the page says to press again. Nothing is mailed twice."""
    round_id = make_open_round(app, registry(app))
    app.config["MAIL_SEND_SECONDS"] = 0  # one mail per run
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    first = confirm_and_send(client, f"/secretariat/rounds/{round_id}/send", htmx=True).get_data(as_text=True)
    assert "1 invitation sent." in first and "4 more to send: sending goes on." in first
    assert "skipped" not in first
    assert f'hx-post="/secretariat/rounds/{round_id}/send" hx-trigger="load delay:200ms"' in first
    assert 'name="continued" value="1"' in first
    assert len(outbox(tmp_path)) == 1
    runs = 1
    body = first
    while "hx-trigger=\"load" in body:  # what the browser does with the fragment: post its form again
        sent_before = body.split('name="sent_before" value="', 1)[1].split('"', 1)[0]
        body = client.post(f"/secretariat/rounds/{round_id}/send", {"continued": "1", "sent_before": sent_before},
                           htmx=True).get_data(as_text=True)
        runs += 1
        assert f"{runs} invitations sent." in body and "skipped" not in body
    assert runs == 5 and "5 invitations sent." in body and "more to send" not in body
    assert len(outbox(tmp_path)) == 5
    assert len({m["To"] for m in outbox(tmp_path)}) == 5

    # Without JavaScript: a flash that says to press again, and the button counts what is left.
    mailed_days_ago(app, round_id)
    plain = confirm_and_send(client, f"/secretariat/rounds/{round_id}/remind")
    assert plain.status_code == 303
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "1 reminder sent." in page and "4 more to send: press the button again to send them." in page
    assert "Send reminders to the 4 who have not submitted" in page


def test_a_batched_reminder_to_chosen_invitations_carries_the_choice_to_the_next_batch(app, client, tmp_path):
    round_id = invited_and_due_for_reminders(app, client)
    app.config["MAIL_SEND_SECONDS"] = 0
    with app.app_context():
        chosen = sorted(db.session.scalars(db.select(Invitation.id).where(Invitation.round_id == round_id)))[:2]
    first = confirm_and_send(client, f"/secretariat/rounds/{round_id}/remind",
                             [("invitation_id", str(i)) for i in chosen], htmx=True).get_data(as_text=True)
    assert "1 reminder sent." in first and "1 more to send" in first
    assert all(f'name="invitation_id" value="{i}"' in first for i in chosen)
    second = client.post(f"/secretariat/rounds/{round_id}/remind",
                         [("invitation_id", str(i)) for i in chosen] + [("continued", "1")], htmx=True)
    assert "1 reminder sent." in second.get_data(as_text=True) and "hx-trigger" not in second.get_data(as_text=True)
    reminders = [m for m in outbox(tmp_path) if m["Subject"].startswith(("Reminder", "Rappel", "Recordatorio"))]
    assert len(reminders) == 2


def test_remind_route_for_all_or_chosen_invitations(app, client, tmp_path):
    round_id = invited_and_due_for_reminders(app, client)
    with app.app_context():
        ids = {inv.contact.email: inv.id for inv in
               db.session.scalars(db.select(Invitation).where(Invitation.round_id == round_id))}
        submitted = db.session.get(Invitation, ids["ama@labour.example.gh"])
        db.session.add(Response(invitation=submitted, status="submitted", submitted_at=datetime.now(UTC)))
        db.session.commit()
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "Send reminders to the 4 who have not submitted" in page
    assert page.count('name="invitation_id"') == 4  # a Remind button per contact who has not submitted

    one = confirm_and_send(client, f"/secretariat/rounds/{round_id}/remind",
                           {"invitation_id": str(ids["lucia@csa.example.org"])}, htmx=True)
    assert one.status_code == 200 and "1 reminder sent." in one.get_data(as_text=True)
    assert one.headers["HX-Trigger"] == "invitations-changed"
    reminders = [m for m in outbox(tmp_path) if m["Subject"].startswith(("Reminder", "Rappel", "Recordatorio"))]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == ["lucia@csa.example.org"]
    assert reminders[0]["Subject"].startswith("Recordatorio: ")

    everyone = confirm_and_send(client, f"/secretariat/rounds/{round_id}/remind",
                                {"next": f"/secretariat/rounds/{round_id}/dashboard?region=africa"})
    assert everyone.status_code == 303
    assert everyone.headers["Location"] == f"/secretariat/rounds/{round_id}/dashboard?region=africa"
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "3 reminders sent. 2 skipped" in page
    assert "1 contact who has not submitted was mailed" not in page
    assert ("4 contacts who have not submitted were mailed in the last 3 days and are left out unless you choose "
            "to remind them anyway.") in page
    assert 'name="invitation_id"' not in page  # nobody is due for a reminder now
    with app.app_context():
        counts = {inv.contact.email: inv.reminder_count for inv in
                  db.session.scalars(db.select(Invitation).where(Invitation.round_id == round_id))}
    assert counts == {"ama@labour.example.gh": 0, "hery@travail.example.mg": 1, "voahangy@travail.example.mg": 1,
                      "lucia@csa.example.org": 1, "@mallory@example.org": 1}


@pytest.mark.parametrize("htmx", [False, True])
def test_remind_refuses_invitations_of_another_round_or_garbage(app, client, tmp_path, htmx):
    version_id = registry(app)
    round_id = make_open_round(app, version_id)
    other_id = make_open_round(app, version_id, name="Other round")
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    confirm_and_send(client, f"/secretariat/rounds/{round_id}/send")
    with app.app_context():
        foreign = db.session.scalar(db.select(Invitation.id).where(Invitation.round_id == other_id))
    elsewhere = client.post(f"/secretariat/rounds/{round_id}/remind",
                            {"invitation_id": "x", "next": "//evil.example/secretariat/"})
    assert elsewhere.headers["Location"] == f"/secretariat/rounds/{round_id}"
    for value, message in ((str(foreign), "an invitation is not part of this round"),
                           ("12abc", "an invitation number is not valid")):
        response = client.post(f"/secretariat/rounds/{round_id}/remind", {"invitation_id": value}, htmx=htmx)
        if htmx:
            assert response.status_code == 422 and message in response.get_data(as_text=True)
        else:
            assert response.status_code == 303
            assert message in client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "reminders.send" not in audit_actions(app)
    assert not [m for m in outbox(tmp_path) if m["Subject"].startswith(("Reminder", "Rappel", "Recordatorio"))]


def test_no_sending_for_a_draft_round(app, client, tmp_path):
    version_id = registry(app)
    with app.app_context():
        from surveys.models import SurveyVersion

        round_id = create_round(db.session.get(SurveyVersion, version_id), "Draft",
                                datetime.now(UTC).date() + timedelta(days=3)).id
        db.session.commit()
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    response = client.post(f"/secretariat/rounds/{round_id}/send", htmx=True)
    assert response.status_code == 422
    assert "Invitations are sent only while the round is open." in response.get_data(as_text=True)
    assert client.post(f"/secretariat/rounds/{round_id}/remind").status_code == 303
    assert not (tmp_path / "outbox").exists()


# --- Export ----------------------------------------------------------------------------------------------------

def test_export_csv_from_the_page(app, client):
    round_id = make_open_round(app, registry(app))
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    confirm_and_send(client, f"/secretariat/rounds/{round_id}/send")
    with app.app_context():
        invitation = db.session.scalar(db.select(Invitation).join(Invitation.contact)
                                       .where(Invitation.contact.has(email="hery@travail.example.mg")))
        db.session.add(Response(invitation=invitation, status="in_progress"))
        token = token_for(invitation)
        db.session.commit()
    response = client.get(f"/secretariat/rounds/{round_id}/invitations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert tuple(rows[0].keys()) == EXPORT_COLUMNS and len(rows) == 5
    plain = client.get(f"/secretariat/rounds/{round_id}/invitations.csv?bom=0").get_data()
    assert plain.startswith(b"organisation,")
    hery = next(row for row in rows if row["contact_email"] == "hery@travail.example.mg")
    assert hery["status"] == "started" and hery["language"] == "fr"
    assert hery["link"] == f"http://localhost/s/{token}" and hery["invited_at"] and hery["reminders"] == "0"
    evil = next(row for row in rows if row["contact_email"] == "'@mallory@example.org")
    assert evil["organisation"] == "'=HYPERLINK(\"http://evil.example\")" and evil["contact_name"] == "'+Mallory"
    assert audit_actions(app)[-1] == "invitations.export"


# --- Who may do what --------------------------------------------------------------------------------------------

def test_extending_the_closing_date_reopens_the_links_of_a_round_whose_date_passed(app, client):
    round_id = make_open_round(app, registry(app))
    with app.app_context():
        _invitation, token = first_invitation(round_id)
        db.session.get(Round, round_id).closes_on = date.today() - timedelta(days=2)  # the deadline went by
        db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410
    signed_in(client)
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert f'action="/secretariat/rounds/{round_id}/closing-date"' in page and 'type="date"' in page

    later = (date.today() + timedelta(days=7)).isoformat()
    moved = client.post(f"/secretariat/rounds/{round_id}/closing-date", {"closes_on": later}, htmx=True)
    assert moved.status_code == 204 and moved.headers["HX-Redirect"] == f"/secretariat/rounds/{round_id}"
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    written = format_date(date.fromisoformat(later), "long", locale="en")  # "December 11, 2026"
    assert f"The round now closes on {written}." in page and f"<dd>{written}</dd>" in page
    assert client.get(f"/s/{token}").status_code == 200
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "round.closing_date" and entry.details["closes_on"] == later


@pytest.mark.parametrize("value, message", [
    ("2020-01-01", "The closing date is in the past: choose today or a later date."),
    ("31/12/2026", "Give the new closing date as a date (YYYY-MM-DD)."),
    ("", "Give the new closing date as a date (YYYY-MM-DD)."),
])
def test_a_bad_closing_date_is_refused_and_changes_nothing(app, client, value, message):
    round_id = make_open_round(app, registry(app))
    with app.app_context():
        before = db.session.get(Round, round_id).closes_on
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    assert client.post(f"/secretariat/rounds/{round_id}/closing-date", {"closes_on": value}).status_code == 303
    assert message in client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, round_id).closes_on == before
    assert "round.closing_date" not in audit_actions(app)


def test_a_closed_round_keeps_its_closing_date(app, client):
    round_id = make_open_round(app, registry(app))
    signed_in(client)
    client.get(f"/secretariat/rounds/{round_id}")
    client.post(f"/secretariat/rounds/{round_id}/close", {"confirm": "yes"})
    with app.app_context():
        before = db.session.get(Round, round_id).closes_on
    page = client.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert "closing-date" not in page
    later = (date.today() + timedelta(days=30)).isoformat()
    client.post(f"/secretariat/rounds/{round_id}/closing-date", {"closes_on": later})
    assert "A closed round keeps its closing date." in client.get(f"/secretariat/rounds/{round_id}").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Round, round_id).closes_on == before


def test_analyst_reads_but_changes_nothing(app, client, tmp_path):
    version_id = registry(app)
    round_id = make_open_round(app, version_id)
    audited = audit_actions(app)
    signed_in(client, "analyst")
    page = client.get(f"/secretariat/rounds/{round_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Send invitations" not in html and "Close the round" not in html and "invitations.csv" not in html
    assert 'href="/secretariat/rounds/new"' not in html
    assert client.get("/secretariat/rounds/new").status_code == 200
    assert client.get(f"/secretariat/rounds/{round_id}/invitations.csv").status_code == 403
    for url, data in (("/secretariat/rounds/new", new_round_form(version_id)),
                      (f"/secretariat/rounds/{round_id}/open", {}),
                      (f"/secretariat/rounds/{round_id}/close", {"confirm": "yes"}),
                      (f"/secretariat/rounds/{round_id}/closing-date", {"closes_on": "2099-01-01"}),
                      (f"/secretariat/rounds/{round_id}/invite-late", {}),
                      (f"/secretariat/rounds/{round_id}/send", {}),
                      (f"/secretariat/rounds/{round_id}/remind", {})):
        for htmx in (False, True):
            assert client.post(url, data, htmx=htmx).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Round.id))) == 1
        assert db.session.get(Round, round_id).status == "open"
    assert not (tmp_path / "outbox").exists()
    assert audit_actions(app) == audited


def test_anonymous_requests_go_to_sign_in(app, client):
    round_id = make_open_round(app, registry(app))
    for url in ("/secretariat/rounds/new", f"/secretariat/rounds/{round_id}",
                f"/secretariat/rounds/{round_id}/invitations.csv"):
        page = client.get(url)
        assert page.status_code in (302, 303) and "/sign-in" in page.headers["Location"], url
        fragment = client.client.get(url, headers={"HX-Request": "true"})
        assert fragment.headers["HX-Redirect"].startswith("/sign-in"), url
    client.get("/sign-in")
    for action in ("open", "close", "invite-late", "send", "remind"):
        response = client.post(f"/secretariat/rounds/{round_id}/{action}")
        assert response.status_code in (302, 303) and "/sign-in" in response.headers["Location"]
