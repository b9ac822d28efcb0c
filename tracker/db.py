"""Database engine per app, one Session per request or CLI command."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine

from tracker.generation import watch_engine

if TYPE_CHECKING:
    # Imported where a session is opened: `tracker db upgrade` needs no SQLModel (nor pydantic).
    from sqlmodel import Session


#: Every engine this process made, so that a command can close their connections before it
#: exits (tracker.cli): SQLite moves its write-ahead log into the database file then.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_engines() -> None:
    """Close the pooled connections of every engine this process made."""
    for engine in list(_ENGINES):
        engine.dispose()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout; writes move the generation."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            ping_after_idle(engine)
    watch_engine(engine)
    _ENGINES.add(engine)
    return engine


#: A pooled connection idle longer than this is pinged before use (a database restarted meanwhile
#: shows there, not in the request); one used more recently is not.
PING_AFTER_IDLE_SECONDS = 5.0


def ping_after_idle(engine: Engine, seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Ping a pooled connection on check-out only when it sat idle, not on every check-out.

    A ping on every check-out (pool_pre_ping) is one more round trip per request. A dead
    connection that was used moments ago fails its statement instead, and SQLAlchemy then
    throws away every pooled connection made before, so a restart costs at most the
    requests in flight, never every request after it.
    """
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", lambda *args: _ping_if_idle(*args, seconds=seconds))


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["tracker.idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any, *, seconds: float) -> None:
    since = record.info.get("tracker.idle_since")
    if since is None or time.monotonic() - since < seconds:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # the driver's own error types differ; any failure means dead
        # The pool discards this connection and checks out (or makes) another.
        raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite's default page cache (2 MiB) on purpose: a 64 MiB cache with memory-mapped reads
    # made the matrix page no faster and cost a large ingest 70 MiB (bench/README.md).
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's engine (no connection is made yet) and close sessions after requests."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = app.config.get("ENGINE") or make_engine(url)
    watch_engine(engine)  # an engine given in the config moves the data generation on too
    app.extensions["tracker.engine"] = engine
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the engine of the given (or current) app."""
    engine: Engine = (app or current_app).extensions["tracker.engine"]
    return engine


def request_connection() -> Connection:
    """Return this request's (or command's) one database connection, checked out on first use.

    Every session of the request is bound to it (the sign-in check's and the view's), so a
    request checks out one pooled connection, not one per session.
    """
    if "db_connection" not in g:
        g.db_connection = get_engine().connect()
    connection: Connection = g.db_connection
    return connection


def separate_transaction_bind() -> Connection | Engine:
    """Return what a session of its own transaction binds to: the request's connection when
    it has no transaction open (the usual case, before the view), else the engine.

    A session bound to a connection inside a transaction joins that transaction and commits
    nothing of its own, so a write that must commit by itself (a log-in) needs another one.
    """
    connection = request_connection()
    return get_engine() if connection.in_transaction() else connection


def get_session() -> Session:
    """Return the session of this request or command, opening it on first use."""
    if "db_session" not in g:
        from sqlmodel import Session

        g.db_session = Session(request_connection(), expire_on_commit=False)
    session: Session = g.db_session
    return session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session and one transaction on it; commit on success, roll back on error."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    connection = g.pop("db_connection", None)
    if connection is not None:
        connection.close()  # an unfinished transaction is rolled back
