"""Scheduled reminders: each round has reminder dates (7 and 2 days before closing unless changed), and
`flask rounds remind-due`, run every hour, sends each date's reminder once to those who have not submitted.

Safe when two runs meet: a date's row is claimed by one conditional UPDATE in a write transaction (only the run
whose UPDATE changed the row sends), and each mail is still claimed per invitation by surveys.mailing, with the
reminder gap, so nobody is mailed twice. A run that the mail server stopped gives its claim back for the next hour;
a claim left by a run that died is taken over after CLAIM_MINUTES.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, update

from engagement.audit import record
from engagement.database import run_write
from engagement.extensions import db

from .mailing import SendReport, send_reminders
from .models import Round, ScheduledReminder

DEFAULT_DAYS_BEFORE_CLOSING = (7, 2)
MAX_DATES = 10
CLAIM_MINUTES = 60


class ReminderDatesError(ValueError):
    """Reminder dates that cannot be saved; `problem` says why and `day` which date."""

    def __init__(self, problem: str, day: date | None = None):
        super().__init__(problem)
        self.problem, self.day = problem, day


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def default_dates(closes_on: date, today: date | None = None) -> list[date]:
    """7 and 2 days before closing, those not already past."""
    return sorted(day for day in (closes_on - timedelta(days=n) for n in DEFAULT_DAYS_BEFORE_CLOSING)
                  if day >= _today(today))


def schedule_default_reminders(round_: Round, today: date | None = None) -> None:
    """Give a new round its default reminder dates, in the caller's write transaction."""
    for day in default_dates(round_.closes_on, today):
        db.session.add(ScheduledReminder(round_id=round_.id, send_on=day, sent=0, skipped=0))


def reminders_of(round_: Round) -> list[ScheduledReminder]:
    return list(db.session.scalars(db.select(ScheduledReminder).filter_by(round_id=round_.id)
                                   .order_by(ScheduledReminder.send_on)))


def next_reminder(round_: Round) -> ScheduledReminder | None:
    """The next date whose reminder has not gone yet (None when none is left)."""
    return next((reminder for reminder in reminders_of(round_) if reminder.sent_at is None), None)


def set_reminder_dates(round_: Round, days: list[date], today: date | None = None) -> list[date]:
    """Replace a draft or open round's dates still to come; reminders already sent stay as the record of what went.

    Refused as a whole (ReminderDatesError) when a date is past, after closing, or there are too many.
    """
    if round_.status == "closed":
        raise ReminderDatesError("closed")
    wanted = sorted(set(days))
    if len(wanted) > MAX_DATES:
        raise ReminderDatesError("too_many")
    for day in wanted:
        if day < _today(today):
            raise ReminderDatesError("past", day)
        if day > round_.closes_on:
            raise ReminderDatesError("after_closing", day)
    existing = reminders_of(round_)
    sent = {reminder.send_on for reminder in existing if reminder.sent_at is not None}
    for reminder in existing:
        if reminder.sent_at is None and reminder.send_on not in wanted:
            db.session.delete(reminder)
    kept = {reminder.send_on for reminder in existing if reminder.sent_at is None and reminder.send_on in wanted}
    for day in wanted:
        if day in sent:
            raise ReminderDatesError("already_sent", day)
        if day not in kept:
            db.session.add(ScheduledReminder(round_id=round_.id, send_on=day, sent=0, skipped=0))
    record("round.reminder_dates", f"round {round_.id}", dates=[day.isoformat() for day in wanted])
    return wanted


@dataclass
class DueResult:
    """What remind-due did for one round."""

    round_id: int
    round_name: str
    send_on: date
    report: SendReport | None = None
    refused: str | None = None  # why nothing was sent (the round is closed, or its closing date passed)


def _claim(round_id: int, today: date, now: datetime) -> list[int]:
    """Claim the round's due, unsent dates in one conditional UPDATE; the ids this run won (none if another did)."""

    def work():
        stale = now - timedelta(minutes=CLAIM_MINUTES)
        due = list(db.session.scalars(db.select(ScheduledReminder.id).where(
            ScheduledReminder.round_id == round_id, ScheduledReminder.send_on <= today,
            ScheduledReminder.sent_at.is_(None),
            or_(ScheduledReminder.claimed_at.is_(None), ScheduledReminder.claimed_at < stale))))
        if not due:
            return []
        # The UPDATE checks its condition again on each row (after any other run's lock): only one run wins a row.
        db.session.execute(
            update(ScheduledReminder).where(
                ScheduledReminder.id.in_(due), ScheduledReminder.sent_at.is_(None),
                or_(ScheduledReminder.claimed_at.is_(None), ScheduledReminder.claimed_at < stale))
            .values(claimed_at=now).execution_options(synchronize_session=False))
        return list(db.session.scalars(db.select(ScheduledReminder.id).where(
            ScheduledReminder.id.in_(due), ScheduledReminder.claimed_at == now)))

    return run_write(work)


def _finish(claimed: list[int], report: SendReport) -> None:
    """Record what went on the latest date; earlier dates missed meanwhile are closed with it. A run the server
    stopped gives its claim back, so the next run sends the rest."""

    def work():
        rows = sorted((db.session.get(ScheduledReminder, reminder_id) for reminder_id in claimed),
                      key=lambda row: row.send_on)
        now = datetime.now(UTC)
        for row in rows:
            if report.interrupted:
                row.claimed_at, row.error = None, report.error
                continue
            row.sent_at = now
            row.error = report.error
            row.sent, row.skipped = (report.sent, report.skipped) if row is rows[-1] else (0, 0)

    run_write(work)


def due_rounds(today: date, round_id: int | None = None) -> list[Round]:
    """Rounds with a reminder date reached and not sent yet (all states: the caller refuses closed ones)."""
    due = db.select(ScheduledReminder.round_id).where(ScheduledReminder.send_on <= today,
                                                      ScheduledReminder.sent_at.is_(None))
    query = db.select(Round).where(Round.id.in_(due)).order_by(Round.id)
    if round_id is not None:
        query = query.where(Round.id == round_id)
    return list(db.session.scalars(query))


def send_due_reminders(today: date | None = None, round_id: int | None = None) -> list[DueResult]:
    """Send every reminder whose date has come, once, to those who have not submitted (open rounds only)."""
    today = _today(today)
    results = []
    for round_ in due_rounds(today, round_id):
        latest = max(reminder.send_on for reminder in reminders_of(round_)
                     if reminder.sent_at is None and reminder.send_on <= today)
        result = DueResult(round_.id, round_.name, latest)
        results.append(result)
        if round_.status != "open":
            result.refused = "not_open"
            continue
        if round_.closes_on < today:
            result.refused = "closing_date_passed"
            continue
        claimed = _claim(round_.id, today, datetime.now(UTC))
        if not claimed:
            result.refused = "taken"  # another run is sending it
            continue
        try:
            result.report = send_reminders(db.session.get(Round, round_.id))
        except BaseException:
            _finish(claimed, SendReport(kind="reminder", interrupted=True, error="the run stopped"))
            raise
        _finish(claimed, result.report)
    return results
