"""Preview and test: the Secretariat tries a survey as a chosen kind of partner, or sends a test link to a colleague.

A preview is a row of its own (models.Preview) with a link like an invitation's: the partner's pages answer it as
they answer an invitation, but its answers never join the responses, so nothing of a preview or a test is counted,
analysed or exported. The pages (`/secretariat/previews/new`) open it from a survey version or a round.
"""

from email.message import EmailMessage
from email.utils import formatdate

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from engagement.audit import record
from engagement.auth import require_signed_in
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.htmx import redirect_to, render
from partners.forms import CheckboxesField
from partners.registry import ACTION_GROUPS, CATEGORIES, is_email, normalise_email

from .invitations import hash_token, make_preview_token, new_salt
from .mailing import mail_sender
from .models import Preview, Round, SurveyVersion
from .relevance import partner_attributes
from .respondent import VisitOrganisation, default_values, survey_languages
from .versions import definition_for

bp = Blueprint("previews", __name__)
bp.before_request(require_signed_in)
PAGE = "surveys/preview.html"


class PreviewForm(FlaskForm):
    """Which kind of partner to be: what the form's conditions on the registry (${partner_...}) read."""

    language = SelectField(_l("Language"))
    category = SelectField(_l("Partner category"))
    pathfinder = SelectField(_l("Pathfinder Country"), choices=[SelectChoice("no", _l("No")),
                                                                SelectChoice("yes", _l("Yes"))])
    action_groups = CheckboxesField(_l("Action Groups"))
    gcg_member = SelectField(_l("Member of the Global Coordinating Group"),
                             choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))])
    send_to = EmailField(_l("Send as a test link to this address (optional)"))

    def validate_send_to(self, field):
        field.data = normalise_email(field.data or "")
        if field.data and not is_email(field.data):
            raise ValidationError(_l("Enter an email address like name@example.org."))

    def for_survey(self, definition) -> "PreviewForm":
        names = {"en": "English", "fr": "Français", "es": "Español"}
        self.language.choices = [SelectChoice(code, names.get(code, code)) for code in survey_languages(definition)]
        self.category.choices = [SelectChoice(code, str(label)) for code, label in CATEGORIES.items()]
        self.action_groups.choices = [SelectChoice(code, str(label)) for code, label in ACTION_GROUPS.items()]
        return self


def create_preview(version: SurveyVersion, round_: Round | None, language: str, kind: dict,
                   sent_to: str | None = None) -> tuple[Preview, str]:
    """A new preview of `version` as the partner `kind` describes, its answers prefilled as the registry would;
    returns it with its link's token. Runs in the caller's write transaction."""
    definition = definition_for(version)
    organisation = VisitOrganisation(name="", category=kind["category"], country=None, region=None,
                                     pathfinder=kind["pathfinder"] == "yes",
                                     action_groups=" ".join(kind["action_groups"]),
                                     gcg_member=kind["gcg_member"] == "yes")
    partner = partner_attributes(organisation)
    preview = Preview(survey_version=version, round=round_, created_by=current_user.id, sent_to=sent_to or None,
                      salt=new_salt(), token_hash="", language=language,
                      partner={**partner, "partner_category_label": str(CATEGORIES.get(kind["category"], ""))},
                      answers=default_values(definition, partner, language))
    db.session.add(preview)
    db.session.flush()
    token = make_preview_token(preview.id, preview.salt)
    preview.token_hash = hash_token(token)
    record("survey.preview", f"version {version.id}", round=round_.name if round_ else None, sent_to=sent_to or None,
           category=kind["category"], language=language)
    return preview, token


def preview_link(token: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for("partner.welcome", token=token)


def mail_test_link(address: str, survey_title: str, link: str) -> None:
    """Send a colleague the test link: plain text, saying that nothing they answer is counted."""
    message = EmailMessage()
    message["Subject"] = _("Test link: %(title)s", title=survey_title)
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = address
    message["Reply-To"] = current_user.email
    message["Date"] = formatdate(localtime=False)
    message.set_content(_(
        "%(sender)s asks you to try this survey as a partner would, before it is sent to partners.\n\n%(link)s\n\n"
        "This is a test: your answers are kept apart from partners' answers and are never counted, analysed or "
        "exported.", sender=current_user.email, link=link) + "\n")
    with mail_sender() as send:
        send(message)


def _target() -> tuple[SurveyVersion, Round | None]:
    """The survey version to preview, named by ?version= or through a draft or open round (?round=)."""
    round_id, version_id = request.values.get("round", type=int), request.values.get("version", type=int)
    if round_id:
        round_ = db.get_or_404(Round, round_id)
        if round_.status == "closed":
            abort(404)
        return round_.survey_version, round_
    if version_id:
        return db.get_or_404(SurveyVersion, version_id), None
    abort(404)


@bp.route("/secretariat/previews/new", methods=["GET", "POST"])
def new_preview():
    """Choose a language and a kind of partner, then answer the survey as that partner would (nothing counted)."""
    version, round_ = _target()
    definition = definition_for(version)
    form = PreviewForm().for_survey(definition)
    title = definition.text(definition.title, definition.default_language)
    if request.method == "POST":
        sending = request.form.get("action") == "send"
        if sending and not current_user.is_admin:
            abort(403)  # mailing a link is an admin's action; previewing is every staff member's
        if sending and not form.send_to.data:
            form.send_to.errors = [_("Give the colleague's email address.")]
        elif form.validate():
            kind = {"category": form.category.data, "pathfinder": form.pathfinder.data,
                    "action_groups": form.action_groups.data or [], "gcg_member": form.gcg_member.data}
            with write_transaction():
                _preview, token = create_preview(version, round_, form.language.data, kind,
                                                 form.send_to.data if sending else None)
            if sending:
                mail_test_link(form.send_to.data, definition.text(definition.title, form.language.data),
                               preview_link(token))
                flash(_("A test link was sent to %(address)s. Its answers are never counted.",
                        address=form.send_to.data))
                return redirect_to(request.full_path)
            return redirect_to(url_for("partner.welcome", token=token))
        return render(PAGE, status=422, form=form, version=version, round=round_, survey_title=title)
    return render(PAGE, form=form, version=version, round=round_, survey_title=title)
