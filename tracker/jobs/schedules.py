"""Schedules: periodic tasks of the queue that record a job for each run (syncs, readiness).

Every consumer's scheduler fires them; the job record's schedule key ("name@minute") is unique,
so however many workers run, each scheduled run is recorded and queued once.
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
    """Record and queue the scheduled run of this minute; None when it is recorded already."""
    from tracker.jobs.queue import submit

    return submit(
        app,
        schedule.kind,
        dict(schedule.params),
        system_actor(f"schedule: {schedule.title.lower()} ({schedule.description})"),
        # The run's minute, not the time a worker got to it: copies fired by others agree.
        schedule_key=schedule.key(schedule.slot(moment)),
        request_id=None,
    )


def register_schedules(queue: Huey, app: Flask) -> None:
    """Add the app's schedules, and the recovery of abandoned jobs each minute, to the queue."""
    from tracker.jobs.runner import recover_abandoned

    for schedule in schedules(app):

        def due(moment: datetime, schedule: Schedule = schedule) -> bool:
            return schedule.due(moment)

        def run(schedule: Schedule = schedule) -> None:
            fire(app, schedule, datetime.now(UTC))

        queue.periodic_task(due, name=f"schedule_{schedule.name.replace('-', '_')}")(run)

    def every_minute(_moment: datetime) -> bool:
        return True

    def recover() -> None:
        recovered = recover_abandoned(app)
        if recovered:
            logger.warning("jobs whose worker stopped: %s", ", ".join(map(str, recovered)))

    queue.periodic_task(every_minute, name="recover_jobs")(recover)


def _jira_configured(app: Flask) -> bool:
    from tracker.integrations.jira_setup import jira_settings

    try:
        return jira_settings(app) is not None
    except ValidationError:
        return True  # invalid settings: the scheduled run fails and its record says why
