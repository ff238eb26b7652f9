"""Analysis and export commands."""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext
from flask_migrate import upgrade

from engagement.audit import record
from engagement.database import run_write
from engagement.extensions import db
from surveys.demo import DEMO_ADMIN, DEMO_ANALYST, load_demo, load_demo_history
from surveys.invitations import link_for
from surveys.upload_routes import files_url

from . import anonymisation, exports
from .coding_store import seed_demo_codes
from .loader import iter_responses, respondent_rows, round_and_definition

responses_cli = AppGroup("responses", help="A round's responses: exports.")


@responses_cli.command("export")
@click.argument("round_id", metavar="ROUND", type=int)
@click.option(
    "--format",
    "format_",
    type=click.Choice(exports.FORMATS),
    default="csv",
    show_default=True,
    help="csv: one row per response; long: one row per answer; xlsx: responses and codebook sheets.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option(
    "--labels", metavar="LANG", default=None, help="Choice labels in this language instead of codes."
)
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start CSV files with a UTF-8 byte order mark, so Excel reads accents right.")
@click.option("--anonymised", is_flag=True,
              help="A zip with a README: no organisation, contact, country or free text, dates to the day, new ids, "
                   "small partner groups merged or removed.")
def export_command(round_id: int, format_: str, out: Path, labels: str | None, bom: bool, anonymised: bool):
    """Export a round's responses to a file, streamed (a round of any size uses little memory)."""
    try:
        round_, definition = round_and_definition(db.session, round_id)
        export = exports.prepare(round_.id, round_.name, definition, format_, labels=labels, bom=bom,
                                 files_url=files_url())
    except LookupError:
        raise click.ClickException(f"There is no round {round_id}.") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if export.labels:
        from .routes import registry_titles

        export.registry_titles = registry_titles(export.labels)
    readme = ""
    if anonymised:
        export.anonymisation = anonymisation.plan(respondent_rows(db.session, round_id), definition,
                                                  current_app.config.get("SUPPRESSION_THRESHOLD", 5))
        readme = export.anonymisation.readme(round_.name, gettext)
    run_write(lambda: record("responses.export", f"round {round_id}", **export.audit_details(file=out.name)))
    with out.open("wb") as file:
        size = exports.write(export, iter_responses(db.session, round_id, definition), file, readme)
    click.echo(f"Wrote {out} ({size:,} bytes).")


analysis_cli = AppGroup("analysis", help="The collective analysis of a round.")


@analysis_cli.command("report")
@click.argument("round_id", metavar="ROUND", type=int)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="HTML file to write (self-contained: it can be emailed).")
@click.option("--compare", "compare_id", metavar="ROUND", type=int, default=None,
              help="An earlier round of the same survey to compare with.")
@click.option("--language", default="en", show_default=True, help="Language of the survey's texts in the report.")
def report_command(round_id: int, out: Path, compare_id: int | None, language: str):
    """Write a round's collective analysis as one self-contained HTML file (inline CSS and charts, no links)."""
    from .report.model import Filters
    from .routes import build_round_report, standalone_html

    # A request context in the chosen language: the translations (and nothing else) need one.
    with current_app.test_request_context("/", headers={"Accept-Language": language}):
        try:
            built = build_round_report(round_id, Filters(), compare_id, language=language)
        except LookupError as error:
            raise click.ClickException(f"There is no round {error.args[0].removeprefix('no round ')}.") from None
        html = standalone_html(built)
    out.write_text(html, encoding="utf-8")
    click.echo(f"Wrote {out} ({len(html.encode()):,} bytes, {built.respondents} responses analysed).")


@click.command("demo")
@with_appcontext
def demo_command():
    """Create the database, survey, partners, last year's round, this year's open one with its answers so far (their
    open answers partly coded) and demo accounts; print links."""
    upgrade()
    round_, invitations = load_demo()
    last = load_demo_history(round_)
    for coded_round in (last, round_):  # the open answers coded as an analyst would have, some left to do
        if coded_round is not None:
            run_write(lambda round_id=coded_round.id: seed_demo_codes(db.session, round_id))
    base = current_app.config["BASE_URL"]
    if last is not None:
        click.echo(f"Last year's round {last.id}: {last.name}, closed, with its responses.")
    click.echo(f"Demo round {round_.id}: {round_.name}, open until {round_.closes_on.isoformat()}.")
    click.echo("Partner survey links (each opens one organisation's survey):")
    for invitation in invitations:
        if invitation.response is not None:
            continue
        contact = invitation.contact
        click.echo(f"  [{contact.language}] {contact.organisation.name}: {link_for(invitation)}")
    click.echo(f"Secretariat: {base}/sign-in  admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}"
               f"  analyst: {DEMO_ANALYST[0]} / {DEMO_ANALYST[1]}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(responses_cli)
    app.cli.add_command(analysis_cli)
    app.cli.add_command(demo_command)
