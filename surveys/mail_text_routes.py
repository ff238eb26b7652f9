"""Secretariat pages for a round's invitation and reminder texts: edit per language, preview, send a test to me."""

import smtplib
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engagement.audit import record
from engagement.auth import require_secretariat
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.htmx import redirect_to, render
from engagement.i18n import LANGUAGE_NAMES
from engagement.mail import send_now
from partners.models import Contact, Organisation

from .invitations import link_for
from .mail_texts import BODY_MAX, PLACEHOLDERS, SUBJECT_MAX, current_text, problems, saved_text
from .mailing import KINDS, MAIL_LANGUAGES, composed_message, contact_context
from .models import Invitation, MailText, Round
from .previews import create_preview, preview_link
from .respondent import survey_languages
from .rounds import audience_query
from .versions import definition_for

bp = Blueprint("round_mail", __name__)
bp.before_request(require_secretariat)
PAGE = "rounds/mail_text.html"
PREVIEW_CONTACTS = 300  # the choice of contacts to preview with; a long registry offers its first ones

KIND_NAMES = {"invitation": _l("Invitation"), "reminder": _l("Reminder")}
PLACEHOLDER_HELP = {
    "organisation": _l("the partner organisation's name"),
    "contact": _l("the contact's name"),
    "link": _l("the contact's personal link to the survey (required in the text)"),
    "closes": _l("the closing date, written in the email's language"),
    "secretariat": _l("the Secretariat's email address"),
}
MESSAGES = {
    ("subject", "missing"): _l("Write a subject."),
    ("body", "missing"): _l("Write the text of the email."),
    ("subject", "too_long"): _l("The subject is too long (%(max)s characters at most)."),
    ("body", "too_long"): _l("The text is too long (%(max)s characters at most)."),
    "unknown": _l("%(placeholder)s is not a placeholder: use only {organisation}, {contact}, {link}, {closes} or "
                  "{secretariat}."),
    "braces": _l("A brace { or } has no pair: write placeholders as {contact}, and a brace itself as {{ or }}."),
    "no_link": _l("The text must contain {link}: it is each partner's personal link to the survey."),
    "link_in_subject": _l("Put {link} in the text, not in the subject."),
}


def _message(problem) -> str:
    if problem.code == "too_long":
        return str(MESSAGES[problem.field, "too_long"]) % {"max": problem.detail}
    if problem.code == "missing":
        return str(MESSAGES[problem.field, "missing"])
    if problem.code == "unknown":
        return str(MESSAGES["unknown"]) % {"placeholder": problem.detail}
    return str(MESSAGES[problem.code])


def _target(round_id: int, kind: str, language: str) -> Round:
    if kind not in KINDS or language not in MAIL_LANGUAGES:
        abort(404)
    return db.get_or_404(Round, round_id)


def preview_contacts(round_: Round, language: str) -> list[Contact]:
    """Contacts to preview with: the round's invited ones (or, for a draft, those it would invite), those who read
    this language first."""
    invited = (db.select(Contact).join(Invitation, Invitation.contact_id == Contact.id).join(Contact.organisation)
               .where(Invitation.round_id == round_.id).order_by(Organisation.name, Contact.id))
    contacts = list(db.session.scalars(invited.limit(PREVIEW_CONTACTS)))
    if not contacts:
        contacts = list(db.session.scalars(audience_query(round_.audience or {}).limit(PREVIEW_CONTACTS)))
    return sorted(contacts, key=lambda contact: (contact.language != language,))


def _example_link() -> str:
    return current_app.config["BASE_URL"].rstrip("/") + "/s/" + _("personal-link")


def preview_context(round_: Round, contact: Contact, kind: str, language: str) -> dict:
    """The mail context for a preview: the contact's real link when invited, else an example."""
    invitation = db.session.scalar(db.select(Invitation).filter_by(round_id=round_.id, contact_id=contact.id))
    link = link_for(invitation) if invitation is not None else _example_link()
    return contact_context(round_, contact, kind, language, link)


def page_context(round_: Round, kind: str, language: str, subject: str | None = None, body: str | None = None,
                 errors: dict | None = None, message: str | None = None) -> dict:
    """Everything the editor and its preview show, from one place."""
    saved_subject, saved_body, edited = current_text(round_, kind, language)
    subject = saved_subject if subject is None else subject
    body = saved_body if body is None else body
    errors = errors or {}
    contacts = preview_contacts(round_, language)
    chosen = request.values.get("contact", type=int)
    contact = next((c for c in contacts if c.id == chosen), contacts[0] if contacts else None)
    preview = None
    if contact is not None and not errors:
        mail = composed_message(contact.name, contact.email, subject, body,
                                preview_context(round_, contact, kind, language))
        preview = {"to": mail["To"], "subject": mail["Subject"],
                   "text": mail.get_body(preferencelist=("plain",)).get_content()}
    texts = [(k, code, saved_text(round_.id, k, code) is not None) for k in KINDS for code in MAIL_LANGUAGES]
    return {"round": round_, "kind": kind, "language": language, "subject": subject, "body": body,
            "edited": edited, "errors": errors, "message": message, "contacts": contacts, "contact": contact,
            "preview": preview, "texts": texts, "kind_names": KIND_NAMES, "language_names": LANGUAGE_NAMES,
            "placeholders": [(name, PLACEHOLDER_HELP[name]) for name in PLACEHOLDERS],
            "subject_max": SUBJECT_MAX, "body_max": BODY_MAX, "can_change": current_user.is_admin}


# One rule for both methods, so that an id out of range is a 404 for both.
@bp.route("/secretariat/rounds/<int:round_id>/mail/<kind>/<language>", methods=["GET", "POST"])
def mail_text(round_id: int, kind: str, language: str):
    """A round's invitation or reminder in one language: its words, the placeholders, and a preview."""
    round_ = _target(round_id, kind, language)
    if request.method == "POST":
        return change_mail_text(round_, kind, language)
    return render(PAGE, block="editor", **page_context(round_, kind, language))


def _save(round_: Round, kind: str, language: str, subject: str, body: str) -> None:
    with write_transaction():
        text = saved_text(round_.id, kind, language)
        if text is None:
            text = MailText(round_id=round_.id, kind=kind, language=language)
            db.session.add(text)
        text.subject, text.body = subject, body
        text.updated_at, text.updated_by = datetime.now(UTC), current_user.id
        record("mail_text.save", f"round {round_.id}", kind=kind, language=language)


def _reset(round_: Round, kind: str, language: str) -> None:
    with write_transaction():
        text = saved_text(round_.id, kind, language)
        if text is not None:
            db.session.delete(text)
            record("mail_text.reset", f"round {round_.id}", kind=kind, language=language)


def _send_test(round_: Round, kind: str, language: str, subject: str, body: str, contact: Contact) -> str:
    """Mail the text to the signed-in staff member, with a preview link (answers there are never counted)."""
    definition = definition_for(round_.survey_version)
    languages = survey_languages(definition)
    organisation = contact.organisation
    partner = {"category": organisation.category, "pathfinder": "yes" if organisation.pathfinder else "no",
               "action_groups": (organisation.action_groups or "").split(),
               "gcg_member": "yes" if organisation.gcg_member else "no"}
    with write_transaction():
        _preview, token = create_preview(round_.survey_version, round_ if round_.status != "closed" else None,
                                         language if language in languages else languages[0], partner,
                                         current_user.email)
    context = contact_context(round_, contact, kind, language, preview_link(token))
    message = composed_message(current_user.email, current_user.email, subject, body, context)
    message.replace_header("Subject", _("[Test] %(subject)s", subject=message["Subject"]))
    send_now(message)
    return current_user.email


def change_mail_text(round_: Round, kind: str, language: str):
    """Save, preview, test or restore the default; a text with an unknown placeholder or no {link} is refused."""
    action = request.form.get("action", "save")
    here = url_for("round_mail.mail_text", round_id=round_.id, kind=kind, language=language)
    if action == "reset":
        _reset(round_, kind, language)
        flash(_("The default text is back."))
        return redirect_to(here)
    subject = request.form.get("subject", "").strip()
    body = request.form.get("body", "").replace("\r\n", "\n").strip()
    errors: dict[str, list[str]] = {}
    for problem in problems(subject, body):
        errors.setdefault(problem.field, []).append(_message(problem))
    if errors:
        return render(PAGE, block="editor", status=422,
                      **page_context(round_, kind, language, subject, body, errors,
                                     _("Nothing was saved: correct the text below.")))
    if action == "save":
        _save(round_, kind, language, subject, body)
        flash(_("Text saved: the %(kind)s in %(language)s now goes out in these words.",
                kind=str(KIND_NAMES[kind]).lower(), language=LANGUAGE_NAMES[language]))
        return redirect_to(here + (f"?contact={request.form['contact']}" if request.form.get("contact", "").isdigit()
                                   else ""))
    context = page_context(round_, kind, language, subject, body)
    if action == "test" and context["contact"] is not None:
        try:
            address = _send_test(round_, kind, language, subject, body, context["contact"])
        except (smtplib.SMTPException, OSError) as error:  # the server refused or is down: say so, not a 500
            current_app.logger.warning("test mail failed: %s", error)
            context["message"] = _("The test could not be sent: the mail server did not accept it.")
        else:
            context["message"] = _("A test was sent to %(address)s (not saved yet).", address=address)
    return render(PAGE, block="editor", **context)
