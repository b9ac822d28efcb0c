"""`tracker db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tracker import migrate
from tracker.cli.params import BoundedText
from tracker.db import get_engine
from tracker.errors import TrackerError


@click.group("db", cls=AppGroup)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
# Alembic keeps a revision in a column of 32 characters (alembic_version.version_num).
@click.argument("revision", default="head", type=BoundedText(32))
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or update the database schema (run after every upgrade of the tracker)."""
    engine = get_engine()
    try:
        migrate.upgrade(engine, revision)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Database schema is at revision {migrate.current_revision(engine)}.")
    click.echo(f"Database: {engine.url.render_as_string(hide_password=True)}")
    click.echo(
        f"Instance folder (generated secret key, default SQLite database): "
        f"{current_app.instance_path} (set TRACKER_INSTANCE_PATH to move it)"
    )
