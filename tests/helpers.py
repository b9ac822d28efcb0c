"""Helpers shared by tests: paths of test data and reading a form's CSRF token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import Session

DATA = Path(__file__).parent / "data"
SMALL_CATALOG = DATA / "catalog"


def csrf_token(client, url: str) -> str:  # type: ignore[no-untyped-def]
    """Return the CSRF token of the first form on a page."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Run a block in a new transaction, ending any read transaction the test left open."""
    if session.in_transaction():
        session.rollback()
    with session.begin():
        yield session


def empty_tables(engine, restart_ids: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Empty every table, past the audit trail's append-only triggers on PostgreSQL.

    restart_ids (PostgreSQL) uses TRUNCATE, which also restarts the id sequences but waits
    for every open transaction on the tables: only for the start of a test.
    """
    from sqlalchemy import text
    from sqlmodel import SQLModel

    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            if restart_ids:
                names = ", ".join(f'"{table.name}"' for table in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return
        for table in tables:
            connection.execute(table.delete())


def clear_of_time_bucket_end(margin: float, bucket_seconds: int = 60) -> None:
    """Wait, when the cache's time bucket ends within margin seconds, until the next begins.

    Kept matrices, answers and ETags all end with their bucket: a test that asks twice and
    expects the second answer to be the kept one must not straddle a bucket's end.
    """
    left = bucket_seconds - time.time() % bucket_seconds
    if left < margin:
        time.sleep(left + 0.05)
