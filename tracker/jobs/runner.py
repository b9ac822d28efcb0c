"""Running one job: claim its record, call its task with a heartbeat, record how it ended."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tracker.db import get_engine
from tracker.domain.access import Actor
from tracker.errors import ConflictError, JiraError, TrackerError
from tracker.jobs import records
from tracker.jobs.failures import JobFailed
from tracker.jobs.kinds import KINDS
from tracker.logs import bound_request_id
from tracker.metrics import record_job
from tracker.models import utcnow

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)
#: Progress is written at most this often (each write is a transaction).
PROGRESS_EVERY = 1.0


@dataclass
class JobContext:
    """What a task gets: the app, the job's parameters and actor, and a way to report progress."""

    app: Flask
    engine: Engine
    job_id: int
    params: dict[str, Any]
    actor: Actor
    attempt: int
    done: int = 0
    total: int | None = None
    _written: float = field(default=0.0, repr=False)

    def progress(self, text: str | None = None, *, force: bool = False) -> None:
        """Store the progress (text, done of total) unless it was stored less than 1 s ago."""
        now = time.monotonic()
        if force or text is not None or now - self._written >= PROGRESS_EVERY:
            self._written = now
            records.record_progress(self.engine, self.job_id, text, self.done, self.total)

    def advance(self, count: int) -> None:
        """Count `count` more items done."""
        self.done += count
        self.progress()

    def start_total(self, total: int | None, text: str | None = None) -> None:
        """Say how many items there are to do (None: not known)."""
        self.total, self.done = total, 0
        self.progress(text, force=True)


def execute_job(app: Flask, job_id: int) -> None:
    """Run the job of this record on this worker (nothing when it is finished or unknown)."""
    from huey.exceptions import RetryTask

    engine = get_engine(app)
    claimed = records.claim(engine, job_id)
    if claimed is None:
        return
    kind = KINDS.get(claimed.kind)
    if kind is None:  # recorded by a newer tracker than this worker runs
        records.finish(
            engine,
            job_id,
            "failed",
            failure=f"This worker does not know jobs of the kind '{claimed.kind[:32]}': "
            "upgrade it to the web app's version, then start the job again.",
        )
        return
    started = time.monotonic()
    failure: str | None = None
    result: dict[str, Any] | None = None
    with (
        app.app_context(),
        bound_request_id(claimed.request_id),
        _heartbeat(engine, job_id, float(app.config["JOB_HEARTBEAT_SECONDS"])),
    ):
        context = JobContext(
            app=app,
            engine=engine,
            job_id=job_id,
            params=claimed.params,
            actor=claimed.actor,
            attempt=claimed.attempts,
        )
        try:
            result = kind.handler()(context)
            context.progress(force=True)  # the last count, which the throttle may have held
        except JiraError as error:
            if error.transient and claimed.attempts <= int(app.config["JOB_RETRIES"]):
                delay = retry_delay(app, claimed.attempts)
                records.finish(
                    engine,
                    job_id,
                    "retrying",
                    failure=f"{error} Attempt {claimed.attempts} of "
                    f"{int(app.config['JOB_RETRIES']) + 1} failed; the next starts in "
                    f"{delay} s.",
                )
                logger.info("job %s (%s) will retry in %s s: %s", job_id, kind.name, delay, error)
                raise RetryTask(delay=delay) from error
            failure = str(error)
            if error.transient:
                failure += f" Gave up after {claimed.attempts} attempts; start it again later."
        except ConflictError as error:
            failure = f"{error} This job did nothing."
        except JobFailed as error:
            failure, result = str(error), error.result
        except TrackerError as error:
            failure = str(error)
        except Exception as error:  # noqa: BLE001 - the record must say it ended, never a traceback
            logger.exception("job %s (%s) failed", job_id, kind.name)
            failure = (
                f"The job stopped on an unexpected error ({type(error).__name__}); the worker's "
                "log has the details. Start it again, or ask the tracker's administrator."
            )
    records.finish(
        engine, job_id, "failed" if failure else "succeeded", result=result, failure=failure
    )
    record_job(kind.name, time.monotonic() - started, failure is not None)


def retry_delay(app: Flask, attempt: int) -> int:
    """Return the seconds before the next attempt: doubling from the first delay, capped."""
    first = int(app.config["JOB_RETRY_DELAY"])
    cap = int(app.config["JOB_RETRY_MAX_DELAY"])
    return int(min(cap, first * 2 ** max(0, attempt - 1)))


def recover_abandoned(app: Flask) -> list[int]:
    """Queue again (or mark interrupted) the running jobs whose worker died; return their ids."""
    from tracker.jobs.queue import QueueError, enqueue

    engine = get_engine(app)
    stale = timedelta(seconds=int(app.config["JOB_STALE_SECONDS"]))
    recovered = []
    for job in records.find_abandoned(engine, stale):
        kind = KINDS.get(job.kind)
        gone = f"The worker {job.worker or '(unknown)'} stopped while running this job"
        retries_left = job.attempts <= int(app.config["JOB_RETRIES"])
        if kind is not None and kind.rerun_when_interrupted and retries_left:
            if records.mark_abandoned(engine, job, "queued", f"{gone}; it was queued again."):
                recovered.append(job.id or 0)
                try:
                    enqueue(app, job.id or 0)
                except QueueError:
                    logger.warning("job %s could not be queued again", job.id)
            continue
        advice = kind.advice if kind is not None and not kind.rerun_when_interrupted else ""
        note = f"{gone} (killed or crashed). {advice or 'Start it again.'}"
        if records.mark_abandoned(engine, job, "interrupted", note):
            recovered.append(job.id or 0)
            started = records.moment(job.started_at) or utcnow()
            record_job(job.kind, (utcnow() - started).total_seconds(), True)
    return recovered


@contextmanager
def _heartbeat(engine: Engine, job_id: int, interval: float) -> Iterator[None]:
    """Keep the job's heartbeat fresh from a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                records.beat(engine, job_id)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next interval
                logger.warning("job %s: heartbeat not written", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
