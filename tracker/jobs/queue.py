"""The queue: Huey on SQLite in the instance folder, or on Redis when TRACKER_REDIS_URL is set.

Each app has one queue, built on first use (importing this module costs nothing: Huey, and
the Redis client it pulls in, are imported then). The queue carries only a job record's id;
the record in the database is the truth about the job (tracker.jobs.records).
"""

from __future__ import annotations

import threading
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from tracker.domain.access import Actor
from tracker.errors import TrackerError
from tracker.logs import current_request_id

if TYPE_CHECKING:
    from flask import Flask
    from huey import Huey

QUEUE_KEY = "tracker.queue"
TASK_KEY = "tracker.queue.run_job"
JOBS_FILE = "jobs.db"
_BUILDING = threading.Lock()


class _Current(Enum):
    REQUEST_ID = "the request id bound where the job is submitted"


#: submit()'s default: the job carries the id of the request (or command) that submits it.
CURRENT: Final = _Current.REQUEST_ID


class QueueError(TrackerError):
    """The job could not be put on the queue; nothing ran."""


def get_queue(app: Flask) -> Huey:
    """Return the app's queue, building it (and registering its tasks) on first use."""
    queue: Huey | None = app.extensions.get(QUEUE_KEY)
    if queue is None:
        with _BUILDING:
            queue = app.extensions.get(QUEUE_KEY)
            if queue is None:
                queue = _build(app)
                app.extensions[QUEUE_KEY] = queue
    return queue


def storage_description(app: Flask) -> str:
    """Say where the queue keeps its messages, without a password."""
    if app.config.get("JOBS_IMMEDIATE"):
        return "none: jobs run at once where they are enqueued"
    url = app.config.get("REDIS_URL")
    if url:
        parts = urlsplit(url)
        return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"
    return f"SQLite at {jobs_file(app)}"


def jobs_file(app: Flask) -> Path:
    """Return the SQLite file of the embedded queue (in the instance folder)."""
    return Path(app.instance_path) / JOBS_FILE


def uses_embedded_storage(app: Flask) -> bool:
    """Return whether the queue lives in the instance folder (no Redis is configured)."""
    return not app.config.get("REDIS_URL") and not app.config.get("JOBS_IMMEDIATE")


def queue_problem(app: Flask) -> str | None:
    """Return None when the queue's storage answers, else a short reason (for /readyz)."""
    try:
        queue = get_queue(app)
        if app.config.get("REDIS_URL") and not app.config.get("JOBS_IMMEDIATE"):
            queue.storage.conn.ping()
        else:
            queue.pending_count()
    except Exception as error:  # noqa: BLE001 - any failure of the storage is the answer
        return f"The job queue ({storage_description(app)}) is unreachable: {type(error).__name__}."
    return None


def queue_depth(app: Flask) -> int:
    """Return how many jobs wait in the queue's storage (-1 when it is unreachable)."""
    try:
        return int(get_queue(app).pending_count())
    except Exception:  # noqa: BLE001 - a metric must not fail the page that shows it
        return -1


def submit(
    app: Flask,
    kind: str,
    params: dict[str, Any],
    actor: Actor,
    *,
    schedule_key: str | None = None,
    request_id: str | None | Literal[_Current.REQUEST_ID] = CURRENT,
) -> int | None:
    """Record a job and put it on the queue; return its id (None: a schedule fired twice).

    The job carries `request_id` (None: none, as for a scheduled run), by default the id
    bound where it is submitted. Raise QueueError when the queue cannot take it (the record
    then says so). In immediate mode the job has run when this returns.
    """
    from tracker.db import get_engine
    from tracker.jobs import records

    engine = get_engine(app)
    job_id = records.create_job(
        engine,
        kind=kind,
        params=params,
        actor=actor,
        request_id=current_request_id() if request_id is CURRENT else request_id,
        schedule_key=schedule_key,
    )
    if job_id is not None:
        enqueue(app, job_id)
    return job_id


def enqueue(
    app: Flask, job_id: int, delay: float | None = None, *, recovering: bool = False
) -> None:
    """Put a recorded job (back) on the queue; raise QueueError when the queue cannot take it.

    The job is then marked failed, unless `recovering`: the recovery, which queues lost
    jobs again, leaves them waiting and tries again at its next round.
    """
    from tracker.db import get_engine
    from tracker.jobs import records

    engine = get_engine(app)
    try:
        queue = get_queue(app)
        task = app.extensions[TASK_KEY].s(job_id)
        if delay:
            from huey.utils import normalize_time

            task.eta = normalize_time(delay=delay, utc=queue.utc)
        records.set_task_id(engine, job_id, task.id)
        queue.enqueue(task)
        if recovering:
            records.touch_waiting(engine, job_id)  # waits again from now
    except TrackerError:
        raise
    except Exception as error:  # noqa: BLE001 - the storage's failures vary by backend
        message = (
            f"The job queue ({storage_description(app)}) did not take the job "
            f"({type(error).__name__}); nothing ran. Check that it is reachable "
            "(TRACKER_REDIS_URL), then start the job again."
        )
        if not recovering:
            records.fail_waiting(engine, job_id, message)
        raise QueueError(message) from error


def waiting_task_ids(app: Flask) -> set[str]:
    """Return the ids of the messages waiting in the queue's storage, due or scheduled."""
    queue = get_queue(app)
    return {task.id for task in [*queue.pending(), *queue.scheduled()]}


def _build(app: Flask) -> Huey:
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    from tracker.jobs.runner import execute_job
    from tracker.jobs.schedules import register_schedules

    name = str(app.config.get("JOBS_NAME") or "tracker")
    queue: Huey
    if app.config.get("JOBS_IMMEDIATE"):
        queue = MemoryHuey(name, immediate=True, results=False)
    elif app.config.get("REDIS_URL"):
        queue = RedisHuey(name, url=app.config["REDIS_URL"], results=False)
    else:
        jobs_file(app).parent.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey(name, filename=str(jobs_file(app)), results=False, timeout=30)

    def run_job(job_id: int) -> None:
        execute_job(app, job_id)

    app.extensions[TASK_KEY] = queue.task(name="run_job")(run_job)
    register_schedules(queue, app)
    return queue
