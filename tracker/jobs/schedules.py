"""Schedules: periodic tasks of the queue that record a job for each run (syncs, readiness).

Every consumer's scheduler looks at them each minute and fires the newest run that is due and
not recorded yet, as long as it is not too late for it (a worker restarted at 02:40 still
starts the 02:30 run; see Schedule.lateness). The job record's schedule key ("name@minute") is
unique, so however many workers run, each scheduled run is recorded and queued once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tracker.domain.access import system_actor
from tracker.errors import ValidationError

if TYPE_CHECKING:
    from flask import Flask
    from huey import Huey

logger = logging.getLogger(__name__)
MINUTES_A_DAY = 24 * 60
#: How late a daily run may still start: a scheduler that was down at its minute catches up.
DAILY_LATENESS = timedelta(hours=3)


@dataclass(frozen=True)
class Schedule:
    """A job that runs by itself: every so many minutes, or daily at a time (UTC)."""

    name: str
    kind: str
    title: str
    every_minutes: int | None = None
    daily_at: str | None = None  # HH:MM, UTC
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """Say when it runs."""
        if self.every_minutes:
            return f"every {self.every_minutes} minute(s)"
        return f"daily at {self.daily_at} UTC"

    def due(self, moment: datetime) -> bool:
        """Return whether the schedule fires in this minute (UTC)."""
        minute = moment.hour * 60 + moment.minute
        if self.every_minutes:
            return minute % self.every_minutes == 0
        hours, _, minutes = (self.daily_at or "00:00").partition(":")
        return minute == int(hours) * 60 + int(minutes)

    def next_run(self, after: datetime) -> datetime:
        """Return the first minute after `after` in which the schedule fires."""
        start = after.astimezone(UTC).replace(second=0, microsecond=0)
        for step in range(1, MINUTES_A_DAY + 2):
            candidate = start + timedelta(minutes=step)
            if self.due(candidate):
                return candidate
        return start + timedelta(days=1)  # unreachable: every schedule fires once a day

    def slot(self, moment: datetime) -> datetime:
        """Return the newest minute at or before `moment` in which the schedule fired."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0)
        for step in range(MINUTES_A_DAY + 1):
            candidate = start - timedelta(minutes=step)
            if self.due(candidate):
                return candidate
        return start

    @property
    def lateness(self) -> timedelta:
        """Return how long after its minute a run may still start (then it is skipped)."""
        if self.every_minutes:
            return timedelta(minutes=self.every_minutes)
        return DAILY_LATENESS

    def key(self, moment: datetime) -> str:
        """Return the schedule key of the run in this minute."""
        return f"{self.name}@{moment.astimezone(UTC):%Y-%m-%dT%H:%M}"


def schedules(app: Flask) -> list[Schedule]:
    """Return the schedules the configuration turns on (the Jira ones only with Jira set up)."""
    found = []
    if _jira_configured(app):
        every = int(app.config.get("JIRA_SYNC_EVERY") or 0)
        if every:
            found.append(Schedule("jira-sync", "sync", "Jira sync", every_minutes=every))
        if app.config.get("JIRA_FULL_SYNC_AT"):
            found.append(
                Schedule(
                    "jira-full-sync",
                    "sync",
                    "Full Jira sync",
                    daily_at=app.config["JIRA_FULL_SYNC_AT"],
                    params={"full": True},
                )
            )
    if app.config.get("READINESS_RECORD_AT"):
        found.append(
            Schedule(
                "readiness",
                "readiness",
                "Readiness record",
                daily_at=app.config["READINESS_RECORD_AT"],
            )
        )
    return found


def fire(app: Flask, schedule: Schedule, moment: datetime) -> int | None:
    """Record and queue the scheduled run due at `moment`; None when it is recorded already.

    The job's parameters carry the run's minute ("slot"), so a late run does the work of
    its own day (the readiness record of 23:50 started after midnight is the day before's).
    """
    from tracker.jobs.queue import submit

    slot = schedule.slot(moment)
    return submit(
        app,
        schedule.kind,
        {**schedule.params, "slot": slot.isoformat()},
        system_actor(f"schedule: {schedule.title.lower()} ({schedule.description})"),
        # The run's minute, not the time a worker got to it: copies fired by others agree.
        schedule_key=schedule.key(slot),
        request_id=None,
    )


def fire_due(app: Flask, schedule: Schedule, now: datetime) -> int | None:
    """Fire the newest due run unless it is recorded already or too late; return its job."""
    from sqlmodel import Session, col, select

    from tracker.db import get_engine
    from tracker.models import Job

    slot = schedule.slot(now)
    if now - slot > schedule.lateness:
        return None
    with Session(get_engine(app)) as session:
        key = select(Job.id).where(col(Job.schedule_key) == schedule.key(slot))
        if session.exec(key).first() is not None:
            return None  # recorded by this or another worker's scheduler
    return fire(app, schedule, slot)


def register_schedules(queue: Huey, app: Flask) -> None:
    """Add the app's schedules, and the recovery of abandoned jobs each minute, to the queue."""
    from tracker.jobs.recovery import recover_abandoned, requeue_lost

    planned = schedules(app)

    def every_minute(_moment: datetime) -> bool:
        return True

    def fire_schedules() -> None:
        now = datetime.now(UTC)
        for schedule in planned:
            try:
                fire_due(app, schedule, now)
            except Exception:  # noqa: BLE001 - one schedule's failure must not stop the others
                logger.exception("schedule %s could not fire", schedule.name)

    def recover() -> None:
        recovered = recover_abandoned(app)
        if recovered:
            logger.warning("jobs whose worker stopped: %s", ", ".join(map(str, recovered)))
        requeued = requeue_lost(app)
        if requeued:
            logger.warning("jobs whose queue message was lost, queued again: %s", requeued)

    if planned:
        queue.periodic_task(every_minute, name="fire_schedules")(fire_schedules)
    queue.periodic_task(every_minute, name="recover_jobs")(recover)


def _jira_configured(app: Flask) -> bool:
    from tracker.integrations.jira_setup import jira_settings

    try:
        return jira_settings(app) is not None
    except ValidationError:
        return True  # invalid settings: the scheduled run fails and its record says why
