"""Survey commands: import and list survey definitions, and the demo that sets up a round to try."""

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from engagement.audit import record
from engagement.database import run_write, write_transaction
from engagement.extensions import db

from .mailing import RoundNotOpen, send_invitations, send_reminders
from .models import Invitation, Response, Round, Survey
from .reminders import send_due_reminders
from .rounds import (
    RoundError,
    change_closing_date,
    check_round,
    close_round,
    create_round,
    open_round,
    write_invitations_csv,
)
from .versions import import_survey, latest_version
from .xlsform import SurveyFileError

surveys_cli = AppGroup("surveys", help="Survey definitions (XLSForm or YAML).")


def import_file(path: Path) -> None:
    """Import one file, printing its problems (and storing nothing) when it cannot be used."""
    try:
        with write_transaction():
            version, definition = import_survey(path.read_bytes(), path.name)
            record("survey.import", f"{definition.form_id} v{version.number}", file=path.name)
    except SurveyFileError as error:
        click.echo(f"{path.name} cannot be used ({len(error.problems)} problem(s)); nothing was stored:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from error
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


rounds_cli = AppGroup("rounds", help="Survey rounds: open, close, change the closing date, list.")
invitations_cli = AppGroup("invitations", help="A round's invitations: send, remind, export.")


def _round(round_id: int):
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"There is no round {round_id}: flask --app wsgi rounds list")
    return round_


@rounds_cli.command("open")
@click.argument("survey")
@click.option("--name", required=True, help="The round's name, as the Secretariat calls it.")
@click.option("--closes", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Closing date, YYYY-MM-DD.")
def open_round_command(survey: str, name: str, closes):
    """Create and open a round of SURVEY (form_id or id, latest version) for all active contacts; prints its id."""
    problems = check_round(name, closes.date())
    if problems.get("name"):
        raise click.BadParameter("a round needs a name (200 characters at most)", param_hint="--name")
    if problems.get("closes_on"):
        raise click.BadParameter(f"{closes.date().isoformat()} is in the past", param_hint="--closes")
    version = latest_version(survey)
    if version is None:
        raise click.ClickException(f"No survey {survey!r}: give a form_id or id from flask --app wsgi surveys list")
    with write_transaction():
        round_ = create_round(version, name.strip(), closes.date())
        invitations = open_round(round_)
    click.echo(f"Opened round {round_.id} \"{round_.name}\" ({version.survey.form_id} version {version.number}), "
               f"open until {round_.closes_on.isoformat()}: {len(invitations)} invitation(s) created, none mailed yet "
               f"(flask --app wsgi invitations send {round_.id}).")
    click.echo(round_.id)


@rounds_cli.command("close")
@click.argument("round_id", metavar="ROUND", type=int)
def close_round_command(round_id: int):
    """Close an open round: no new answers; partial responses are kept."""
    try:
        with write_transaction():
            round_ = _round(round_id)
            close_round(round_)
    except RoundError as error:
        raise click.ClickException(f"Round {round_id} is {round_.status}; only an open round can be closed.") from error
    click.echo(f"Closed round {round_.id} \"{round_.name}\".")


@rounds_cli.command("closes")
@click.argument("round_id", metavar="ROUND", type=int)
@click.argument("closes", metavar="YYYY-MM-DD", type=click.DateTime(formats=["%Y-%m-%d"]))
def change_closing_date_command(round_id: int, closes):
    """Move the closing date of a draft or open round (e.g. give partners another week)."""
    try:
        with write_transaction():
            round_ = _round(round_id)
            previous = round_.closes_on
            change_closing_date(round_, closes.date())
    except RoundError as error:
        if error.problem == "closed":
            raise click.ClickException(f"Round {round_id} is closed; a closed round keeps its closing date.") from error
        raise click.BadParameter(f"{closes.date().isoformat()} is in the past", param_hint="YYYY-MM-DD") from error
    click.echo(f"Round {round_.id} \"{round_.name}\" now closes on {round_.closes_on.isoformat()} "
               f"(was {previous.isoformat()}).")


@rounds_cli.command("list")
def list_rounds_command():
    """List rounds with their state, closing date and invitations."""
    rounds = db.session.scalars(db.select(Round).order_by(Round.id)).all()
    if not rounds:
        click.echo("No rounds yet: flask --app wsgi rounds open SURVEY --name NAME --closes YYYY-MM-DD")
    for round_ in rounds:
        invited = db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(round_id=round_.id))
        submitted = db.session.scalar(db.select(db.func.count(Response.id)).join(Response.invitation).where(
            Invitation.round_id == round_.id, Response.status == "submitted"))
        click.echo(f"{round_.id}\t{round_.status}\t{round_.name}\t{round_.survey_version.survey.form_id} "
                   f"v{round_.survey_version.number}\tcloses {round_.closes_on.isoformat()}\t"
                   f"{invited} invited, {submitted} submitted")


@rounds_cli.command("remind-due")
@click.argument("round_id", metavar="[ROUND]", type=int, required=False)
def remind_due_command(round_id: int | None):
    """Send the reminders whose date has come (all open rounds, or ROUND) to those who have not submitted, once.

    Meant to run every hour (cron or a systemd timer); two runs at the same time send each reminder once.
    """
    if round_id is not None:
        round_ = _round(round_id)
        if round_.status != "open":
            raise click.ClickException(f"Round {round_id} is {round_.status}: reminders are sent only while a round "
                                       "is open.")
    results = send_due_reminders(round_id=round_id)
    if not results:
        click.echo("No reminder is due.")
    stopped = False
    for result in results:
        head = f"Round {result.round_id} \"{result.round_name}\", reminder of {result.send_on.isoformat()}:"
        if result.refused == "not_open":
            click.echo(f"{head} not sent: the round is not open.", err=True)
        elif result.refused == "closing_date_passed":
            click.echo(f"{head} not sent: the round's closing date has passed.", err=True)
        elif result.refused == "taken":
            click.echo(f"{head} another run is sending it.")
        else:
            report = result.report
            click.echo(f"{head} {report.sent} sent, {report.skipped} skipped (submitted, or mailed within "
                       f"REMINDER_GAP_DAYS), {report.failed} failed.")
            for address in report.refused:
                click.echo(f"refused by the mail server: {address}", err=True)
            if report.interrupted:
                stopped = True
                click.echo(f"Sending stopped: {report.error}. The next run sends the rest.", err=True)
    if stopped:
        raise SystemExit(1)


def _echo_report(report) -> None:
    noun = "invitation" if report.kind == "invitation" else "reminder"
    click.echo(f"{report.sent} {noun}(s) sent, {report.skipped} skipped, {report.failed} failed.")
    for address in report.refused:
        click.echo(f"refused by the mail server: {address}", err=True)
    if report.interrupted:
        click.echo(f"Sending stopped: {report.error}. {report.unsent} not sent yet; run the command again "
                   "to send the rest.", err=True)
        raise SystemExit(1)


@invitations_cli.command("send")
@click.argument("round_id", metavar="ROUND", type=int)
def send_invitations_command(round_id: int):
    """Mail the invitations of ROUND not sent yet; safe to run again after a failure."""
    try:
        _echo_report(send_invitations(_round(round_id)))
    except RoundNotOpen as error:
        raise click.ClickException(str(error)) from error


@invitations_cli.command("remind")
@click.argument("round_id", metavar="ROUND", type=int)
@click.option("--force", is_flag=True, help="Also remind those mailed within REMINDER_GAP_DAYS (3 days by default).")
def send_reminders_command(round_id: int, force: bool):
    """Remind the contacts of ROUND who have not submitted (not those mailed within REMINDER_GAP_DAYS)."""
    try:
        _echo_report(send_reminders(_round(round_id), force=force))
    except RoundNotOpen as error:
        raise click.ClickException(str(error)) from error


@invitations_cli.command("export")
@click.argument("round_id", metavar="ROUND", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The CSV file to write.")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start with a UTF-8 byte order mark, so Excel reads accents right.")
def export_invitations_command(round_id: int, out: Path, bom: bool):
    """Write ROUND's invitations (status and personal link) to a CSV file."""
    round_ = _round(round_id)
    with out.open("w", encoding="utf-8", newline="") as stream:
        rows = write_invitations_csv(round_, stream, bom=bom)
    run_write(lambda: record("invitations.export", f"round {round_id}", rows=rows, file=out.name))
    click.echo(f"Wrote {rows} invitation(s) of round {round_.id} to {out}.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(surveys_cli)
    app.cli.add_command(rounds_cli)
    app.cli.add_command(invitations_cli)


