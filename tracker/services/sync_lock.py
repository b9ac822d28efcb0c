"""A named lock held as a database row, so two syncs never run at once on any database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.errors import ConflictError
from tracker.models import SyncLock, utcnow


@contextmanager
def held_lock(
    engine: Engine, name: str, holder: str, ttl: timedelta = timedelta(minutes=15)
) -> Iterator[Callable[[], None]]:
    """Hold the lock for the block; yield a function that extends it (call it as work goes on).

    A lock whose holder died is taken over once it expires, so a killed sync never blocks
    the next one for longer than the time-to-live.
    """
    now = utcnow()
    try:
        with engine.begin() as connection:
            connection.execute(
                delete(SyncLock).where(SyncLock.name == name, SyncLock.expires_at < now)  # type: ignore[arg-type]
            )
            connection.execute(
                insert(SyncLock).values(
                    name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                )
            )
    except IntegrityError as exc:
        with Session(engine) as session:
            current = session.exec(select(SyncLock).where(SyncLock.name == name)).first()
        since = (
            f" since {current.acquired_at:%Y-%m-%d %H:%M} UTC by {current.holder}"
            if current
            else ""
        )
        raise ConflictError(
            f"Another {name} is running{since}. Wait for it to finish and try again."
        ) from exc

    def extend() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(SyncLock)
                .where(SyncLock.name == name, SyncLock.holder == holder)  # type: ignore[arg-type]
                .values(expires_at=utcnow() + ttl)
            )

    try:
        yield extend
    finally:
        with engine.begin() as connection:
            connection.execute(
                delete(SyncLock).where(SyncLock.name == name, SyncLock.holder == holder)  # type: ignore[arg-type]
            )
