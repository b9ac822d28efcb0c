"""Running the Alembic migrations that ship with the tracker."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from tracker.errors import TrackerError
from tracker.resources import migrations_path

MIGRATIONS_PATH = migrations_path()


def alembic_config(engine: Engine) -> AlembicConfig:
    """Return an Alembic config pointing at the bundled migrations and the engine's URL."""
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to the given revision (the newest by default)."""
    from sqlalchemy import inspect

    from tracker.generation import OFF, TABLE, bump_generation

    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # Python's sqlite3 runs DDL outside any transaction, one commit (and disk sync) per
            # statement: an explicit BEGIN makes the whole upgrade one all-or-nothing commit.
            connection.exec_driver_sql("BEGIN")
        # Older revisions have no generation row to move on; once there, one move for the lot.
        connection.execution_options(**{OFF: True})
        config.attributes["connection"] = connection
        config.attributes["apply_only"] = True  # env.py then leaves the models unimported
        command.upgrade(config, revision)
        if inspect(connection).has_table(TABLE):
            bump_generation(connection)


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """Return the newest revision shipped with the tracker."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
