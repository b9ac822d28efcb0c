"""`tracker db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from tracker import migrate
from tracker.db import get_engine


@click.group("db", cls=AppGroup)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or update the database schema (run after every upgrade of the tracker)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    click.echo(f"Database schema is at revision {migrate.current_revision(engine)}.")
