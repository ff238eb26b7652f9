"""Commands of the shell: secretariat accounts and database backups."""

import shutil
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate.cli import db as migrate_db_group

from .audit import record
from .auth import create_user
from .database import write_transaction
from .extensions import db
from .models import ROLES

users_cli = AppGroup("users", help="Secretariat accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted twice when not given.")
def create_user_command(email, role, password):
    """Create a secretariat account (or reset its password and role)."""
    try:
        with write_transaction():
            user = create_user(email, password, role)
            record("user.create", user.email, role=user.role)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{user.email} can sign in as {user.role}.")


def backup_command(file):
    """Copy the SQLite database to FILE while the app keeps running (online backup), and the partners' uploaded files
    (the instance's folder) to FILE-uploads."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException("db backup copies SQLite only; for PostgreSQL use pg_dump (see README).")
    target = Path(file)
    uploads_target = target.with_name(target.name + "-uploads")
    if target.exists() or uploads_target.exists():
        raise click.ClickException(f"{target} exists already; choose a new file name.")
    # VACUUM INTO writes a consistent copy of the live database while partners keep saving.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM INTO ?", (str(target),))
    click.echo(f"Backed up {engine.url.database} to {target}.")
    # Copied after the database: a file uploaded meanwhile is in the copy without its record, never the reverse.
    uploads = Path(current_app.config["UPLOADS_DIR"])
    if not current_app.config.get("UPLOADS_BUCKET") and uploads.is_dir():
        shutil.copytree(uploads, uploads_target, ignore=shutil.ignore_patterns(".partial-*"))
        click.echo(f"Backed up the uploaded files to {uploads_target}.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    # Flask-Migrate owns the `db` group (a plugin command of flask); `db backup` joins it.
    if "backup" not in migrate_db_group.commands:
        migrate_db_group.add_command(click.command("backup")(click.argument("file")(backup_command)))
