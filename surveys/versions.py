"""Survey versions: importing a definition file, and the parsed definition of a stored version (cached)."""

from functools import lru_cache
from pathlib import Path

from engagement.extensions import db
from engagement.text import strip_bidi_controls

from .definition import SurveyDefinition
from .models import Survey, SurveyVersion
from .xlsform import build_definition, load_survey_file

DEFAULT_SURVEY_FILE = Path(__file__).with_name("default_survey.yaml")


@lru_cache(maxsize=64)
def _definition(version_id: int, created_at: str) -> SurveyDefinition:
    version = db.session.get(SurveyVersion, version_id)
    return build_definition(version.sheets)


def definition_for(version: SurveyVersion) -> SurveyDefinition:
    """The parsed definition of a version; versions never change, so it is parsed once per process."""
    return definition_for_id(version.id, version.created_at)


def definition_for_id(version_id: int, created_at) -> SurveyDefinition:
    """The same from the version's id and a creation time in its database (the version's, or a round's of it), which
    tells apart databases whose versions share an id (tests, a restored backup). The partner pages pass their round's:
    they read no SurveyVersion, and on SQLite the version's own `created_at` lies after its sheets in the row, so
    reading it read the whole definition's overflow pages on every partner request."""
    return _definition(version_id, created_at.isoformat())


def import_survey(source, filename: str, files: dict | None = None) -> tuple[SurveyVersion, SurveyDefinition]:
    """Store a survey file as a new version (a new survey when its form_id is new); raises SurveyFileError.

    Runs inside the caller's write transaction; nothing is added to the session when the file is refused.
    """
    sheets, definition = load_survey_file(source, filename, files)
    survey = db.session.scalar(db.select(Survey).filter_by(form_id=definition.form_id))
    title = strip_bidi_controls(definition.text(definition.title, definition.default_language))
    if survey is None:
        survey = Survey(form_id=definition.form_id, title=title)
        db.session.add(survey)
        number = 1
    else:
        survey.title = title
        number = (db.session.scalar(
            db.select(db.func.max(SurveyVersion.number)).filter_by(survey_id=survey.id)) or 0) + 1
    version = SurveyVersion(survey=survey, number=number, form_version=definition.version,
                            source_name=Path(filename).name, sheets=sheets, warnings=list(definition.warnings))
    db.session.add(version)
    db.session.flush()
    return version, definition


def latest_version(form_id_or_id: str) -> SurveyVersion | None:
    """The newest version of a survey named by its form_id, or failing that by its numeric id."""
    survey = db.session.scalar(db.select(Survey).filter_by(form_id=form_id_or_id))
    if survey is None and str(form_id_or_id).isdigit():
        survey = db.session.get(Survey, int(form_id_or_id))
    return survey.versions[-1] if survey is not None and survey.versions else None
