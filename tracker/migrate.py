"""Running the Alembic migrations that ship with the tracker.

Alembic is imported only where migrations run: a new SQLite database is made from the schema
snapshot (`tracker.schema_snapshot`) without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from tracker.errors import TrackerError
from tracker.resources import migrations_path

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_PATH = migrations_path()


def alembic_config(engine: Engine) -> AlembicConfig:
    """Return an Alembic config pointing at the bundled migrations and the engine's URL."""
    from alembic.config import Config as AlembicConfig

    if not (MIGRATIONS_PATH / "env.py").is_file():
        raise TrackerError(
            f"The database migrations are missing from this installation (looked in "
            f"{MIGRATIONS_PATH}). Reinstall the tracker from its wheel or source folder "
            "(pip install .)."
        )
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(engine: Engine, revision: str = "head", *, use_snapshot: bool = True) -> None:
    """Bring the database schema up to the given revision (the newest by default).

    An empty SQLite database brought to the newest revision is made from the schema snapshot
    (the same tables and rows, a test keeps them so) unless use_snapshot is False.
    """
    from sqlalchemy import inspect

    from tracker.generation import CHANGES_TABLE, OFF, TABLE, bump_generation

    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # Python's sqlite3 runs DDL outside any transaction, one commit (and disk sync) per
            # statement: an explicit BEGIN makes the whole upgrade one all-or-nothing commit.
            connection.exec_driver_sql("BEGIN")
        # Older revisions have no generation row to move on; once there, one move for the lot.
        connection.execution_options(**{OFF: True})
        if not (use_snapshot and revision == "head" and _from_snapshot(connection)):
            _run_migrations(engine, connection, revision)
        inspector = inspect(connection)
        if inspector.has_table(TABLE):
            bump_generation(connection, log=inspector.has_table(CHANGES_TABLE))


def _from_snapshot(connection: Connection) -> bool:
    """Make an empty SQLite database from the snapshot; return False when it does not apply."""
    from tracker import schema_snapshot

    if connection.dialect.name != "sqlite" or not schema_snapshot.is_empty(connection):
        return False
    statements = schema_snapshot.usable_snapshot(MIGRATIONS_PATH)
    if statements is None:
        return False
    for statement in statements:
        connection.exec_driver_sql(statement)
    return True


def _run_migrations(engine: Engine, connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    config.attributes["connection"] = connection
    config.attributes["apply_only"] = True  # env.py then leaves the models unimported
    command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None for an empty database."""
    from sqlalchemy import inspect

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = [
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        ]
    if len(versions) > 1:
        raise TrackerError(
            f"The database records several schema revisions ({', '.join(sorted(versions))}); "
            "the tracker's migrations have one line of revisions."
        )
    return versions[0] if versions else None


def head_revision(engine: Engine) -> str | None:
    """Return the newest revision shipped with the tracker."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
