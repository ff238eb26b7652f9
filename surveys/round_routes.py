"""Secretariat pages for rounds: create, open, close, invite late partners, send invitations and reminders, export."""

import io
from collections import Counter
from datetime import UTC, date, datetime

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField

from engagement.audit import record
from engagement.auth import require_secretariat
from engagement.database import run_write, write_transaction
from engagement.dates import long_date
from engagement.extensions import db
from engagement.htmx import is_htmx, redirect_to, render
from engagement.i18n import LANGUAGE_NAMES
from engagement.spreadsheets import wants_bom
from engagement.timestamps import as_utc
from engagement.urls import MAX_ID, same_site_path
from partners.registry import ACTION_GROUPS, CATEGORIES, REGIONS

from .mailing import (
    Rule,
    SendReport,
    candidates,
    mail_language,
    not_submitted,
    send_invitations,
    send_reminders,
    sending_plan,
)
from .models import Invitation, Round, Survey, SurveyVersion
from .reminders import ReminderDatesError, default_dates, next_reminder, reminders_of, set_reminder_dates
from .rounds import (
    RoundError,
    change_closing_date,
    check_round,
    clean_audience,
    close_round,
    count_audience,
    create_round,
    invitation_status,
    invite_late_partners,
    late_contacts,
    open_round,
    reopen_round,
    round_invitations,
    write_invitations_csv,
)
from .versions import definition_for

bp = Blueprint("rounds", __name__)
bp.before_request(require_secretariat)
ROUND_PAGE = "rounds/round.html"
NEW_ROUND_PAGE = "rounds/new.html"
CONFIRM_PAGE = "rounds/confirm_send.html"

PROBLEMS = {
    ("name", "missing"): _l("Give the round a name."),
    ("name", "too_long"): _l("The name is too long (200 characters at most)."),
    ("closes_on", "missing"): _l("Choose the date the round closes."),
    ("closes_on", "past"): _l("The closing date is in the past: choose today or a later date."),
}
# Why a round's state refused a change (rounds.RoundError), as the Secretariat reads it.
REFUSALS = {
    "not_draft": _l("Only a draft round can be opened."),
    "closes_in_past": _l("The closing date is in the past: this round cannot be opened."),
    "not_open": _l("This can be done only while the round is open."),
    "closed": _l("A closed round keeps its closing date."),
    "past": PROBLEMS["closes_on", "past"],
    "not_closed": _l("Only a closed round can be reopened."),
    "no_reason": _l("Give a reason for reopening the round: it is kept in the audit log. Nothing was changed."),
    "reason_too_long": _l("The reason is too long (500 characters at most). Nothing was changed."),
}
STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "closed": _l("Closed")}
REMINDER_REFUSALS = {
    "closed": _l("A closed round sends no more reminders."),
    "too_many": _l("Ten reminder dates at most."),
    "past": _l("%(date)s is in the past: choose today or a later date. Nothing was changed."),
    "after_closing": _l("%(date)s is after the closing date: a reminder goes before the round closes. "
                        "Nothing was changed."),
    "already_sent": _l("The reminder of %(date)s was already sent. Nothing was changed."),
}
INVITATION_STATUS_LABELS = {"invited": _l("Invited"), "started": _l("Started"), "submitted": _l("Submitted")}


class RoundForm(FlaskForm):
    """A new round: which survey version, its name, when it closes, and which partners it goes to."""

    survey_version = SelectField(_l("Survey version"), coerce=int)
    name = StringField(_l("Name of the round"))
    name_fr = StringField(_l("Name in French, as French-speaking partners read it (optional)"))
    name_es = StringField(_l("Name in Spanish, as Spanish-speaking partners read it (optional)"))
    closes_on = DateField(_l("Closes on"))
    category = SelectField(_l("Partner category"))
    region = SelectField(_l("Region"))
    pathfinder = SelectField(_l("Pathfinder Country"))
    action_group = SelectField(_l("Action Group"))

    def __init__(self, versions: list[tuple[SurveyVersion, Survey]], **kwargs):
        super().__init__(**kwargs)
        self.survey_version.choices = [
            (version.id, _("%(title)s – version %(number)s", title=survey.title, number=version.number)
             + (f" ({version.form_version})" if version.form_version else ""))
            for version, survey in versions]
        anyone = [("", _("All"))]
        self.category.choices = anyone + [(code, str(label)) for code, label in CATEGORIES.items()]
        self.region.choices = anyone + [(code, str(label)) for code, label in REGIONS.items()]
        self.pathfinder.choices = anyone + [("yes", _("Pathfinder Countries only")),
                                            ("no", _("Not Pathfinder Countries"))]
        self.action_group.choices = anyone + [(code, str(label)) for code, label in ACTION_GROUPS.items()]

    def audience(self) -> dict:
        return clean_audience({name: self[name].data for name in ("category", "region", "pathfinder",
                                                                  "action_group")})

    def check(self) -> bool:
        """Field validation plus the round's own rules (a name, a closing date not in the past)."""
        valid = self.validate()
        if self.closes_on.errors:
            typed = "".join(self.closes_on.raw_data or []).strip()
            self.closes_on.errors = [str(PROBLEMS["closes_on", "missing"]) if not typed
                                     else _("Enter the closing date as a date (YYYY-MM-DD).")]
        for (field, code), message in PROBLEMS.items():
            if check_round(self.name.data, self.closes_on.data).get(field) == code and not self[field].errors:
                self[field].errors = [str(message)]
                valid = False
        return valid


def audience_description(audience: dict) -> str:
    """A round's filter in words: "All active partners" or the filters joined."""
    parts = []
    if audience.get("category"):
        parts.append(_("Category: %(value)s", value=CATEGORIES.get(audience["category"], audience["category"])))
    if audience.get("region"):
        parts.append(_("Region: %(value)s", value=REGIONS.get(audience["region"], audience["region"])))
    if audience.get("pathfinder") == "yes":
        parts.append(_("Pathfinder Countries only"))
    elif audience.get("pathfinder") == "no":
        parts.append(_("Not Pathfinder Countries"))
    if audience.get("action_group"):
        parts.append(_("Action Group: %(value)s",
                       value=ACTION_GROUPS.get(audience["action_group"], audience["action_group"])))
    return "; ".join(str(part) for part in parts) if parts else _("All active partners")


def report_message(report: SendReport, continued: bool = False) -> tuple[str, bool]:
    """What a sending run did, in one sentence or two; the flag says whether it went wrong.

    A run that continues a paused one does not count as skipped what the earlier runs sent.
    """
    if report.kind == "invitation":
        text = ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", report.sent)
    else:
        text = ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", report.sent)
    if report.skipped and not continued:
        text += " " + ngettext("%(num)d skipped (already mailed, submitted or not due).",
                               "%(num)d skipped (already mailed, submitted or not due).", report.skipped)
    if report.refused:
        text += " " + _("The mail server refused: %(addresses)s.", addresses=", ".join(report.refused))
    if report.interrupted:
        text += " " + _("Sending stopped: %(error)s. %(unsent)d not sent yet: try again to send the rest.",
                        error=report.error, unsent=report.unsent)
    elif report.paused:
        text += " " + (ngettext("%(num)d more to send: sending goes on.", "%(num)d more to send: sending goes on.",
                                report.remaining) if is_htmx() else
                       ngettext("%(num)d more to send: press the button again to send it.",
                                "%(num)d more to send: press the button again to send them.", report.remaining))
    return text, report.error is not None


def _round_or_404(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def round_context(round_: Round, **extra) -> dict:
    """Everything the round page and its fragments show, from one place."""
    invitations = round_invitations(round_)
    statuses = {invitation.id: invitation_status(invitation) for invitation in invitations}
    counts = {status: sum(1 for value in statuses.values() if value == status)
              for status in ("invited", "started", "submitted")}
    is_open = round_.status == "open"
    definition = definition_for(round_.survey_version)
    due_reminders = candidates(round_, "reminder") if is_open else []
    context = {
        "round": round_, "survey_title": definition.text(definition.title, definition.default_language),
        "invitations": invitations, "statuses": statuses, "counts": counts, "total": len(invitations),
        "mailed": sum(1 for invitation in invitations if invitation.invited_at is not None),
        "audience": audience_description(round_.audience or {}),
        "audience_size": count_audience(round_.audience or {}) if round_.status == "draft" else None,
        "to_invite": len(candidates(round_, "invitation")) if is_open else 0,
        "to_remind": len(due_reminders),
        "not_submitted": not_submitted(round_) if is_open else 0,
        "late": late_contacts(round_) if is_open else 0,
        "remindable": set(due_reminders),
        "gap_days": f"{current_app.config.get('REMINDER_GAP_DAYS', 3):g}",
        "reminders": reminders_of(round_), "next_reminder": next_reminder(round_),
        "suggested_dates": default_dates(round_.closes_on),
        "can_change": current_user.is_admin, "status_labels": STATUS_LABELS,
        "invitation_status_labels": INVITATION_STATUS_LABELS, "today": datetime.now(UTC).date(),
        "message": None, "message_failed": False,
    }
    context.update(extra)
    return context


@bp.route("/secretariat/rounds/new", methods=["GET", "POST"])
def new_round():
    """A form for a new round; it is saved as a draft, opened from its own page."""
    versions = db.session.execute(db.select(SurveyVersion, Survey).join(Survey)
                                  .order_by(Survey.title, SurveyVersion.number.desc())).all()
    form = RoundForm(versions)
    if request.method == "GET" and not form.survey_version.data and form.survey_version.choices:
        form.survey_version.data = form.survey_version.choices[0][0]
    if request.method == "GET" and is_htmx():  # the audience filter changed: count who would be invited
        audience = clean_audience({name: request.args.get(name) for name in ("category", "region", "pathfinder",
                                                                             "action_group")})
        return render(NEW_ROUND_PAGE, block="audience_count", form=form, audience_size=count_audience(audience))
    if request.method == "POST":
        if form.check():
            with write_transaction():
                version = db.session.get(SurveyVersion, form.survey_version.data)
                round_id = create_round(version, form.name.data.strip(), form.closes_on.data, form.audience(),
                                        {"fr": form.name_fr.data, "es": form.name_es.data}).id
            flash(_("Round saved as a draft. Check it, then open it to invite the partners."))
            return redirect_to(url_for("rounds.round_page", round_id=round_id))
        audience_size = count_audience(form.audience()) if not (form.category.errors or form.region.errors or
                                                                form.pathfinder.errors or form.action_group.errors) else 0
        return render(NEW_ROUND_PAGE, block="round_form", status=422, form=form, audience_size=audience_size,
                      today=datetime.now(UTC).date())
    return render(NEW_ROUND_PAGE, form=form, audience_size=count_audience({}), today=datetime.now(UTC).date())


@bp.get("/secretariat/rounds/<int:round_id>")
def round_page(round_id: int):
    """A round: its facts, the actions its state allows, and every invitation with its status."""
    round_ = _round_or_404(round_id)
    return render(ROUND_PAGE, block="summary", **round_context(round_))


def _back_to_round(round_id: int, message: str):
    """Tell what happened on the round page (POST-redirect-GET; a whole-page redirect for htmx too)."""
    flash(message)
    return redirect_to(url_for("rounds.round_page", round_id=round_id))


def _change_round(round_id: int, change, done) -> "Response":
    """Run a change of the round's state under the write lock (two clicks change it once) and say what happened."""
    try:
        with write_transaction():
            result = change(_round_or_404(round_id))
    except RoundError as refusal:
        return _back_to_round(round_id, REFUSALS[refusal.problem])
    return _back_to_round(round_id, done(result))


@bp.post("/secretariat/rounds/<int:round_id>/open")
def open_round_view(round_id: int):
    """Open a draft round: one invitation per matching active contact (mails are sent separately)."""
    return _change_round(round_id, open_round, lambda invitations: ngettext(
        "Round opened: %(num)d invitation created. Send the invitations when you are ready.",
        "Round opened: %(num)d invitations created. Send the invitations when you are ready.", len(invitations)))


@bp.post("/secretariat/rounds/<int:round_id>/close")
def close_round_view(round_id: int):
    """Close an open round: no new answers; partial responses stay for the analysis."""
    if request.form.get("confirm") != "yes":
        return _back_to_round(round_id, _("Tick “Yes, close this round” to close it."))
    return _change_round(round_id, close_round, lambda _result: _(
        "Round closed. Partners can no longer answer; started responses are kept for the analysis."))


@bp.post("/secretariat/rounds/<int:round_id>/closing-date")
def change_closing_date_view(round_id: int):
    """Move a draft or open round's closing date, e.g. to give partners another week."""
    try:
        closes_on = date.fromisoformat(request.form.get("closes_on", "").strip())
    except ValueError:
        return _back_to_round(round_id, _("Give the new closing date as a date (YYYY-MM-DD)."))
    return _change_round(round_id, lambda round_: change_closing_date(round_, closes_on), lambda _result: _(
        "The round now closes on %(date)s.", date=long_date(closes_on)))


@bp.post("/secretariat/rounds/<int:round_id>/reopen")
def reopen_round_view(round_id: int):
    """Reopen a closed round until a new closing date (with a reason, kept in the audit log)."""
    try:
        closes_on = date.fromisoformat(request.form.get("closes_on", "").strip())
    except ValueError:
        return _back_to_round(round_id, _("Give the new closing date as a date (YYYY-MM-DD)."))
    return _change_round(round_id, lambda round_: reopen_round(round_, closes_on, request.form.get("reason", "")),
                         lambda _result: _("Round reopened until %(date)s: partners' links work again.",
                                           date=closes_on.isoformat()))


@bp.post("/secretariat/rounds/<int:round_id>/invite-late")
def invite_late(round_id: int):
    """Invite partners added to the registry since the round opened (those matching its filter)."""
    return _change_round(round_id, invite_late_partners, lambda invitations: ngettext(
        "%(num)d partner contact added to the round. Send the invitation when you are ready.",
        "%(num)d partner contacts added to the round. Send their invitations when you are ready.",
        len(invitations)) if invitations else _(
        "No new partner contact to add: everyone matching the round is already invited."))


@bp.post("/secretariat/rounds/<int:round_id>/reminders")
def reminder_dates(round_id: int):
    """Set the dates on which the hourly job reminds those who have not submitted."""
    typed = [value.strip() for value in request.form.getlist("reminder_on") if value.strip()]
    try:
        days = [date.fromisoformat(value) for value in typed]
    except ValueError:
        return _back_to_round(round_id, _("Give each reminder date as a date (YYYY-MM-DD). Nothing was changed."))
    try:
        with write_transaction():
            saved = set_reminder_dates(_round_or_404(round_id), days)
    except ReminderDatesError as refusal:
        day = long_date(refusal.day) if refusal.day else ""
        return _back_to_round(round_id, str(REMINDER_REFUSALS[refusal.problem]) % {"date": day})
    if not saved:
        return _back_to_round(round_id, _("No reminder is scheduled now."))
    return _back_to_round(round_id, _("Reminder dates saved: %(dates)s.",
                                      dates=", ".join(long_date(day) for day in saved)))


def _report_response(round_: Round, report: SendReport | None, message: str | None = None, failed=False,
                     status: int = 200):
    """After a sending run: the message fragment for htmx (and a signal to refresh), else flash and redirect."""
    if report is not None:
        continued = request.form.get("continued") == "1"
        earlier = request.form.get("sent_before", "")
        if continued and earlier.isdigit():
            report.sent += int(earlier)  # the message counts every batch of this press
        message, failed = report_message(report, continued=continued)
    if is_htmx():
        # A run paused at its time limit asks for the next one itself: the fragment posts again on load.
        go_on = request.path if report is not None and report.paused and not report.interrupted else None
        response = render(ROUND_PAGE, block="send_report", status=status, round=round_, message=message,
                          message_failed=failed, go_on=go_on, chosen=request.form.getlist("invitation_id"),
                          sent_so_far=report.sent if report is not None else 0,
                          force=request.form.get("force") == "1", as_of=request.form.get("as_of", ""))
        response.headers["HX-Trigger"] = "invitations-changed"
        return response
    back = _back_path(request.form)
    if back:  # e.g. the dashboard
        flash(message)
        return redirect_to(back)
    return _back_to_round(round_.id, message)


def _chosen_invitations(round_: Round, values) -> tuple[list[int] | None, str | None]:
    """The invitations named by `invitation_id` fields (None: everyone due), or why they are refused."""
    raw = values.getlist("invitation_id")
    if not raw:
        return None, None
    if not all(value.strip().isdecimal() and int(value) <= MAX_ID for value in raw):
        return None, _("Nothing sent: an invitation number is not valid.")
    chosen = sorted({int(value) for value in raw})
    known = set(db.session.scalars(db.select(Invitation.id).where(Invitation.round_id == round_.id,
                                                                  Invitation.id.in_(chosen))))
    if known != set(chosen):
        return None, _("Nothing sent: an invitation is not part of this round.")
    return chosen, None


def _sending_rule(values) -> Rule:
    """Force the gap only when asked; a forced run never mails anyone mailed after the confirmation was shown."""
    if values.get("force") != "1":
        return Rule()
    try:
        as_of = as_utc(datetime.fromisoformat(values.get("as_of", "")))
    except ValueError:
        return Rule(force=True)
    return Rule(force=True, as_of=min(as_of, datetime.now(UTC)))


def _back_path(values) -> str | None:
    """A secretariat page to go back to after sending (e.g. the dashboard), never another site."""
    back = same_site_path(values.get("next")) or ""
    return back if back.startswith("/secretariat/") and "//" not in back else None


def confirmation_context(round_: Round, kind: str, chosen: list[int] | None, rule: Rule, values,
                         message: str | None = None) -> dict:
    """What the confirmation shows: how many mails go to whom, who is left out and why."""
    plan = sending_plan(round_, kind, chosen, rule)
    by_language = Counter(mail_language(invitation) for invitation in plan.recipients)
    contacts = {invitation.id: invitation for invitation in round_invitations(round_)}
    return {
        "round": round_, "kind": kind, "plan": plan, "chosen": chosen or [], "force": rule.force,
        "as_of": datetime.now(UTC).isoformat(), "next": _back_path(values),
        "recipients": [contacts[invitation.id] for invitation in plan.recipients if invitation.id in contacts],
        "by_language": sorted(by_language.items()), "language_names": LANGUAGE_NAMES,
        "gap_days": f"{current_app.config.get('REMINDER_GAP_DAYS', 3):g}",
        "reminders": reminders_of(round_), "next_reminder": next_reminder(round_),
        "suggested_dates": default_dates(round_.closes_on),
        "can_change": current_user.is_admin and round_.status == "open", "message": message,
        "confirm_url": url_for("rounds.send_invitations_view" if kind == "invitation" else "rounds.remind",
                               round_id=round_.id),
    }


def _confirmation(round_id: int, kind: str, values, message: str | None = None, status: int = 200):
    round_ = _round_or_404(round_id)
    chosen, problem = _chosen_invitations(round_, values)
    if problem:
        return _report_response(round_, None, problem, True, 422)
    context = confirmation_context(round_, kind, chosen, _sending_rule(values), values, message)
    return render(CONFIRM_PAGE, block="confirmation", status=status, **context)


def _send_confirmed(round_id: int, kind: str):
    """Send after the confirmation; a form that skipped it is shown the confirmation (PRG without JavaScript)."""
    round_ = _round_or_404(round_id)
    if round_.status != "open":
        text = (_("Invitations are sent only while the round is open.") if kind == "invitation"
                else _("Reminders are sent only while the round is open."))
        return _report_response(round_, None, text, True, 422)
    chosen, problem = _chosen_invitations(round_, request.form)
    if problem:
        return _report_response(round_, None, problem, True, 422)
    rule = _sending_rule(request.form)
    if request.form.get("continued") != "1":
        if request.form.get("confirm") != "yes":
            if is_htmx():
                return _confirmation(round_id, kind, request.form)
            params = {key: request.form.getlist(key) for key in ("invitation_id", "force", "next")
                      if request.form.get(key)}
            return redirect_to(url_for(request.endpoint, round_id=round_id, **params))
        if request.form.get("expected") != sending_plan(round_, kind, chosen, rule).fingerprint:
            return _confirmation(round_id, kind, request.form, _(
                "The list changed since you looked at it (mails went out or partners submitted meanwhile): "
                "check it again before sending."), 422)
    seconds = current_app.config["MAIL_SEND_SECONDS"]
    if kind == "invitation":
        return _report_response(round_, send_invitations(round_, chosen, seconds=seconds))
    return _report_response(round_, send_reminders(round_, chosen, seconds=seconds, force=rule.force,
                                                   as_of=rule.as_of))


# GET asks (how many mails, to whom, who is left out); POST sends what was confirmed. One rule per URL, so that an
# id out of range is a 404 for both methods.
@bp.route("/secretariat/rounds/<int:round_id>/send", methods=["GET", "POST"])
def send_invitations_view(round_id: int):
    """Mail the confirmed invitations not sent yet (never to those who submitted); a second click sends nothing."""
    if request.method == "GET":
        return _confirmation(round_id, "invitation", request.args)
    return _send_confirmed(round_id, "invitation")


@bp.route("/secretariat/rounds/<int:round_id>/remind", methods=["GET", "POST"])
def remind(round_id: int):
    """Remind the confirmed contacts who have not submitted (everyone due, or the invitations named)."""
    if request.method == "GET":
        return _confirmation(round_id, "reminder", request.args)
    return _send_confirmed(round_id, "reminder")


@bp.get("/secretariat/rounds/<int:round_id>/invitations.csv")
def export_invitations(round_id: int):
    """Every invitation with its status and personal link, as CSV; admins only, since a link opens the survey."""
    if not current_user.is_admin:
        abort(403)
    round_ = _round_or_404(round_id)
    buffer = io.StringIO()
    rows = write_invitations_csv(round_, buffer, bom=wants_bom(request.args.get("bom")))
    run_write(lambda: record("invitations.export", f"round {round_id}", rows=rows))
    filename = f"round-{round_id}-invitations.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
