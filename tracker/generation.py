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

Each move is also written to a short log (CHANGES_TABLE, the last KEEP_CHANGES moves) with the
obligations it changed, when the write said so: a service whose transaction changes only some
obligations' rows (a test report: the obligations linked to its tests) declares them with
declare_change, naming the tables it writes. If the transaction writes any other status table,
the move counts as changing everything. changes_since then tells a cache which obligations
changed between two generations, so it recomputes those rows only (or None: recompute all).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    Text,
    column,
    delete,
    event,
    insert,
    literal,
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

CHANGES_TABLE = "datagenerationchange"
#: How many moves the log keeps: a cache entry older than that is computed again in full.
KEEP_CHANGES = 500
#: A move that changed more obligations than this is logged as changing everything.
MOST_LOGGED = 5000
_changes = table(
    CHANGES_TABLE,
    column("value", BigInteger),
    column("token", String),
    column("obligation_ids", Text),  # a JSON list, or NULL: everything may have changed
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

#: What a test report writes: tests, their links, runs and results (and claims naming unknown
#: obligations). A move that names the obligations it changed wrote nothing else.
EVIDENCE_TABLES = frozenset({"testrun", "testresult", "testcase", "testlink", "unknownclaim"})

#: Tables that no status depends on: accounts, sessions, tokens, the audit trail, Jira
#: bookkeeping. Writes to them (a sign-in, a token's last use) leave cached statuses valid.
OTHER_TABLES = frozenset(
    {
        TABLE,
        CHANGES_TABLE,
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
#: The status tables the connection's transaction has written (a set of names).
WRITTEN = "tracker.generation_written"
#: What the transaction declared: (tables it may write, obligations whose rows it changes).
DECLARED = "tracker.generation_declared"
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
    return bool(status_tables_written(statement))


def status_tables_written(statement: str) -> set[str]:
    """Return the status tables a statement writes ("*": it may write any, e.g. TRUNCATE)."""
    tables = written_tables(statement)
    if tables is None:
        return {"*"}
    return {name for name in tables if _is_status_table(name)}


def _is_status_table(name: str) -> bool:
    return name in STATUS_TABLES or name not in OTHER_TABLES


def pending(connection: Connection) -> bool:
    """Return whether the connection's transaction holds a status write not yet committed."""
    return bool(connection.info.get(PENDING))


#: Built once: a statement made for each request costs more than the read itself.
_CURRENT = select(_generation.c.value, _generation.c.token).where(_generation.c.id == 1)
#: The generation as the last two columns another read can carry (the sign-in check does);
#: generation_text(*row[-2:]) reads it off.
GENERATION_COLUMNS = (
    select(_generation.c.value).where(_generation.c.id == 1).scalar_subquery(),
    select(_generation.c.token).where(_generation.c.id == 1).scalar_subquery(),
)


def current_generation(connection: Connection) -> str:
    """Return the committed generation as "number-token" (one primary-key read)."""
    return generation_text(*(connection.execute(_CURRENT).first() or (None, None)))


def generation_text(value: int | None, token: str | None) -> str:
    """Return the generation read as GENERATION_COLUMNS (or _CURRENT) as "number-token"."""
    return "0-none" if value is None else f"{value}-{token}"


def bump_generation(
    connection: Connection, changed: Collection[str] | None = None, *, log: bool = True
) -> None:
    """Move the generation on in the connection's transaction (the hook does it at commit).

    changed: the obligations whose rows the transaction changed (None: any may have); log:
    whether to write the move to the change log (False while migrating, before it exists).
    """
    token = secrets.token_hex(8)
    values: dict[str, Any] = {"token": token, "changed_at": datetime.now(UTC)}
    updated = connection.execute(
        update(_generation)
        .where(_generation.c.id == 1)
        .values(value=_generation.c.value + 1, **values)
    )
    if updated.rowcount == 0:  # the row is gone (a test emptied every table): start again
        connection.execute(insert(_generation).values(id=1, value=1, **values))
    if not log:
        return
    ids = None
    if changed is not None and len(changed) <= MOST_LOGGED:
        ids = json.dumps(sorted(changed), separators=(",", ":"))
    current = select(_generation.c.value).where(_generation.c.id == 1).scalar_subquery()
    connection.execute(delete(_changes).where(_changes.c.value <= current - KEEP_CHANGES))
    connection.execute(
        insert(_changes).from_select(
            ["value", "token", "obligation_ids"],
            select(_generation.c.value, literal(token), literal(ids, Text)).where(
                _generation.c.id == 1
            ),
        )
    )


def declare_change(
    connection: Connection, tables: Iterable[str], obligation_ids: Iterable[str]
) -> None:
    """Declare that the transaction's writes to these tables change only these obligations.

    A write to a status table outside `tables` makes the move count as changing everything.
    Only EVIDENCE_TABLES can be declared: readers rely on a move that names obligations having
    changed nothing of them but their tests, runs and results (the obligation page reads only
    that part again).
    """
    tables = set(tables)
    if not tables <= EVIDENCE_TABLES:
        raise ValueError(
            f"only evidence tables can be declared, not {sorted(tables - EVIDENCE_TABLES)}"
        )
    known_tables, ids = connection.info.get(DECLARED, (frozenset(), frozenset()))
    connection.info[DECLARED] = (known_tables | set(tables), ids | set(obligation_ids))


Move = tuple[str, frozenset[str] | None]  # a move's token, and what it changed (None: anything)


class ChangeLog:
    """The change log as this process has read it: each move is read from the database once.

    A move, once committed, never changes (its number and token are unique), so the moves can
    be kept. Reading newer ones reads the newest kept one again: if its token differs, or a
    generation asked about is not the one kept under its number (a database restored from a
    backup, another database), everything kept is forgotten and the range read afresh.
    """

    def __init__(self) -> None:
        self._moves: dict[int, Move] = {}
        self._lock = threading.Lock()

    def since(self, connection: Connection, base: str, current: str) -> set[str] | None:
        """Return the obligations whose rows changed from generation base to current.

        None when that cannot be told: a move changed everything, or the log no longer
        reaches back to base (or never held it: another database, a restored backup).
        """
        if base == current:
            return set()
        try:
            low, high = _parsed(base), _parsed(current)
        except ValueError:
            return None
        if high[0] <= low[0] or high[0] - low[0] > KEEP_CHANGES:
            return None
        moves = self._kept_or_read(connection, low[0], high[0])
        if moves is None or (moves[0][0], moves[-1][0]) != (low[1], high[1]):
            moves = self._read_afresh(connection, low[0], high[0])
        if moves is None or (moves[0][0], moves[-1][0]) != (low[1], high[1]):
            return None
        changed: set[str] = set()
        for _, ids in moves[1:]:
            if ids is None:
                return None
            changed.update(ids)
        return changed

    def _kept_or_read(self, connection: Connection, low: int, high: int) -> list[Move] | None:
        """Return the moves low..high, reading from the database those not kept yet."""
        with self._lock:
            kept = self._range(low, high)
            if kept is not None:
                return kept
            newest = max(self._moves, default=None)
            known = self._moves.get(newest) if newest is not None else None
        start = newest if newest is not None and low <= newest < high else low
        read = _read_moves(connection, start, high)
        if start == newest and read.get(start) != known:
            return None  # another history than the one kept
        with self._lock:
            self._keep(read)
            return self._range(low, high)

    def _read_afresh(self, connection: Connection, low: int, high: int) -> list[Move] | None:
        """Forget every move kept and read low..high from the database."""
        read = _read_moves(connection, low, high)
        with self._lock:
            self._moves = {}
            self._keep(read)
            return self._range(low, high)

    def _range(self, low: int, high: int) -> list[Move] | None:
        moves = [self._moves.get(value) for value in range(low, high + 1)]
        return None if None in moves else moves  # type: ignore[return-value]

    def _keep(self, read: dict[int, Move]) -> None:
        self._moves.update(read)
        if len(self._moves) > 2 * KEEP_CHANGES:
            for value in sorted(self._moves)[: len(self._moves) - KEEP_CHANGES]:
                del self._moves[value]


def _read_moves(connection: Connection, low: int, high: int) -> dict[int, Move]:
    rows = connection.execute(
        select(_changes.c.value, _changes.c.token, _changes.c.obligation_ids)
        .where(_changes.c.value >= low, _changes.c.value <= high)
        .order_by(_changes.c.value)
    ).all()
    return {
        value: (token, None if ids is None else frozenset(json.loads(ids)))
        for value, token, ids in rows
    }


#: This process's reading of the change log (shared by its caches).
CHANGE_LOG = ChangeLog()


def changes_since(connection: Connection, base: str, current: str) -> set[str] | None:
    """Return the obligations whose rows changed from base to current (ChangeLog.since)."""
    return CHANGE_LOG.since(connection, base, current)


def _parsed(generation: str) -> tuple[int, str]:
    value, _, token = generation.partition("-")
    return int(value), token


def note_write(connection: Connection, table_name: str) -> None:
    """Mark the connection's transaction as a status write to `table_name` if it is one.

    For writes SQLAlchemy does not send itself (PostgreSQL's COPY on the driver's cursor).
    """
    name = table_name.lower()
    if _is_status_table(name):
        connection.info[PENDING] = True
        connection.info.setdefault(WRITTEN, set()).add(name)


def _note_write(
    connection: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    written = status_tables_written(statement)
    if written:
        connection.info[PENDING] = True
        connection.info.setdefault(WRITTEN, set()).update(written)


def _bump_before_commit(connection: Connection) -> None:
    written = connection.info.pop(WRITTEN, set())
    declared = connection.info.pop(DECLARED, None)
    if not connection.info.pop(PENDING, False):
        return
    if connection.get_execution_options().get(OFF):
        return
    changed = None
    if declared is not None and written <= declared[0]:
        changed = declared[1]
    bump_generation(connection, changed)
    connection.info.pop(PENDING, None)  # the bump's own statement is not a status write
    connection.info.pop(WRITTEN, None)


def _forget(connection: Connection) -> None:
    for key in (PENDING, WRITTEN, DECLARED):
        connection.info.pop(key, None)


def _forget_record(_dbapi_connection: Any, record: Any) -> None:
    for key in (PENDING, WRITTEN, DECLARED):
        record.info.pop(key, None)


def _bare_name(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"`').lower()
