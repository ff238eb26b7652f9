"""Registry commands: `flask partners import FILE.csv` and `flask partners export FILE.csv`."""

from pathlib import Path

import click
from flask import Flask, g
from flask.cli import AppGroup

from engagement.audit import record
from engagement.database import run_write

from . import csv_io, registry

partners_cli = AppGroup("partners", help="The partner registry.")


def _english() -> None:
    """Messages of commands in English (engagement.i18n picks a language from g.language outside requests)."""
    g.language = "en"


@partners_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path):
    """Import organisations and contacts from a CSV file; with any bad row, imports nothing and lists them all."""
    _english()
    try:
        plan = csv_io.plan_import(file.read_bytes())
    except csv_io.FileProblem as problem:
        raise click.ClickException(f"{file}: {problem.args[0]}") from problem
    if not plan.ok:
        for line, reason in plan.problems:
            click.echo(f"{file}:{line}: {reason}", err=True)
        raise click.ClickException(f"{len(plan.problems)} bad row(s) in {file}: nothing was imported.")
    summary = run_write(lambda: csv_io.apply_plan(plan, file.name))
    click.echo(
        f"Imported {file.name} ({plan.rows} rows): organisations {summary['organisations_create']} added, "
        f"{summary['organisations_update']} updated, {summary['organisations_unchanged']} unchanged; "
        f"contacts {summary['contacts_create']} added, {summary['contacts_update']} updated, "
        f"{summary['contacts_unchanged']} unchanged."
    )
    if plan.ignored_columns:
        click.echo(f"Columns ignored: {', '.join(plan.ignored_columns)}")


@partners_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "include_inactive", is_flag=True, help="Include deactivated organisations.")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start with a UTF-8 byte order mark, so Excel reads accents right.")
def export_command(file: Path, include_inactive: bool, bom: bool):
    """Write the registry (active organisations unless --all) as a CSV file in the import's format."""
    organisations = registry.all_organisations(registry.Filters(status="all" if include_inactive else "active"))
    file.write_bytes(csv_io.export_csv(organisations, bom=bom).encode("utf-8"))
    run_write(lambda: record("partners.export", file.name, organisations=len(organisations)))
    click.echo(f"Wrote {len(organisations)} organisations to {file}.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(partners_cli)
