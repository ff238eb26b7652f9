"""Secretariat pages for the responses of a round: the list, one partner's answers (printable), and the actions an
administrator takes on one invitation, each with a reason."""

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engagement.auth import require_secretariat
from engagement.extensions import db
from engagement.htmx import is_htmx, redirect_to, render
from partners.registry import CATEGORIES, REGIONS

from .models import Round
from .relevance import partner_attributes, visible_questions
from .respondent import VisitOrganisation, round_is_open, survey_languages
from .response_actions import (
    REASON_LENGTH,
    ActionRefused,
    mark_not_eligible,
    reopen_response,
    replace_link,
    resend_link,
)
from .responses import ResponseFilters, invitation_of_round, list_responses, status_of
from .review import answered_sections
from .versions import definition_for
from .wording import survey_words

bp = Blueprint("responses", __name__, url_prefix="/secretariat/rounds/<int:round_id>/responses")
bp.before_request(require_secretariat)
LIST_PAGE = "responses/list.html"
DETAIL_PAGE = "responses/detail.html"

STATUS_LABELS = {"not_opened": _l("Not opened"), "in_progress": _l("In progress"), "submitted": _l("Submitted"),
                 "not_eligible": _l("Not eligible")}
SORT_LABELS = {"organisation": _l("Organisation"), "contact": _l("Contact"), "language": _l("Language"),
               "status": _l("Status"), "activity": _l("Last activity"), "reminders": _l("Reminders sent")}
REFUSALS = {
    "no_reason": _l("Give a reason: it is kept in the audit log. Nothing was changed."),
    "reason_too_long": _l("The reason is too long (500 characters at most). Nothing was changed."),
    "round_not_open": _l("This can be done only while the round is open. Nothing was changed."),
    "not_submitted": _l("Only submitted answers can be reopened. Nothing was changed."),
    "not_eligible": _l("This invitation is marked as not eligible: it gets no mail. Nothing was changed."),
    "already_not_eligible": _l("This invitation is already marked as not eligible."),
}


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


@bp.get("")
def response_list(round_id: int):
    """Every invitation of the round with how far its partner got; filtered, sorted, paged, searchable."""
    round_ = _round(round_id)
    filters = ResponseFilters.from_args(request.args)
    page, rows, screens = list_responses(round_, filters)
    status = 404 if filters.page > 1 and not rows else 200
    response = render(LIST_PAGE, block="results", status=status, round=round_, filters=filters, page=page,
                      rows=rows, screens=screens, status_labels=STATUS_LABELS, sort_labels=SORT_LABELS,
                      categories=CATEGORIES, regions=REGIONS)
    if is_htmx():  # the address bar shows this view, so reloading or sharing it shows the same list
        response.headers["HX-Push-Url"] = url_for("responses.response_list", round_id=round_id,
                                                  **filters.query_args())
    return response


def detail_context(round_: Round, invitation, **extra) -> dict:
    """The detail page and its action fragment, from one place: the partner's answers as their review shows them."""
    definition = definition_for(round_.survey_version)
    response = invitation.response
    organisation = invitation.contact.organisation
    languages = survey_languages(definition)
    staff_language = str(get_locale())
    # The answers in the staff member's language when the survey speaks it, else in the partner's.
    language = staff_language if staff_language in languages else (
        response.language if response and response.language in languages else languages[0])
    values = {answer.question: answer.value for answer in response.answers} if response else {}
    partner = partner_attributes(VisitOrganisation(
        organisation.name, organisation.category, organisation.country, organisation.region,
        bool(organisation.pathfinder), organisation.action_groups, bool(organisation.gcg_member)))
    shown = visible_questions(definition, values, partner)
    context = {
        "round": round_, "invitation": invitation, "contact": invitation.contact, "organisation": organisation,
        "response": response, "state": status_of(response.status if response else None, invitation.ineligible),
        "status_labels": STATUS_LABELS, "definition": definition, "values": values, "missing_names": set(),
        "sections": answered_sections(definition, shown) if values else [], "editable": False,
        "words": survey_words(definition, language), "t": lambda text: definition.text(text, language),
        "survey_language": language, "round_open": round_is_open(round_), "can_change": current_user.is_admin,
        "reason_length": REASON_LENGTH, "message": None, "failed": False,
        "file_url": lambda q: url_for("uploaded_files.staff_download", response_id=response.id, question=q.name),
    }
    context.update(extra)
    return context


def _invitation_or_404(round_: Round, invitation_id: int):
    invitation = invitation_of_round(round_.id, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


@bp.get("/<int:invitation_id>")
def response_detail(round_id: int, invitation_id: int):
    """One partner's answers as their review page shows them, printable; and, for admins, the actions."""
    round_ = _round(round_id)
    return render(DETAIL_PAGE, **detail_context(round_, _invitation_or_404(round_, invitation_id)))


def _act(round_id: int, invitation_id: int, action, done) -> Response:
    """Run one action: PRG without JavaScript, the actions fragment with htmx; refusals change nothing."""
    round_ = _round(round_id)
    invitation = _invitation_or_404(round_, invitation_id)
    try:
        outcome = action(invitation.id, request.form.get("reason"))
    except ActionRefused as refusal:
        message = str(REFUSALS[refusal.problem])
        return render(DETAIL_PAGE, block="actions", status=422,
                      **detail_context(round_, invitation, message=message, failed=True,
                                       reason=request.form.get("reason", ""), chosen=request.endpoint))
    message, failed = done(outcome)
    if is_htmx():
        db.session.expire_all()
        response = render(DETAIL_PAGE, block="actions", **detail_context(
            round_, _invitation_or_404(round_, invitation_id), message=message, failed=failed))
        response.headers["HX-Trigger"] = "response-changed"
        return response
    flash(message)
    return redirect_to(url_for("responses.response_detail", round_id=round_id, invitation_id=invitation_id))


def _mailed(done: str, not_mailed: str):
    return lambda sent: (done, False) if sent else (not_mailed, True)


@bp.post("/<int:invitation_id>/reopen")
def reopen(round_id: int, invitation_id: int):
    """Reopen submitted answers: the partner may change them until the round closes, and is told by mail."""
    return _act(round_id, invitation_id, reopen_response, _mailed(
        _("Answers reopened. The partner was told by email and can change them until the round closes."),
        _("Answers reopened, but the email to the partner could not be sent: resend the link.")))


@bp.post("/<int:invitation_id>/resend")
def resend(round_id: int, invitation_id: int):
    """Mail the partner their link again (the same link)."""
    return _act(round_id, invitation_id, resend_link, _mailed(
        _("The link was sent again."), _("The email could not be sent. Nothing else changed; try again later.")))


@bp.post("/<int:invitation_id>/replace-link")
def replace(round_id: int, invitation_id: int):
    """Give the partner a new link, the old one stopping at once, and mail it while the round is open."""
    return _act(round_id, invitation_id, replace_link, _mailed(
        _("The link was replaced and the new one sent; the old link no longer works."),
        _("The link was replaced; the old link no longer works. The new one was not mailed: "
          "resend it while the round is open.")))


@bp.post("/<int:invitation_id>/not-eligible")
def not_eligible(round_id: int, invitation_id: int):
    """Leave the invitation out of the rates and of every mail."""
    return _act(round_id, invitation_id, mark_not_eligible, lambda _outcome: (
        _("Marked as not eligible: left out of the rates and of every mail."), False))
