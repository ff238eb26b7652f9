"""Editing a round's key findings: any signed-in analyst rewrites the summary the report opens with, per language
and comparison round; the automatic text stays one click away and the report says when the figures have moved."""

from datetime import UTC, datetime

from flask import Blueprint, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from engagement.audit import record
from engagement.auth import require_signed_in
from engagement.database import run_write
from engagement.extensions import db
from engagement.htmx import redirect_to, render
from surveys.models import Round

from .models import FINDINGS_MAX_LENGTH, KeyFindingsEdit, edited_findings
from .report.findings import findings_fingerprint, findings_text
from .report.model import Filters
from .routes import cached_report, report_selection

bp = Blueprint("findings", __name__, url_prefix="/secretariat")
bp.before_request(require_signed_in)
PAGE = "analysis/key_findings.html"


class KeyFindingsForm(FlaskForm):
    """The summary as the analyst writes it; an empty or over-long text is refused, nothing stored."""

    text = TextAreaField(_l("Key findings"), validators=[DataRequired(_l("Write the key findings, or go back to "
                                                                         "the automatic text."))])
    save = SubmitField(_l("Save the key findings"))
    reset = SubmitField(_l("Go back to the automatic text"))

    def validate_text(self, field):
        if field.data and len(field.data.strip()) > FINDINGS_MAX_LENGTH:
            raise ValidationError(_("The key findings can be at most %(max)s characters long; this text has "
                                    "%(n)s. Shorten it and save again.", max=FINDINGS_MAX_LENGTH,
                                    n=len(field.data.strip())))


def _language() -> str:
    return str(get_locale() or "en")




def _save(round_id: int, language: str, compare_id: int | None, text: str | None, fingerprint: str) -> None:
    edit = edited_findings(round_id, language, compare_id)
    if text is None:
        if edit is not None:
            db.session.delete(edit)
            record("report.findings_reset", f"round {round_id}", language=language)
        return
    if edit is None:
        edit = KeyFindingsEdit(round_id=round_id, language=language, compare_round_id=compare_id)
        db.session.add(edit)
    edit.text, edit.fingerprint, edit.edited_by = text, fingerprint, current_user.id
    edit.edited_at = datetime.now(UTC)
    record("report.findings_edit", f"round {round_id}", language=language, length=len(text))


@bp.route("/rounds/<int:round_id>/report/key-findings", methods=["GET", "POST"])
def edit_key_findings(round_id: int):
    """The key findings in a text box: save the analyst's text, or return to the one written from the figures."""
    round_ = db.get_or_404(Round, round_id)
    _filters, compare_id, query, _form = report_selection(round_)
    comparison = {"compare": query["compare"]}
    report = cached_report(round_id, Filters(), compare_id)
    language = _language()
    edit = edited_findings(round_id, language, compare_id)
    form = KeyFindingsForm(data={"text": edit.text if edit else findings_text(report.findings)})
    back = url_for("analysis.report", round_id=round_id, **comparison)
    if request.method == "POST":
        if form.reset.data:
            run_write(lambda: _save(round_id, language, compare_id, None, ""))
            return redirect_to(back + "#key-findings")
        if form.validate_on_submit():
            text = form.text.data.strip().replace("\r\n", "\n")
            run_write(lambda: _save(round_id, language, compare_id, text, findings_fingerprint(report.findings)))
            return redirect_to(back + "#key-findings")
    status = 422 if form.errors else 200
    return render(PAGE, block="editor", status=status, form=form, round_=round_, report=report, edit=edit,
                  back=back, comparison=comparison, max_length=FINDINGS_MAX_LENGTH)
