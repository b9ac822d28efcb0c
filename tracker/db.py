"""Database engine per app, one Session per request or CLI command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from tracker.generation import watch_engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout; writes move the generation."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    watch_engine(engine)
    return engine


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


def get_session() -> Session:
    """Return the session of this request or command, opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    session: Session = g.db_session
    return session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session and one transaction on it; commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
