"""The data generation: a counter every committed write that can change a status moves on.

Caches of computed statuses are keyed by it, so a cached matrix is used only while nothing it
was computed from has changed. No service has to remember to move it on: the engine hook below
sees every statement SQLAlchemy sends to the database (ORM flushes, Core bulk statements and
text alike), marks the connection when one writes to a table of STATUS_TABLES (or to a table
nobody has classified yet), and moves the generation on inside that same transaction, as its
last statement just before the commit. A rolled-back write therefore leaves the generation as
it was, and two writers never deadlock on it (whoever holds the counter row is committing and
takes no further lock).

The generation is a number and a random token: a number alone could come back (a rolled-back
bump, a database restored from a backup), a token never does, so a cache entry computed from
data that was never committed can never match a later generation.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    column,
    event,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, Engine

TABLE = "datageneration"
# The row as Core sees it: no ORM model (and no import of every model) on this path.
_generation = table(
    TABLE,
    column("id", Integer),
    column("value", BigInteger),
    column("token", String),
    # Written only (an aware UTC time): the plain type spares every command importing SQLModel.
    column("changed_at", DateTime(timezone=True)),
)

#: Tables whose rows the matrix, the dashboard, release pages or the API statuses rest on.
STATUS_TABLES = frozenset(
    {
        "instrument",
        "obligation",
        "obligationversion",
        "obligationmapping",
        "workitem",
        "workitemlink",
        "jiraversion",
        "release",
        "signoff",
        "releaseexception",
        "releasesnapshot",
        "testcase",
        "testlink",
        "testrun",
        "testresult",
        "unknownclaim",
        "applicabilitydecision",
        "epicrequest",
        # The privacy program: what its pages and a release's blockers are computed from.
        "datasystem",
        "processingactivity",
        "dpia",
        "dpiasignoff",
        "applicabilityproposal",
        "retentionduty",
        "reviewcampaign",
        "review",
    }
)

#: Tables that no status depends on: accounts, sessions, tokens, the audit trail, Jira
#: bookkeeping. Writes to them (a sign-in, a token's last use) leave cached statuses valid.
OTHER_TABLES = frozenset(
    {
        TABLE,
        "alembic_version",
        "useraccount",
        "loginsession",
        "apitoken",
        "auditevent",
        "auditchainhead",
        "syncrun",
        "synclock",
        "remotelinkstate",
        "webhookdelivery",
        "readinessrecord",
        "job",
        "jobupload",
    }
)

#: Set in a connection's info while its transaction holds an uncommitted status write.
PENDING = "tracker.generation_pending"
#: An execution option that turns the hook off (the migrations move the generation once).
OFF = "tracker_generation_off"

_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO)"
    r"\s+(?:ONLY\s+)?((?:\"[^\"]+\"|`[^`]+`|\w+)(?:\.(?:\"[^\"]+\"|`[^`]+`|\w+))?)",
    re.IGNORECASE,
)


#: The action of an upsert (`ON CONFLICT ... DO UPDATE SET`), which names no second table.
_UPSERT_ACTION = re.compile(r"\bDO\s+UPDATE\s+SET\b", re.IGNORECASE)


def watch_engine(engine: Engine) -> None:
    """Make every transaction on the engine that writes a status table move the generation on."""
    if event.contains(engine, "before_cursor_execute", _note_write):
        return
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _bump_before_commit)
    event.listen(engine, "rollback", _forget)
    event.listen(engine.pool, "checkin", _forget_record)


def written_tables(statement: str) -> set[str] | None:
    """Return the tables a SQL statement writes (None: it may write any, e.g. TRUNCATE)."""
    head = statement.lstrip()[:8].upper()
    if head.startswith(("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "BEGIN", "SET ")):
        return set()
    if head.startswith("TRUNCATE"):
        return None
    return {_bare_name(name) for name in _WRITE.findall(_UPSERT_ACTION.sub(" ", statement))}


def changes_statuses(statement: str) -> bool:
    """Return whether a statement may change a status (unclassified tables count as yes)."""
    tables = written_tables(statement)
    if tables is None:
        return True
    return any(table in STATUS_TABLES or table not in OTHER_TABLES for table in tables)


def pending(connection: Connection) -> bool:
    """Return whether the connection's transaction holds a status write not yet committed."""
    return bool(connection.info.get(PENDING))


def current_generation(connection: Connection) -> str:
    """Return the committed generation as "number-token" (one primary-key read)."""
    row = connection.execute(
        select(_generation.c.value, _generation.c.token).where(_generation.c.id == 1)
    ).first()
    return "0-none" if row is None else f"{row[0]}-{row[1]}"


def bump_generation(connection: Connection) -> None:
    """Move the generation on in the connection's transaction (the hook does it at commit)."""
    values: dict[str, Any] = {"token": secrets.token_hex(8), "changed_at": datetime.now(UTC)}
    updated = connection.execute(
        update(_generation)
        .where(_generation.c.id == 1)
        .values(value=_generation.c.value + 1, **values)
    )
    if updated.rowcount == 0:  # the row is gone (a test emptied every table): start again
        connection.execute(insert(_generation).values(id=1, value=1, **values))


def note_write(connection: Connection, table_name: str) -> None:
    """Mark the connection's transaction as a status write to `table_name` if it is one.

    For writes SQLAlchemy does not send itself (PostgreSQL's COPY on the driver's cursor).
    """
    name = table_name.lower()
    if name in STATUS_TABLES or name not in OTHER_TABLES:
        connection.info[PENDING] = True


def _note_write(
    connection: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    if not connection.info.get(PENDING) and changes_statuses(statement):
        connection.info[PENDING] = True


def _bump_before_commit(connection: Connection) -> None:
    if not connection.info.pop(PENDING, False):
        return
    if connection.get_execution_options().get(OFF):
        return
    bump_generation(connection)
    connection.info.pop(PENDING, None)  # the bump's own statement is not a status write


def _forget(connection: Connection) -> None:
    connection.info.pop(PENDING, None)


def _forget_record(_dbapi_connection: Any, record: Any) -> None:
    record.info.pop(PENDING, None)


def _bare_name(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"`').lower()
