"""A named lock held as a database row, so two syncs never run at once on any database."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tracker.errors import ConflictError
from tracker.models import SyncLock, utcnow

DEFAULT_TTL = timedelta(minutes=15)


@contextmanager
def held_lock(
    engine: Engine, name: str, holder: str, ttl: timedelta = DEFAULT_TTL
) -> Iterator[Callable[[], None]]:
    """Hold the lock for the block; yield a function that extends it (call it as work goes on).

    A lock whose holder died is taken over at once when it was taken on this host and that
    process is gone, and otherwise once it expires, so a killed sync never blocks the next
    one for longer than the time-to-live.
    """
    holder = holder[:200]
    host, pid = host_identity(), os.getpid()
    now = utcnow()
    try:
        with engine.begin() as connection:
            connection.execute(
                delete(SyncLock).where(col(SyncLock.name) == name, col(SyncLock.expires_at) < now)
            )
            _drop_if_holder_died(connection, name, host)
            connection.execute(
                insert(SyncLock).values(
                    name=name,
                    holder=holder,
                    acquired_at=now,
                    expires_at=now + ttl,
                    host=host,
                    pid=pid,
                )
            )
    except IntegrityError as exc:
        with Session(engine) as session:
            current = session.get(SyncLock, name)
        since = (
            f" since {current.acquired_at:%Y-%m-%d %H:%M} UTC by {current.holder}"
            if current
            else ""
        )
        raise ConflictError(
            f"Another {name} is running{since}. Wait for it to finish and try again."
        ) from exc

    mine = (
        (col(SyncLock.name) == name) & (col(SyncLock.holder) == holder) & (col(SyncLock.pid) == pid)
    )

    def extend() -> None:
        with engine.begin() as connection:
            connection.execute(update(SyncLock).where(mine).values(expires_at=utcnow() + ttl))

    try:
        yield extend
    finally:
        with engine.begin() as connection:
            connection.execute(delete(SyncLock).where(mine))


def host_identity() -> str:
    """Return this machine's name and process-id namespace: where process ids can be compared."""
    name = socket.gethostname()
    try:
        # Containers on one host may share a name but never a pid namespace.
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return name[:200]
    return f"{name} {namespace}"[:200]


def process_alive(pid: int) -> bool:
    """Return whether a process with this id runs on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return True  # no safe probe (os.kill would terminate it): rely on the time-to-live
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists and belongs to another user
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return True  # no /proc to look in: the process exists
    return not fields or fields[0] not in (b"Z", b"X")


def _drop_if_holder_died(connection: Connection, name: str, host: str) -> None:
    row = connection.execute(
        select(SyncLock.pid, SyncLock.host).where(col(SyncLock.name) == name)
    ).first()
    if row is None or row.pid is None or row.host != host:
        return  # another machine's process cannot be checked from here: wait for expiry
    if row.pid == os.getpid() or process_alive(row.pid):
        return
    connection.execute(
        delete(SyncLock).where(
            col(SyncLock.name) == name, col(SyncLock.pid) == row.pid, col(SyncLock.host) == host
        )
    )
