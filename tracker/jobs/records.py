"""Job records: every change of a job's state in its own short transaction, and reading them."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import func, update
from sqlalchemy import select as sql_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from tracker.domain.access import Actor, ActorKind, Role
from tracker.errors import NotFoundError
from tracker.models import Job, as_utc, utcnow
from tracker.services.sync_lock import host_identity, process_alive

logger = logging.getLogger(__name__)

JobState = Literal["queued", "running", "retrying", "succeeded", "failed", "interrupted"]
STATES: tuple[str, ...] = get_args(JobState)
#: States a job leaves only by running again.
FINISHED = frozenset({"succeeded", "failed", "interrupted"})
#: States in which a worker may claim the job (a running one is claimed already).
CLAIMABLE = ("queued", "retrying")
LONGEST_FAILURE = 1000


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to run a job it has just marked running."""

    id: int
    kind: str
    params: dict[str, Any]
    actor: Actor
    request_id: str | None
    attempts: int
    worker_host: str
    worker_pid: int
    schedule_key: str | None = None

    def mine(self) -> ColumnElement[bool]:
        """Return the condition that the record is still this run's (not a later claim's)."""
        return (
            (col(Job.id) == self.id)
            & (col(Job.state) == "running")
            & (col(Job.worker_host) == self.worker_host)
            & (col(Job.worker_pid) == self.worker_pid)
            & (col(Job.attempts) == self.attempts)
        )


def create_job(
    engine: Engine,
    *,
    kind: str,
    params: dict[str, Any],
    actor: Actor,
    request_id: str | None,
    schedule_key: str | None = None,
) -> int | None:
    """Record a queued job and return its id (None: this scheduled run is recorded already)."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return add_job(
                session,
                kind=kind,
                params=params,
                actor=actor,
                request_id=request_id,
                schedule_key=schedule_key,
            )
    except IntegrityError:
        if schedule_key is None:
            raise
        return None  # another worker's scheduler fired the same schedule for the same minute


def add_job(
    session: Session,
    *,
    kind: str,
    params: dict[str, Any],
    actor: Actor,
    request_id: str | None,
    schedule_key: str | None = None,
) -> int:
    """Add a queued job to the session's transaction and return its id."""
    job = Job(
        kind=kind,
        params={**params, "actor": actor_json(actor)},
        actor=actor.label,
        actor_ref=actor.reference,
        request_id=(request_id or None) and request_id[:64],
        schedule_key=schedule_key,
    )
    session.add(job)
    session.flush()
    assert job.id is not None  # noqa: S101 - the flush gave it its id
    return job.id


def set_task_id(engine: Engine, job_id: int, task_id: str) -> None:
    """Remember the queue's id of the message that carries the job."""
    with engine.begin() as connection:
        connection.execute(update(Job).where(col(Job.id) == job_id).values(task_id=task_id[:64]))


def claim(engine: Engine, job_id: int) -> Claimed | None:
    """Mark the job running on this worker; None if it is unknown, running or ended already.

    One conditional UPDATE decides: of two workers that got a message of the same job (a
    repeated or re-queued message), exactly one changes the row and runs the job.
    """
    now = utcnow()
    host, pid = host_identity(), os.getpid()
    with engine.begin() as connection:
        changed = connection.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state).in_(CLAIMABLE))
            .values(
                state="running",
                attempts=col(Job.attempts) + 1,
                started_at=func.coalesce(col(Job.started_at), now),
                heartbeat_at=now,
                finished_at=None,
                worker=f"{socket.gethostname()}:{pid}"[:300],
                worker_host=host,
                worker_pid=pid,
            )
        )
        if changed.rowcount != 1:
            return None  # a late or repeated message of a job that runs or has ended
        row = connection.execute(
            sql_select(
                col(Job.kind),
                col(Job.params),
                col(Job.request_id),
                col(Job.attempts),
                col(Job.schedule_key),
            ).where(col(Job.id) == job_id)
        ).one()
    params = dict(row.params or {})
    return Claimed(
        id=job_id,
        kind=row.kind,
        params=params,
        actor=actor_from_json(params.get("actor")),
        request_id=row.request_id,
        attempts=row.attempts,
        worker_host=host,
        worker_pid=pid,
        schedule_key=row.schedule_key,
    )


def finish(
    engine: Engine,
    claimed: Claimed,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    failure: str | None = None,
) -> bool:
    """Record how this run of the job ended: succeeded, failed, interrupted or retrying.

    Return False (and log it) when the record is no longer this run's: the job was given up
    as abandoned and claimed again meanwhile, so what this late run says is dropped.
    """
    values: dict[str, Any] = {"state": state, "heartbeat_at": utcnow()}
    if state in FINISHED:
        values["finished_at"] = utcnow()
    if result is not None:
        values["result"] = result
    values["failure"] = failure[:LONGEST_FAILURE] if failure else None
    with engine.begin() as connection:
        changed = connection.execute(update(Job).where(claimed.mine()).values(**values))
    if changed.rowcount != 1:
        logger.warning(
            "job %s: attempt %s ended %s after the job was taken from this worker; "
            "its outcome was dropped",
            claimed.id,
            claimed.attempts,
            state,
        )
        return False
    return True


def fail_waiting(engine: Engine, job_id: int, failure: str) -> None:
    """Mark a job that waits for a worker failed (its message never reached the queue)."""
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state).in_(CLAIMABLE))
            .values(state="failed", finished_at=utcnow(), failure=failure[:LONGEST_FAILURE])
        )


def record_progress(
    engine: Engine, claimed: Claimed, text: str | None, done: int | None, total: int | None
) -> None:
    """Store how far this run got (and that its worker is alive)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow(), "progress_done": done}
    if text is not None:
        values["progress_text"] = text[:300]
    if total is not None:
        values["progress_total"] = total
    with engine.begin() as connection:
        connection.execute(update(Job).where(claimed.mine()).values(**values))


def beat(engine: Engine, claimed: Claimed) -> None:
    """Say that the worker running this run of the job is alive."""
    with engine.begin() as connection:
        connection.execute(update(Job).where(claimed.mine()).values(heartbeat_at=utcnow()))


def find_waiting_too_long(
    engine: Engine, stale_after: timedelta, retry_after: Callable[[int], float]
) -> list[Job]:
    """Return the jobs whose queue message seems lost: queued, or past their retry, too long.

    A queued job counts from its creation or its last re-queue (heartbeat_at); a retrying
    one from the end of its failed attempt plus `retry_after(attempts)` seconds.
    """
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        waiting = session.exec(select(Job).where(col(Job.state).in_(CLAIMABLE))).all()
    late = []
    for job in waiting:
        since = as_utc(job.heartbeat_at or job.created_at)
        if job.state == "retrying":
            since += timedelta(seconds=float(retry_after(job.attempts)))
        if now - since > stale_after:
            late.append(job)
    return late


def touch_waiting(engine: Engine, job_id: int, task_id: str | None = None) -> None:
    """Note that a waiting job was queued again now (and by which message)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if task_id is not None:
        values["task_id"] = task_id[:64]
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(col(Job.id) == job_id, col(Job.state).in_(CLAIMABLE)).values(**values)
        )


def find_abandoned(engine: Engine, stale_after: timedelta) -> list[Job]:
    """Return running jobs whose worker is gone: its process died here, or its heartbeat stopped."""
    now = utcnow()
    host = host_identity()
    with Session(engine, expire_on_commit=False) as session:
        running = session.exec(select(Job).where(col(Job.state) == "running")).all()
    abandoned = []
    for job in running:
        beat_at = as_utc(job.heartbeat_at or job.started_at or job.created_at)
        mine = job.worker_host == host and job.worker_pid is not None
        if mine and job.worker_pid == os.getpid():
            continue  # this process runs it; its heartbeat thread keeps it fresh
        dead_here = mine and not process_alive(job.worker_pid or 0)
        if dead_here or now - beat_at > stale_after:
            abandoned.append(job)
    return abandoned


def mark_abandoned(engine: Engine, job: Job, state: str, note: str) -> bool:
    """Move a running job to `state` unless something else moved it first; return if it did."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(Job)
            .where(
                col(Job.id) == job.id,
                col(Job.state) == "running",
                col(Job.worker_pid) == job.worker_pid,
            )
            .values(
                state=state,
                # A job queued again says why in its progress; an interrupted one in its failure.
                failure=note[:LONGEST_FAILURE] if state in FINISHED else None,
                progress_text=None if state in FINISHED else note[:300],
                finished_at=utcnow() if state in FINISHED else None,
                heartbeat_at=utcnow(),  # a job queued again waits from now
            )
        )
    return bool(changed.rowcount)


def get_job(session: Session, job_id: int) -> Job:
    """Return the job, or raise NotFoundError."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"There is no job #{job_id}. The job list shows the recent ones.")
    return job


def list_jobs(
    session: Session, *, kind: str | None = None, state: str | None = None, limit: int = 100
) -> list[Job]:
    """Return the newest jobs first, filtered by kind and state."""
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if kind:
        query = query.where(col(Job.kind) == kind)
    if state:
        query = query.where(col(Job.state) == state)
    return list(session.exec(query).all())


def last_scheduled(session: Session, names: list[str]) -> dict[str, Job]:
    """Return the newest job each schedule started, by schedule name (one query a schedule)."""
    found: dict[str, Job] = {}
    for name in names:
        job = session.exec(
            select(Job)
            .where(col(Job.schedule_key).startswith(f"{name}@", autoescape=True))
            .order_by(col(Job.id).desc())
            .limit(1)
        ).first()
        if job is not None:
            found[name] = job
    return found


def actor_json(actor: Actor) -> dict[str, Any]:
    """Return the actor as the job's parameters keep it."""
    return {
        "kind": actor.kind.value,
        "name": actor.name,
        "role": actor.role.value if actor.role else None,
        "account_id": actor.account_id,
        "token_id": actor.token_id,
    }


def actor_from_json(data: Any) -> Actor:
    """Return the actor a job was enqueued by (the system if the record has none)."""
    if not isinstance(data, dict):
        return Actor(kind=ActorKind.SYSTEM, name="background job")
    role = data.get("role")
    return Actor(
        kind=ActorKind(data.get("kind") or "system"),
        name=str(data.get("name") or "background job"),
        role=Role(role) if role else None,
        account_id=data.get("account_id"),
        token_id=data.get("token_id"),
    )


def moment(value: datetime | None) -> datetime | None:
    """Return a stored time as aware UTC (SQLite gives naive times back)."""
    return as_utc(value) if value is not None else None
