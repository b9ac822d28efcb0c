"""Recovery, once a minute: jobs whose worker died, and jobs whose queue message was lost.

A running job whose worker stopped is queued again when its kind may simply run again, and
else marked interrupted. A job that waits longer than TRACKER_JOB_STALE_SECONDS for a worker
(a retrying one: longer than that past its next attempt) lost its message on the way: the
worker was killed between taking the message and claiming the job, Redis restarted without
its data, or the web app died between recording the job and queueing it. It is queued again;
a second message of a job is harmless, since only one worker can claim it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from tracker.db import get_engine
from tracker.jobs import records
from tracker.jobs.kinds import KINDS
from tracker.metrics import record_job
from tracker.models import utcnow

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)


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


def requeue_lost(app: Flask) -> list[int]:
    """Queue again the jobs that wait too long and whose message is not in the queue."""
    from tracker.jobs.queue import QueueError, enqueue, waiting_task_ids
    from tracker.jobs.runner import retry_delay

    engine = get_engine(app)
    stale = timedelta(seconds=int(app.config["JOB_STALE_SECONDS"]))
    late = records.find_waiting_too_long(engine, stale, lambda attempts: retry_delay(app, attempts))
    if not late:
        return []
    # A job far down a long queue is late, not lost: its message is still there.
    in_queue = waiting_task_ids(app)
    requeued = []
    for job in late:
        if job.task_id is not None and job.task_id in in_queue:
            records.touch_waiting(engine, job.id or 0)
            continue
        try:
            enqueue(app, job.id or 0, recovering=True)
        except QueueError:
            logger.warning("job %s waits for a worker and could not be queued again", job.id)
            continue
        requeued.append(job.id or 0)
    return requeued
