"""What an administrator may do to one invitation of a round, each with a reason kept in the audit log.

Each change is one unit of work (the change and its audit entry commit together); a mail that goes with it is sent
after the commit, so a mail server that fails never undoes the change (the page says the mail did not go).
"""

import smtplib
from datetime import UTC, datetime

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block

from engagement.audit import record
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.mail import new_message, send_now, set_body

from .invitations import assign_token, new_salt
from .mailing import build_message, mail_context, mail_language
from .models import Invitation
from .respondent import round_is_open

REASON_LENGTH = 500
NOT_ELIGIBLE = "marked"  # Invitation.ineligible for an invitation the Secretariat left out by hand


class ActionRefused(ValueError):
    """The action cannot be done to this invitation now; `problem` says why (the page words it)."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def clean_reason(text: str | None) -> str:
    """A reason as kept: spaces folded, at most REASON_LENGTH characters; empty is refused."""
    reason = " ".join((text or "").split())
    if not reason:
        raise ActionRefused("no_reason")
    if len(reason) > REASON_LENGTH:
        raise ActionRefused("reason_too_long")
    return reason


def _audit(action: str, invitation: Invitation, reason: str, **details) -> None:
    contact = invitation.contact
    record(action, f"round {invitation.round_id}", contact=contact.name, organisation=contact.organisation.name,
           invitation=invitation.id, reason=reason, **details)


def _change(invitation_id: int, reason: str | None, change) -> Invitation:
    """Check the reason, then run `change(invitation)` under the write lock (it raises ActionRefused to refuse)."""
    reason = clean_reason(reason)
    with write_transaction():
        # Locked on PostgreSQL (SQLite's write lock is taken already): two clicks change it once.
        invitation = db.session.get(Invitation, invitation_id, with_for_update=True, populate_existing=True)
        change(invitation, reason)
    return invitation


def reopen_response(invitation_id: int, reason: str | None) -> bool:
    """Let a partner who submitted change their answers until the round closes; True when the partner was mailed."""

    def change(invitation, reason):
        response = invitation.response
        if not round_is_open(invitation.round):
            raise ActionRefused("round_not_open")
        if response is None or response.status != "submitted":
            raise ActionRefused("not_submitted")
        response.status, response.submitted_at = "in_progress", None
        response.updated_at = datetime.now(UTC)
        _audit("response.reopen", invitation, reason)

    invitation = _change(invitation_id, reason, change)
    return _mail(reopened_message(invitation))


def resend_link(invitation_id: int, reason: str | None) -> bool:
    """Mail the invitation again, with the same link; True when it went."""

    def change(invitation, reason):
        _refuse_unless_mailable(invitation)
        invitation.invited_at = invitation.invited_at or datetime.now(UTC)  # a bulk run will not mail it again
        _audit("invitation.resend", invitation, reason)

    invitation = _change(invitation_id, reason, change)
    return _mail(build_message(invitation, "invitation"))


def replace_link(invitation_id: int, reason: str | None) -> bool:
    """Give the invitation a new link (the old one stops working at once) and mail it; True when the mail went."""

    def change(invitation, reason):
        if invitation.round.status == "draft":
            raise ActionRefused("round_not_open")
        invitation.salt = new_salt()
        assign_token(invitation)
        _audit("invitation.replace_link", invitation, reason)

    invitation = _change(invitation_id, reason, change)
    if not round_is_open(invitation.round) or invitation.ineligible:
        return False  # a closed round's link shows only a receipt: nothing to mail
    return _mail(build_message(invitation, "invitation"))


def mark_not_eligible(invitation_id: int, reason: str | None) -> None:
    """Leave an invitation out of the rates and of every mail (a duplicate, someone who left, a bounced address)."""

    def change(invitation, reason):
        if invitation.ineligible:
            raise ActionRefused("already_not_eligible")
        invitation.ineligible = NOT_ELIGIBLE
        _audit("invitation.not_eligible", invitation, reason)

    _change(invitation_id, reason, change)


def _refuse_unless_mailable(invitation: Invitation) -> None:
    if not round_is_open(invitation.round):
        raise ActionRefused("round_not_open")
    if invitation.ineligible:
        raise ActionRefused("not_eligible")


def reopened_message(invitation: Invitation):
    """The mail telling a partner their answers can be changed again, in their language (text and HTML)."""
    context = mail_context(invitation, "reopened")
    contact = invitation.contact
    with force_locale(context["lang"]):
        subject = render_block("mail/response_reopened.txt", "subject", **context)
        text = render_block("mail/response_reopened.txt", "body", **context)
        html = render_template("mail/response_reopened.html", **context)
    message = new_message(contact.name, contact.email, subject, mail_language(invitation))
    set_body(message, text, html)
    return message


def _mail(message) -> bool:
    try:
        send_now(message)
    except (smtplib.SMTPException, OSError, ValueError):
        current_app.logger.exception("a mail to one partner could not be sent")
        return False
    return True

