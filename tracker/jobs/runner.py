"""Running one job: claim its record, call its task with a heartbeat, record how it ended."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.db import get_engine
from tracker.domain.access import Actor
from tracker.errors import ConflictError, JiraError, TrackerError
from tracker.jobs import records
from tracker.jobs.failures import JobFailed, RetryLater
from tracker.jobs.kinds import KINDS
from tracker.logs import bound_request_id
from tracker.metrics import record_job

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)
#: Progress is written at most this often (each write is a transaction).
PROGRESS_EVERY = 1.0
#: What a scheduled run that met another run of its kind says (it succeeded: nothing to do).
SKIPPED_BUSY = "Skipped: another {label} was running, so this scheduled run did nothing."


@dataclass
class JobContext:
    """What a task gets: the app, the job's parameters and actor, and a way to report progress."""

    app: Flask
    engine: Engine
    claimed: records.Claimed
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
            records.record_progress(self.engine, self.claimed, text, self.done, self.total)

    @property
    def job_id(self) -> int:
        """Return the job's id."""
        return self.claimed.id

    def advance(self, count: int) -> None:
        """Count `count` more items done."""
        self.done += count
        self.progress()

    def start_total(self, total: int | None, text: str | None = None) -> None:
        """Say how many items there are to do (None: not known)."""
        self.total, self.done = total, 0
        self.progress(text, force=True)


def execute_job(app: Flask, job_id: int) -> None:
    """Run the job of this record on this worker (nothing when it runs, is finished or unknown)."""
    engine = get_engine(app)
    claimed = records.claim(engine, job_id)
    if claimed is None:
        return
    kind = KINDS.get(claimed.kind)
    if kind is None:  # recorded by a newer tracker than this worker runs
        records.finish(
            engine,
            claimed,
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
        _heartbeat(engine, claimed, float(app.config["JOB_HEARTBEAT_SECONDS"])),
    ):
        context = JobContext(
            app=app,
            engine=engine,
            claimed=claimed,
            params=claimed.params,
            actor=claimed.actor,
            attempt=claimed.attempts,
        )
        try:
            result = kind.handler()(context)
            context.progress(force=True)  # the last count, which the throttle may have held
        except (JiraError, RetryLater) as error:
            transient = isinstance(error, RetryLater) or (
                isinstance(error, JiraError) and error.transient
            )
            if transient and claimed.attempts <= int(app.config["JOB_RETRIES"]):
                _retry(app, claimed, kind.name, error)
                return  # this run was given up meanwhile: the run that took over decides
            failure = str(error)
            if transient:
                failure += f" Gave up after {claimed.attempts} attempts; start it again later."
        except ConflictError as error:
            if claimed.schedule_key is not None:
                # A schedule met a run of its kind (a slow sync, one started by hand): the
                # running one does the work, so this one succeeded at doing nothing.
                result = {"skipped": True, "summary": SKIPPED_BUSY.format(label=kind.label)}
            else:
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
    if records.finish(
        engine, claimed, "failed" if failure else "succeeded", result=result, failure=failure
    ):
        record_job(kind.name, time.monotonic() - started, failure is not None)


def _retry(app: Flask, claimed: records.Claimed, kind: str, error: Exception) -> None:
    """Record that the attempt failed for now and hand the job back to the queue for later.

    Raise RetryTask (the queue runs the message again after the delay), unless the record is
    no longer this run's.
    """
    from huey.exceptions import RetryTask

    delay = retry_delay(app, claimed.attempts)
    recorded = records.finish(
        get_engine(app),
        claimed,
        "retrying",
        failure=f"{error} Attempt {claimed.attempts} of {int(app.config['JOB_RETRIES']) + 1} "
        f"failed; the next starts in {delay} s.",
    )
    if recorded:
        logger.info("job %s (%s) will retry in %s s: %s", claimed.id, kind, delay, error)
        raise RetryTask(delay=delay) from error


def retry_delay(app: Flask, attempt: int) -> int:
    """Return the seconds before the next attempt: doubling from the first delay, capped."""
    first = int(app.config["JOB_RETRY_DELAY"])
    cap = int(app.config["JOB_RETRY_MAX_DELAY"])
    return int(min(cap, first * 2 ** max(0, attempt - 1)))


@contextmanager
def _heartbeat(engine: Engine, claimed: records.Claimed, interval: float) -> Iterator[None]:
    """Keep the job's heartbeat fresh from a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                records.beat(engine, claimed)
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next interval
                logger.warning("job %s: heartbeat not written", claimed.id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"job-{claimed.id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
