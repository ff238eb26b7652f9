"""Secretariat pages for survey definitions: the list of surveys and versions, and uploading an XLSForm."""

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField

from engagement.audit import record
from engagement.auth import require_secretariat
from engagement.database import write_transaction
from engagement.extensions import db
from engagement.htmx import redirect_to, render

from .cascades import ChoiceFileError, read_choice_file
from .models import Survey, SurveyVersion
from .versions import definition_for, import_survey
from .xlsform import SurveyFileError

bp = Blueprint("surveys", __name__)
bp.before_request(require_secretariat)
SURVEYS_PAGE = "surveys/library.html"
ACCEPTED = (".xlsx", ".xls", ".yaml", ".yml")


class SurveyUploadForm(FlaskForm):
    file = FileField(_l("XLSForm (.xlsx, .xls) or YAML file"), validators=[FileRequired()])
    choice_files = MultipleFileField(_l("Choices files (.csv) the form reads with select_one_from_file"))


def _library(form, problems=None, warnings=None, status=200):
    surveys = db.session.scalars(db.select(Survey).order_by(Survey.title)).all()
    return render(SURVEYS_PAGE, block="upload", status=status, surveys=surveys, form=form,
                  problems=problems or [], warnings=warnings or [])


@bp.get("/secretariat/surveys")
def survey_library():
    """Every survey with its versions, and the upload form for a new one."""
    return _library(SurveyUploadForm())


@bp.post("/secretariat/surveys")
def upload_survey():
    """Import an uploaded survey file: a new version when its form_id is known; nothing stored when it is refused."""
    form = SurveyUploadForm()
    if not form.validate_on_submit():
        return _library(form, status=422)
    upload = form.file.data
    filename = upload.filename or "survey"
    if not filename.lower().endswith(ACCEPTED):
        form.file.errors.append(_("Choose an .xlsx, .xls or .yaml file."))
        return _library(form, status=422)
    files, problems = {}, []
    for choice_file in form.choice_files.data or []:
        if not getattr(choice_file, "filename", ""):
            continue
        try:
            files[choice_file.filename] = read_choice_file(choice_file.filename, choice_file.read())
        except ChoiceFileError as error:
            problems.append(str(error))
    if problems:
        return _library(form, problems=problems, status=422)
    try:
        with write_transaction():
            version, definition = import_survey(upload.read(), filename, files)
            record("survey.import", f"{definition.form_id} v{version.number}", file=filename)
    except SurveyFileError as error:
        return _library(form, problems=[str(p) for p in error.problems], status=422)
    flash(_("%(title)s imported as version %(number)d.", title=version.survey.title, number=version.number))
    if definition.warnings:
        flash(_("%(n)d warning(s): see the version's page.", n=len(definition.warnings)))
    return redirect_to(url_for("surveys.survey_version", version_id=version.id))


@bp.get("/secretariat/surveys/versions/<int:version_id>")
def survey_version(version_id):
    """A version's questionnaire as the partner will see it, page by page, with the import's warnings."""
    version = db.get_or_404(SurveyVersion, version_id)
    definition = definition_for(version)
    language = request.args.get("lang", definition.default_language)
    if language not in definition.languages:
        language = definition.default_language
    return render("surveys/version.html", version=version, definition=definition, lang_shown=language,
                  t=lambda text: definition.text(text, language))
