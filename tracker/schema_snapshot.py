"""A new SQLite database at the newest revision, made by one script instead of every migration.

Like Rails' schema file, `migrations/sqlite_head.sql` holds what the migrations leave in an
empty SQLite database: its tables, indexes and the rows they insert (the revision, the audit
chain's start, the data generation). `tracker db upgrade` runs it on an empty SQLite database
instead of the migrations one by one, which also spares importing Alembic (about a third of
a second: `bench/README.md`). Any other database, and PostgreSQL always, runs the migrations.

The file is generated (`python -m tracker.schema_snapshot` writes it after a new migration),
and a test fails when it differs from what the migrations create.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Connection

from tracker.resources import migrations_path

SNAPSHOT_NAME = "sqlite_head.sql"
_REVISION_LINE = re.compile(r"^-- revision: (\S+)$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.py$")
_AFTER_TABLES = ("CREATE INDEX", "CREATE UNIQUE INDEX", "CREATE TRIGGER", "CREATE VIEW")


def snapshot_path(folder: Path | None = None) -> Path:
    """Return where the snapshot of the newest schema lies (in the migrations folder)."""
    return (folder or migrations_path()) / SNAPSHOT_NAME


def newest_migration(folder: Path | None = None) -> str | None:
    """Return the revision of the newest migration file (they are numbered in order)."""
    versions = (folder or migrations_path()) / "versions"
    numbers = [
        match.group(1)
        for name in (path.name for path in versions.glob("*.py"))
        if (match := _MIGRATION_FILE.match(name))
    ]
    return max(numbers, default=None)


def usable_snapshot(folder: Path | None = None) -> list[str] | None:
    """Return the snapshot's statements, or None when it is not for the newest revision.

    A snapshot older than the newest migration file (a migration added without writing the
    snapshot again) is not used: the migrations then run as they always can.
    """
    try:
        text = snapshot_path(folder).read_text(encoding="utf-8")
    except OSError:
        return None
    found = _REVISION_LINE.search(text)
    if found is None or found.group(1) != newest_migration(folder):
        return None
    return split_statements(text)


def split_statements(script: str) -> list[str]:
    """Split an SQLite script into its statements (comment lines left out)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"the snapshot ends inside a statement: {pending[:80]!r}")
    return statements


def is_empty(connection: Connection) -> bool:
    """Return whether an SQLite database holds no tables at all."""
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1"
    ).first()
    return found is None


def dump(database: Path) -> str:
    """Return the snapshot of an SQLite database just made by the migrations.

    The data generation's row is written as the migration inserts it before any write (number
    0, no token, no time), with no move in its change log: loading the snapshot then moves it
    on, with a new token.
    """
    connection = sqlite3.connect(database)
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        connection.execute(
            "UPDATE datageneration SET value = 0, token = '', changed_at = '1970-01-01 00:00:00'"
        )
        connection.execute("DELETE FROM datagenerationchange")
        statements = [
            statement
            for statement in connection.iterdump()
            if statement not in ("BEGIN TRANSACTION;", "COMMIT;")
        ]
        connection.rollback()
    finally:
        connection.close()
    # Tables (with their rows) come in the order of their names; indexes in the order SQLite
    # keeps them, which moves when a migration rebuilds a table: sorted, the file is stable.
    later = sorted(s for s in statements if s.startswith(_AFTER_TABLES))
    lines = [s for s in statements if not s.startswith(_AFTER_TABLES)] + later
    header = [
        f"-- An empty tracker database on SQLite, as the migrations up to {revision} make it.",
        "-- Generated: after adding a migration, run `python -m tracker.schema_snapshot`.",
        f"-- revision: {revision}",
    ]
    return "\n".join([*header, *lines]) + "\n"


def migrated_dump() -> str:
    """Run the migrations on a new SQLite database and return its snapshot."""
    from tracker import migrate
    from tracker.db import make_engine

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "snapshot.db"
        engine = make_engine(f"sqlite:///{database}")
        try:
            migrate.upgrade(engine, use_snapshot=False)
        finally:
            engine.dispose()
        return dump(database)


def main() -> None:
    """Write the snapshot of what the migrations make into the migrations folder."""
    path = snapshot_path()
    path.write_text(migrated_dump(), encoding="utf-8")
    sys.stderr.write(f"Wrote {path}.\n")


if __name__ == "__main__":
    main()
