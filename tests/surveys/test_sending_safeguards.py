"""Sending safeguards (issue 17 §7): nobody who submitted is mailed, reminders keep their gap unless forced, and
every run is confirmed after being told how many mails go to whom, with and without JavaScript."""

from datetime import UTC, datetime

from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.mailing import send_invitations, send_reminders, sending_plan
from surveys.models import Invitation, Response, Round
from tests.sending import confirm_and_send, confirmation_fields, mailed_days_ago
from tests.surveys.test_mailing import partners_and_round


def submit(email: str) -> None:
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.contact.has(email=email)))
    db.session.add(Response(invitation=invitation, status="submitted", submitted_at=datetime.now(UTC)))
    db.session.commit()


def recipients(smtp) -> list[str]:
    return sorted(rcpts[0] for rcpts, _message in smtp.messages)


def test_invitations_sent_twice_reach_only_those_who_have_not_submitted(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        first = send_invitations(round_, invitation_ids=[round_.invitations[0].id])
        assert first.sent == 1
        submit("hery@travail.example.mg")  # answered from an exported link before any mail reached them
        second = send_invitations(round_)
        assert (second.sent, second.skipped) == (1, 2)
    assert recipients(smtp) == ["ama@labour.example.gh", "lucia@csa.example.org"]


def test_a_reminder_keeps_its_gap_after_the_invitation_and_the_last_reminder(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        plan = sending_plan(round_, "reminder")
        assert (len(plan.recipients), plan.recent) == (0, 3)
        assert send_reminders(round_).sent == 0  # two seconds after the invitations: nothing goes
        mailed_days_ago(app, round_.id, days=2.9)
        assert send_reminders(round_).sent == 0
        mailed_days_ago(app, round_.id, days=3.1)
        assert send_reminders(round_).sent == 3
        assert send_reminders(round_).sent == 0  # the gap counts from the last reminder too
        app.config["REMINDER_GAP_DAYS"] = 1
        mailed_days_ago(app, round_.id, days=1.5)
        assert send_reminders(round_).sent == 3


def test_forcing_skips_the_gap_but_a_forced_run_pressed_twice_mails_once(app, smtp):
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        submit("ama@labour.example.gh")
        confirmed_at = datetime.now(UTC)
        first = send_reminders(round_, force=True, as_of=confirmed_at)
        again = send_reminders(round_, force=True, as_of=confirmed_at)
        assert (first.sent, again.sent, again.skipped) == (2, 0, 3)
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action="reminders.send")).all()
        assert all(entry.details["forced"] is True for entry in entries)
    reminded = sorted(rcpts[0] for rcpts, _message in smtp.messages[3:])
    assert reminded == ["hery@travail.example.mg", "lucia@csa.example.org"]
    assert len(smtp.messages) == 5  # three invitations, two reminders; never the one who submitted


def open_round_page(app, admin):
    with app.app_context():
        round_id = partners_and_round().id
    admin.get(f"/secretariat/rounds/{round_id}")
    return round_id


def test_the_confirmation_says_how_many_mails_go_to_whom_without_javascript(app, admin, smtp):
    round_id = open_round_page(app, admin)
    with app.app_context():
        submit("lucia@csa.example.org")
    page = admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert f'<form method="get" action="/secretariat/rounds/{round_id}/send"' in page

    skipped = admin.post(f"/secretariat/rounds/{round_id}/send")  # a form that skipped the confirmation
    assert skipped.status_code == 303 and skipped.headers["Location"] == f"/secretariat/rounds/{round_id}/send"
    confirmation = admin.get(skipped.headers["Location"])
    html = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200 and "<html" in html
    assert "2 invitations will be mailed, one to each contact listed below." in html
    assert "ama@labour.example.gh" in html and "hery@travail.example.mg" in html
    assert "lucia@csa.example.org" not in html and "1 contact has already submitted." in html
    assert "English: 1, Français: 1" in html and "Send 2 invitations" in html
    assert not smtp.messages

    sent = confirm_and_send(admin, f"/secretariat/rounds/{round_id}/send")
    assert sent.status_code == 303 and sent.headers["Location"] == f"/secretariat/rounds/{round_id}"
    assert "2 invitations sent." in admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert recipients(smtp) == ["ama@labour.example.gh", "hery@travail.example.mg"]


def test_the_confirmation_as_an_htmx_fragment_and_its_send_button(app, admin, smtp):
    round_id = open_round_page(app, admin)
    fragment = admin.get(f"/secretariat/rounds/{round_id}/send", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "send-confirmation" in body
    assert f'hx-post="/secretariat/rounds/{round_id}/send" hx-target="#send-report"' in body
    asked = admin.post(f"/secretariat/rounds/{round_id}/send", htmx=True)  # no confirmation: it is shown instead
    assert asked.status_code == 200 and "3 invitations will be mailed" in asked.get_data(as_text=True)
    assert not smtp.messages
    sent = confirm_and_send(admin, f"/secretariat/rounds/{round_id}/send", htmx=True)
    assert sent.status_code == 200 and "3 invitations sent." in sent.get_data(as_text=True)
    assert sent.headers["HX-Trigger"] == "invitations-changed" and len(smtp.messages) == 3


def test_a_confirmation_for_another_list_is_refused_and_nothing_goes(app, admin, smtp):
    round_id = open_round_page(app, admin)
    _page, fields = confirmation_fields(admin, f"/secretariat/rounds/{round_id}/send")
    with app.app_context():
        submit("hery@travail.example.mg")  # meanwhile a partner submits: the list shown is no longer the list
    for htmx in (False, True):
        stale = admin.post(f"/secretariat/rounds/{round_id}/send", fields, htmx=htmx)
        html = stale.get_data(as_text=True)
        assert stale.status_code == 422 and "The list changed since you looked at it" in html
        assert "2 invitations will be mailed" in html
    assert not smtp.messages
    with app.app_context():
        assert not db.session.scalars(db.select(AuditEntry).filter_by(action="invitations.send")).all()


def test_reminders_confirmation_offers_to_force_the_gap(app, admin, smtp):
    round_id = open_round_page(app, admin)
    confirm_and_send(admin, f"/secretariat/rounds/{round_id}/send")
    smtp.messages.clear()
    page, fields = confirmation_fields(admin, f"/secretariat/rounds/{round_id}/remind")
    assert not fields and "Nobody to mail now" in page and "3 contacts were mailed in the last 3 days." in page
    assert 'name="force" value="1"' in page and "Also remind those mailed in the last 3 days" in page

    page, fields = confirmation_fields(admin, f"/secretariat/rounds/{round_id}/remind", {"force": "1"})
    assert "3 reminders will be mailed" in page and ("force", "1") in fields
    assert any(name == "as_of" for name, _value in fields)
    first = admin.post(f"/secretariat/rounds/{round_id}/remind", fields)
    assert first.status_code == 303 and len(smtp.messages) == 3
    twice = admin.post(f"/secretariat/rounds/{round_id}/remind", fields)  # the same confirmation, pressed again
    assert twice.status_code == 422 and len(smtp.messages) == 3
    with app.app_context():
        assert {inv.reminder_count for inv in db.session.get(Round, round_id).invitations} == {1}


def test_an_analyst_sees_the_confirmation_without_a_send_button(app, analyst, smtp):
    with app.app_context():
        round_id = partners_and_round().id
    html = analyst.get(f"/secretariat/rounds/{round_id}/send").get_data(as_text=True)
    assert "3 invitations will be mailed" in html and 'name="confirm"' not in html
    assert analyst.post(f"/secretariat/rounds/{round_id}/send", {"confirm": "yes"}).status_code == 403
    assert not smtp.messages


def test_closed_round_has_nothing_to_confirm(app, admin, smtp):
    round_id = open_round_page(app, admin)
    with app.app_context():
        db.session.get(Round, round_id).status = "closed"
        db.session.commit()
    response = admin.post(f"/secretariat/rounds/{round_id}/send", {"confirm": "yes"}, htmx=True)
    assert response.status_code == 422 and "only while the round is open" in response.get_data(as_text=True)
    assert 'name="confirm"' not in admin.get(f"/secretariat/rounds/{round_id}/send").get_data(as_text=True)
    assert not smtp.messages
