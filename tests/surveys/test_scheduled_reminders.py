"""Scheduled reminders (issue 14 §6): dates per round, `flask rounds remind-due` sends each once, the round page."""

import threading
from datetime import UTC, datetime, timedelta

from engagement.dates import long_date
from engagement.extensions import db
from engagement.models import AuditEntry
from surveys.mailing import send_invitations
from surveys.models import Response, Round, ScheduledReminder
from surveys.reminders import default_dates, reminders_of, send_due_reminders, set_reminder_dates
from surveys.rounds import create_round
from surveys.versions import DEFAULT_SURVEY_FILE, import_survey
from tests.sending import mailed_days_ago
from tests.surveys.test_mailing import partners_and_round

TODAY = datetime.now(UTC).date()


def round_with_a_reminder_due(app, submitted=("ama@labour.example.gh",)) -> int:
    """An open round mailed 4 days ago, some contacts submitted, and a reminder date today."""
    with app.app_context():
        round_ = partners_and_round()
        send_invitations(round_)
        for invitation in round_.invitations:
            if invitation.contact.email in submitted:
                db.session.add(Response(invitation=invitation, status="submitted", submitted_at=datetime.now(UTC)))
        set_reminder_dates(round_, [TODAY, round_.closes_on - timedelta(days=2)])
        db.session.commit()
        round_id = round_.id
    mailed_days_ago(app, round_id)
    return round_id


def reminders_sent(smtp) -> list[str]:
    return sorted(rcpts[0] for rcpts, message in smtp.messages if message["Subject"].startswith(
        ("Reminder", "Rappel", "Recordatorio")))


def test_a_new_round_is_reminded_7_and_2_days_before_closing(app):
    with app.app_context():
        version, _definition = import_survey(DEFAULT_SURVEY_FILE.read_bytes(), DEFAULT_SURVEY_FILE.name)
        closes = TODAY + timedelta(days=30)
        round_ = create_round(version, "R", closes)
        db.session.commit()
        assert [r.send_on for r in reminders_of(round_)] == [closes - timedelta(days=7), closes - timedelta(days=2)]
        assert default_dates(TODAY + timedelta(days=4)) == [TODAY + timedelta(days=2)]  # past dates left out


def test_remind_due_sends_once_to_those_who_have_not_submitted(app, runner, smtp):
    round_id = round_with_a_reminder_due(app)
    smtp.messages.clear()
    result = runner.invoke(args=["rounds", "remind-due"])
    assert result.exit_code == 0, result.output
    assert f'Round {round_id} "2026 review", reminder of {TODAY.isoformat()}: 2 sent, 1 skipped' in result.output
    assert reminders_sent(smtp) == ["hery@travail.example.mg", "lucia@csa.example.org"]
    again = runner.invoke(args=["rounds", "remind-due"])
    assert again.exit_code == 0 and again.output.strip() == "No reminder is due."
    assert len(smtp.messages) == 2
    with app.app_context():
        today, later = reminders_of(db.session.get(Round, round_id))
        assert today.sent_at is not None and (today.sent, today.skipped) == (2, 1)
        assert later.sent_at is None and later.claimed_at is None  # its day has not come
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="reminders.send")).details["sent"] == 2


def test_two_runs_at_the_same_time_send_each_reminder_once(app, smtp):
    import asyncio

    original = smtp.handle_DATA

    async def slow_data(server, session, envelope):
        await asyncio.sleep(0.1)
        return await original(server, session, envelope)

    round_with_a_reminder_due(app, submitted=())
    smtp.messages.clear()
    smtp.handle_DATA = slow_data
    results = []

    def run():
        with app.app_context():
            results.extend(send_due_reminders())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert reminders_sent(smtp) == ["ama@labour.example.gh", "hery@travail.example.mg", "lucia@csa.example.org"]
    sent = [result.report.sent for result in results if result.report is not None]
    assert sum(sent) == 3 and len(results) <= 2
    assert all(result.refused in (None, "taken") for result in results)


def test_a_run_stopped_by_the_mail_server_is_finished_by_the_next(app, runner, smtp):
    round_id = round_with_a_reminder_due(app, submitted=())
    smtp.messages.clear()
    smtp.fail_after = 1
    first = runner.invoke(args=["rounds", "remind-due"])
    assert first.exit_code == 1 and "1 sent" in first.output and "The next run sends the rest" in first.output
    with app.app_context():
        row = reminders_of(db.session.get(Round, round_id))[0]
        assert row.sent_at is None and row.claimed_at is None and row.error.startswith("SMTP 451")
    smtp.fail_after = None
    second = runner.invoke(args=["rounds", "remind-due"])
    assert second.exit_code == 0 and "2 sent, 1 skipped" in second.output
    assert len(reminders_sent(smtp)) == 3 and len(set(reminders_sent(smtp))) == 3


def test_remind_due_refuses_a_closed_round(app, runner, smtp):
    round_id = round_with_a_reminder_due(app)
    with app.app_context():
        db.session.get(Round, round_id).status = "closed"
        db.session.commit()
    smtp.messages.clear()
    named = runner.invoke(args=["rounds", "remind-due", str(round_id)])
    assert named.exit_code == 1 and f"Round {round_id} is closed: reminders are sent only while a round is open" \
        in named.output
    every = runner.invoke(args=["rounds", "remind-due"])
    assert "not sent: the round is not open." in every.output
    assert not smtp.messages
    with app.app_context():
        assert all(row.sent_at is None for row in db.session.scalars(db.select(ScheduledReminder)))


def test_dates_missed_meanwhile_go_as_one_reminder(app, smtp):
    round_id = round_with_a_reminder_due(app, submitted=())
    with app.app_context():
        db.session.add(ScheduledReminder(round_id=round_id, send_on=TODAY - timedelta(days=1), sent=0, skipped=0))
        db.session.commit()
    smtp.messages.clear()
    with app.app_context():
        result, = send_due_reminders()
        assert result.send_on == TODAY and result.report.sent == 3
        missed, today, _later = reminders_of(db.session.get(Round, round_id))
        assert missed.sent_at is not None and missed.sent == 0 and today.sent == 3
    assert len(smtp.messages) == 3


def test_the_round_page_shows_the_next_reminder_and_what_was_sent(app, admin, smtp):
    round_id = round_with_a_reminder_due(app)
    page = admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert f"Next reminder: {long_date(TODAY, 'en')}, to those who have not submitted then" in page
    with app.app_context():
        send_due_reminders()
        later = reminders_of(db.session.get(Round, round_id))[1].send_on
    page = admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert f"Next reminder: {long_date(later, 'en')}" in page
    assert f"{long_date(TODAY, 'en')}:" in page and " UTC to 2 contacts" in page and "1 left out" in page
    fragment = admin.get(f"/secretariat/rounds/{round_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Next reminder:" in fragment


def test_reminder_dates_are_changed_on_the_round_page(app, admin):
    with app.app_context():
        round_ = partners_and_round()
        round_id, closes = round_.id, round_.closes_on
    url = f"/secretariat/rounds/{round_id}/reminders"
    admin.get(f"/secretariat/rounds/{round_id}")
    wanted = [closes - timedelta(days=10), closes - timedelta(days=1)]
    response = admin.post(url, [("reminder_on", day.isoformat()) for day in wanted] + [("reminder_on", "")])
    assert response.status_code == 303
    page = admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    assert f"Reminder dates saved: {long_date(wanted[0], 'en')}, {long_date(wanted[1], 'en')}." in page
    with app.app_context():
        assert [r.send_on for r in reminders_of(db.session.get(Round, round_id))] == wanted

    for value, message in (("2020-01-01", "January 1, 2020 is in the past"),
                           ((closes + timedelta(days=1)).isoformat(), "is after the closing date"),
                           ("next week", "Give each reminder date as a date (YYYY-MM-DD)")):
        refused = admin.post(url, [("reminder_on", wanted[0].isoformat()), ("reminder_on", value)])
        assert refused.status_code == 303
        page = admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
        assert message in page and "Nothing was changed." in page
        with app.app_context():
            assert [r.send_on for r in reminders_of(db.session.get(Round, round_id))] == wanted
    htmx = admin.post(url, [("reminder_on", "")], htmx=True)
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == f"/secretariat/rounds/{round_id}"
    assert "No reminder is scheduled now." in admin.get(f"/secretariat/rounds/{round_id}").get_data(as_text=True)
    with app.app_context():
        assert reminders_of(db.session.get(Round, round_id)) == []
        assert db.session.scalars(db.select(AuditEntry).filter_by(action="round.reminder_dates")).all()
