"""Invitation and reminder emails in each contact's language, sent by SMTP (or to an outbox folder in development).

A run is resumable and safe to repeat: each invitation is claimed in its own committed transaction (invited_at, or
last_reminded_at and reminder_count) just before its mail goes out, and the claim is undone if the mail fails, so
a second run, or a second click arriving at the same time, sends only what was not sent. Nobody who submitted is
mailed, and a reminder waits REMINDER_GAP_DAYS after the contact's last mail unless the sender forces it.
"""

import hashlib
import smtplib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import selectinload

from engagement.audit import record
from engagement.database import run_write
from engagement.dates import long_date
from engagement.extensions import db
from engagement.mail import mail_sender, new_message, set_body
from engagement.timestamps import as_utc

from .invitations import link_for
from .mail_texts import compose, saved_text
from .models import Invitation, Response, Round
from .versions import definition_for

MAIL_LANGUAGES = ("en", "fr", "es")
KINDS = ("invitation", "reminder")


@dataclass
class SendReport:
    """What a sending run did: mails sent, invitations skipped, mails refused, and the error that stopped it."""

    kind: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    remaining: int = 0  # not attempted because the run stopped
    error: str | None = None
    interrupted: bool = False  # the server or the connection failed: the run stopped there
    paused: bool = False  # the run reached its time limit (a web request's): the rest goes in the next run
    refused: list[str] = field(default_factory=list)  # addresses refused or unusable (the run went on)

    @property
    def unsent(self) -> int:
        """Mails still to send because the run stopped (refused addresses aside)."""
        return self.remaining + self.failed - len(self.refused)


class RoundNotOpen(RuntimeError):
    """Mails are sent only for an open round: a draft's links do not work yet and a closed round takes no answers."""


def mail_language(invitation: Invitation) -> str:
    language = (invitation.contact.language or "en").lower()
    return language if language in MAIL_LANGUAGES else "en"


def mail_context(invitation: Invitation, kind: str) -> dict:
    """What the templates of one mail need, in the contact's language."""
    return contact_context(invitation.round, invitation.contact, kind, mail_language(invitation),
                           link_for(invitation), started=invitation.response is not None)


def contact_context(round_: Round, contact, kind: str, language: str, link: str, started: bool = False) -> dict:
    """What one mail to `contact` needs in `language` (a preview or a test may use another language or link)."""
    definition = definition_for(round_.survey_version)
    return {
        "kind": kind,
        "lang": language,
        "contact_name": contact.name,
        "organisation": contact.organisation.name,
        "survey_title": definition.text(definition.title, language),
        "link": link,
        "closes_on": long_date(round_.closes_on, language),
        "secretariat_email": current_app.config["SECRETARIAT_EMAIL"],
        "minutes": definition.minutes_to_answer(),
        "started": started,
    }


def build_message(invitation: Invitation, kind: str) -> EmailMessage:
    """The multipart/alternative mail (text, then HTML) for one invitation, in the round's own words if it has them."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    context = mail_context(invitation, kind)
    saved = saved_text(invitation.round_id, kind, context["lang"])
    if saved is not None:
        return composed_message(invitation.contact.name, invitation.contact.email, saved.subject, saved.body,
                                context)
    text_template = f"mail/{kind}.{context['lang']}.txt"
    contact = invitation.contact
    message = new_message(contact.name, contact.email, render_block(text_template, "subject", **context),
                          context["lang"])
    set_body(message, render_block(text_template, "body", **context),
             render_template(f"mail/{kind}.{context['lang']}.html", **context))
    return message


def composed_message(to_name: str, to_email: str, subject: str, body: str, context: dict) -> EmailMessage:
    """A mail from an edited text (checked by mail_texts.problems), its button worded in the mail's language."""
    with force_locale(context["lang"]):
        button = _("Open the survey")
    subject, text, html = compose(subject, body, context, button)
    message = new_message(to_name, to_email, subject, context["lang"])
    set_body(message, text, html)
    return message


# --- Runs -------------------------------------------------------------------------------------------------------

def reminder_gap() -> timedelta:
    """How long a reminder waits after the contact's invitation or last reminder (REMINDER_GAP_DAYS, 3 by default)."""
    return timedelta(days=float(current_app.config.get("REMINDER_GAP_DAYS", 3)))


def submitted(invitation: Invitation) -> bool:
    return invitation.response is not None and invitation.response.status == "submitted"


def last_mailed(invitation: Invitation) -> datetime | None:
    """When the contact was last mailed: the invitation or the latest reminder."""
    times = [as_utc(moment) for moment in (invitation.invited_at, invitation.last_reminded_at) if moment is not None]
    return max(times) if times else None


@dataclass(frozen=True)
class Rule:
    """Who a run mails: `force` lets reminders through the gap, but never to anyone mailed after `as_of` (the
    moment the sender confirmed), so a forced run pressed twice still mails each contact once."""

    force: bool = False
    as_of: datetime | None = None


def _due_for_invitation(invitation: Invitation, now: datetime, rule: Rule = Rule()) -> bool:
    return invitation.invited_at is None and invitation.ineligible is None and not submitted(invitation)


def _due_for_reminder(invitation: Invitation, now: datetime, rule: Rule = Rule()) -> bool:
    if invitation.invited_at is None or invitation.ineligible is not None:
        return False  # never invited: the invitation goes first
    if submitted(invitation):
        return False
    last = last_mailed(invitation)
    if rule.force:
        return rule.as_of is None or last <= as_utc(rule.as_of)
    return last <= now - reminder_gap()


def _claim(invitation_id: int, kind: str, rule: Rule = Rule()) -> tuple | None:
    """Mark one invitation as being mailed, in its own transaction; None when it is no longer due."""

    def work():
        invitation = db.session.scalar(db.select(Invitation).where(Invitation.id == invitation_id)
                                       .options(selectinload(Invitation.response)).with_for_update())
        now = datetime.now(UTC)
        if kind == "invitation":
            if not _due_for_invitation(invitation, now):
                return None
            invitation.invited_at = now
            return (None,)
        if not _due_for_reminder(invitation, now, rule):
            return None
        previous = (invitation.last_reminded_at, invitation.reminder_count or 0)
        invitation.last_reminded_at = now
        invitation.reminder_count = previous[1] + 1
        return previous

    return run_write(work)


def _release(invitation_id: int, kind: str, previous: tuple) -> None:
    """Undo a claim whose mail did not go out, so the next run sends it."""

    def work():
        invitation = db.session.get(Invitation, invitation_id)
        if kind == "invitation":
            invitation.invited_at = None
        else:
            invitation.last_reminded_at, invitation.reminder_count = previous

    run_write(work)


def _round_invitations(round_: Round, invitation_ids=None) -> list[Invitation]:
    query = (db.select(Invitation).where(Invitation.round_id == round_.id).order_by(Invitation.id)
             .options(selectinload(Invitation.response)))
    if invitation_ids is not None:
        query = query.where(Invitation.id.in_([int(i) for i in invitation_ids]))
    return list(db.session.scalars(query))


def candidates(round_: Round, kind: str, invitation_ids=None, rule: Rule = Rule()) -> list[int]:
    """Ids of the round's invitations a run of this kind would mail now, in a stable order."""
    now = datetime.now(UTC)
    due = _due_for_invitation if kind == "invitation" else _due_for_reminder
    return [invitation.id for invitation in _round_invitations(round_, invitation_ids) if due(invitation, now, rule)]


@dataclass
class Plan:
    """Who a run would mail, and why the others are left out: what the sender confirms before anything goes."""

    kind: str
    recipients: list[Invitation]
    submitted: int = 0
    ineligible: int = 0
    already_invited: int = 0  # invitations: mailed before
    not_invited: int = 0  # reminders: the invitation goes first
    recent: int = 0  # reminders: mailed within the gap (a forced run includes them)

    @property
    def fingerprint(self) -> str:
        """Names exactly this list of recipients: a confirmation is good for the list it showed, no other."""
        ids = ",".join(str(invitation.id) for invitation in self.recipients)
        return hashlib.sha256(f"{self.kind}:{ids}".encode()).hexdigest()[:20]


def sending_plan(round_: Round, kind: str, invitation_ids=None, rule: Rule = Rule()) -> Plan:
    """The recipients of a run of this kind now, with the reasons the others are left out."""
    now = datetime.now(UTC)
    due = _due_for_invitation if kind == "invitation" else _due_for_reminder
    plan = Plan(kind=kind, recipients=[])
    for invitation in _round_invitations(round_, invitation_ids):
        if due(invitation, now, rule):
            plan.recipients.append(invitation)
        elif submitted(invitation):
            plan.submitted += 1
        elif invitation.ineligible is not None:
            plan.ineligible += 1
        elif kind == "invitation":
            plan.already_invited += 1
        elif invitation.invited_at is None:
            plan.not_invited += 1
        else:
            plan.recent += 1
    return plan


def not_yet_invited(round_: Round) -> int:
    """How many of the round's invitations were never mailed."""
    return len(candidates(round_, "invitation"))


def not_submitted(round_: Round) -> int:
    """How many invited contacts have not submitted (ineligible ones aside), whatever their last reminder."""
    submitted = db.select(Response.invitation_id).where(Response.status == "submitted")
    return db.session.scalar(db.select(db.func.count(Invitation.id)).where(
        Invitation.round_id == round_.id, Invitation.invited_at.is_not(None), Invitation.ineligible.is_(None),
        Invitation.id.not_in(submitted)))


def _send_run(round_: Round, kind: str, invitation_ids=None, seconds: float | None = None,
              rule: Rule = Rule()) -> SendReport:
    if round_.status != "open":
        raise RoundNotOpen(f"Round {round_.id} is {round_.status}; mails are sent only while a round is open.")
    report = SendReport(kind=kind)
    round_id = round_.id
    scope = db.select(db.func.count(Invitation.id)).where(Invitation.round_id == round_id)
    if invitation_ids is not None:
        invitation_ids = [int(i) for i in invitation_ids]
        scope = scope.where(Invitation.id.in_(invitation_ids))
    considered = db.session.scalar(scope)
    if rule.force and rule.as_of is None:
        rule = Rule(force=True, as_of=datetime.now(UTC))
    due = candidates(round_, kind, invitation_ids, rule)
    report.skipped = considered - len(due)
    report.remaining = len(due)
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        with mail_sender() as send:
            for invitation_id in due:
                if deadline is not None and report.sent + report.failed and time.monotonic() >= deadline:
                    report.paused = True  # at least one mail per run, so a run always makes progress
                    break
                report.remaining -= 1
                previous = _claim(invitation_id, kind, rule)
                if previous is None:  # another run took it meanwhile
                    report.skipped += 1
                    continue
                invitation = db.session.get(Invitation, invitation_id)
                try:
                    send(build_message(invitation, kind))
                except (smtplib.SMTPRecipientsRefused, ValueError) as error:  # this address only: go on
                    _release(invitation_id, kind, previous)
                    report.failed += 1
                    report.refused.append(invitation.contact.email)
                    report.error = report.error or _describe(error)
                    continue
                except BaseException:
                    _release(invitation_id, kind, previous)
                    report.failed += 1
                    raise
                report.sent += 1
    except (smtplib.SMTPException, OSError) as error:  # server down, connection lost, sign-in refused
        report.error = _describe(error)
        report.interrupted = True
    run_write(lambda: record(f"{kind}s.send", f"round {round_id}", sent=report.sent, skipped=report.skipped,
                             failed=report.failed, remaining=report.remaining, error=report.error,
                             **({"forced": True} if rule.force else {})))
    return report


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        detail = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"SMTP {error.smtp_code}: {detail}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the address: " + ", ".join(error.recipients)
    if isinstance(error, ValueError):
        return f"A mail could not be written: {error}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def send_invitations(round_: Round, invitation_ids=None, seconds: float | None = None) -> SendReport:
    """Mail the invitations never sent yet (invited_at empty), one committed record per mail sent.

    `seconds` bounds the run (a web request must answer before the proxy gives up); the next run sends the rest.
    """
    return _send_run(round_, "invitation", invitation_ids, seconds)


def send_reminders(round_: Round, invitation_ids=None, seconds: float | None = None, force: bool = False,
                   as_of: datetime | None = None) -> SendReport:
    """Remind invited contacts who have not submitted, unless mailed within REMINDER_GAP_DAYS (or forced)."""
    return _send_run(round_, "reminder", invitation_ids, seconds, Rule(force=force, as_of=as_of))
