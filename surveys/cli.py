"""Survey commands: import and list survey definitions, and the demo that sets up a round to try."""

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from engagement.audit import record
from engagement.extensions import db

from .models import Survey
from .versions import import_survey
from .xlsform import SurveyFileError

surveys_cli = AppGroup("surveys", help="Survey definitions (XLSForm or YAML).")


def import_file(path: Path) -> None:
    """Import one file, printing its problems (and storing nothing) when it cannot be used."""
    try:
        version, definition = import_survey(path.read_bytes(), path.name)
    except SurveyFileError as error:
        db.session.rollback()
        click.echo(f"{path.name} cannot be used ({len(error.problems)} problem(s)); nothing was stored:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from error
    record("survey.import", f"{definition.form_id} v{version.number}", file=path.name)
    db.session.commit()
    for warning in definition.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"Imported {definition.form_id} as survey {version.survey_id}, version {version.number} "
               f"({len(definition.pages)} pages, {len(definition.questions())} questions, "
               f"languages: {', '.join(definition.languages)}).")
    click.echo(version.survey_id)


@surveys_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path):
    """Import an XLSForm (.xlsx, .xls) or YAML survey; a known form_id gets a new version. Prints the survey id."""
    import_file(file)


@surveys_cli.command("list")
def list_command():
    """List surveys with their versions."""
    surveys = db.session.scalars(db.select(Survey).order_by(Survey.id)).all()
    if not surveys:
        click.echo("No surveys yet: flask --app wsgi surveys import FILE")
    for survey in surveys:
        latest = survey.versions[-1] if survey.versions else None
        click.echo(f"{survey.id}\t{survey.form_id}\t{survey.title}\tversions: {len(survey.versions)}"
                   + (f" (latest {latest.number}, form version {latest.form_version or '-'})" if latest else ""))


def register_cli(app: Flask) -> None:
    app.cli.add_command(surveys_cli)
    from .demo import demo_command

    app.cli.add_command(demo_command)

