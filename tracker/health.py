"""Readiness of this process: database reachable, schema at the newest migration, queue reachable.

Each check answers within CHECK_SECONDS and in generic words only (no host, URL, version or
driver text: /readyz is open to anyone who can reach it); what went wrong is logged instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: Longest a check may take: a probe that waits longer than this says "timed out".
CHECK_SECONDS = 2.0
HEAD_KEY = "tracker.migration_head"

UNREACHABLE = "unreachable"
TIMED_OUT = "timed out"
NOT_APPLIED = "no migrations applied: run `tracker db upgrade`"
BEHIND = "behind this release: run `tracker db upgrade`"
AHEAD = "ahead of this release (a newer release migrated the database)"
NOT_CHECKED = "not checked: the database is unreachable"
MIGRATIONS_MISSING = "unknown: this installation's migrations cannot be read (reinstall it)"

Result = TypeVar("Result")


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and why not in generic words."""

    name: str
    ok: bool
    reason: str | None = None

    def as_json(self) -> dict[str, str]:
        """Return the check as the /readyz document shows it."""
        shown = {"status": "ok" if self.ok else "failing"}
        if self.reason:
            shown["reason"] = self.reason
        return shown


class TimedOut(Exception):
    """A check that did not answer in time (it may still be waiting in its thread)."""


def readiness(app: Flask) -> list[Check]:
    """Run every check: database, migrations, queue."""
    from tracker.db import get_engine

    engine = get_engine(app)
    checks: list[Check] = []
    try:
        key = f"database:{id(engine)}:{engine.url}"  # the URL as shown: no password
        revisions = within(key, lambda: _schema_revisions(engine))
    except TimedOut:
        checks += [Check("database", False, TIMED_OUT), Check("migrations", False, NOT_CHECKED)]
    except Exception:  # noqa: BLE001 - any driver error means "unreachable" to a probe
        log.warning("Readiness: the database cannot be reached.", exc_info=True)
        checks += [Check("database", False, UNREACHABLE), Check("migrations", False, NOT_CHECKED)]
    else:
        checks.append(Check("database", True))
        try:
            checks.append(_migrations(app, engine, revisions))
        except Exception:  # noqa: BLE001 - e.g. an installation without its migrations
            log.warning("Readiness: this release's migrations cannot be read.", exc_info=True)
            checks.append(Check("migrations", False, MIGRATIONS_MISSING))
    checks.append(_queue(app))
    return checks


def within(key: str, work: Callable[[], Result], seconds: float = CHECK_SECONDS) -> Result:
    """Return work()'s result, or raise TimedOut after `seconds` (the work goes on alone).

    While an earlier run under the same key still hangs, raise TimedOut at once: probes every
    few seconds must not pile up threads behind a database that does not answer.
    """
    with _LOCK:
        running = _RUNNING.get(key)
        if running is not None and not running.done():
            raise TimedOut(key)
        future: Future[Result] = Future()
        _RUNNING[key] = future  # type: ignore[assignment]
    threading.Thread(
        target=_run, args=(future, work), name=f"readiness-{key.partition(':')[0]}", daemon=True
    ).start()
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise TimedOut(key) from None


def shipped_migrations(app: Flask, engine: Engine) -> tuple[str | None, frozenset[str]]:
    """Return this release's newest migration and every one it ships (read once per process)."""
    if HEAD_KEY not in app.extensions:
        from alembic.script import ScriptDirectory

        from tracker.migrate import alembic_config

        script = ScriptDirectory.from_config(alembic_config(engine))
        known = frozenset(revision.revision for revision in script.walk_revisions())
        app.extensions[HEAD_KEY] = (script.get_current_head(), known)
    shipped: tuple[str | None, frozenset[str]] = app.extensions[HEAD_KEY]
    return shipped


# --- private helpers ---------------------------------------------------------------------------

_LOCK = threading.Lock()
_RUNNING: dict[str, Future[object]] = {}


def _run(future: Future[Result], work: Callable[[], Result]) -> None:
    try:
        future.set_result(work())
    except BaseException as error:  # noqa: BLE001 - handed to the waiting probe
        future.set_exception(error)


def _schema_revisions(engine: Engine) -> set[str] | None:
    """Return the revisions in alembic_version (None without the table), with one round trip."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            milliseconds = int(CHECK_SECONDS * 1000)
            connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        connection.execute(text("SELECT 1"))
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return {row[0] for row in rows}


def _migrations(app: Flask, engine: Engine, revisions: set[str] | None) -> Check:
    if not revisions:
        return Check("migrations", False, NOT_APPLIED)
    head, known = shipped_migrations(app, engine)
    if revisions == {head}:
        return Check("migrations", True)
    log.warning("Readiness: the database is at %s, this release's head is %s.", revisions, head)
    return Check("migrations", False, BEHIND if revisions <= known else AHEAD)


def _queue(app: Flask) -> Check:
    def problem() -> str | None:
        from tracker.jobs.queue import queue_problem

        with app.app_context():
            return queue_problem(app)

    try:
        found = within(f"queue:{id(app)}", problem)
    except TimedOut:
        return Check("queue", False, TIMED_OUT)
    except Exception:  # noqa: BLE001 - whatever the queue raises, the probe says unreachable
        log.warning("Readiness: the job queue cannot be reached.", exc_info=True)
        return Check("queue", False, UNREACHABLE)
    if found is not None:
        log.warning("Readiness: the job queue is not usable: %s", found)
        return Check("queue", False, UNREACHABLE)
    return Check("queue", True)
