"""View objects of the job pages: one job (state, progress, result, failure, links) and the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for

from tracker.jobs.kinds import kind_label
from tracker.jobs.records import FINISHED
from tracker.jobs.schedules import Schedule
from tracker.models import Job, as_utc

STATE_CSS = {
    "queued": "run-running",
    "running": "run-running",
    "retrying": "run-warn",
    "succeeded": "run-ok",
    "failed": "run-failed",
    "interrupted": "run-failed",
}
#: Seconds after which the page of an unfinished job reloads itself.
REFRESH_SECONDS = 3


@dataclass(frozen=True)
class Related:
    """A page the job's result points at (the sync run, the test run, the snapshot ...)."""

    label: str
    href: str


@dataclass(frozen=True)
class JobView:
    """One job as its page, the list and the API show it."""

    id: int
    kind: str
    title: str
    state: str
    state_css: str
    finished: bool
    progress_text: str | None
    done: int | None
    total: int | None
    percent: int | None
    summary: str | None
    result: dict[str, Any] | None
    failure: str | None
    actor: str
    request_id: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    related: tuple[Related, ...]
    url: str
    api_url: str

    def as_json(self) -> dict[str, Any]:
        """Return the job as the API answers it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state,
            "finished": self.finished,
            "progress": {"text": self.progress_text, "done": self.done, "total": self.total},
            "result": self.result,
            "failure": self.failure,
            "actor": self.actor,
            "request_id": self.request_id,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "heartbeat_at": self.heartbeat_at,
            "worker": self.worker,
            "url": self.url,
            "api_url": self.api_url,
        }


@dataclass(frozen=True)
class ScheduleView:
    """A schedule on the job list: when it runs, its last run and its next."""

    title: str
    description: str
    last: JobView | None
    next_run: datetime


def job_view(job: Job, *, internals: bool = False) -> JobView:
    """Return the view of a job record; its worker's host:pid only with `internals` (admins)."""
    done, total = job.progress_done, job.progress_total
    percent = int(100 * done / total) if done is not None and total else None
    result = job.result if isinstance(job.result, dict) else None
    summary = result.get("summary") if result else None
    return JobView(
        id=job.id or 0,
        kind=job.kind,
        title=kind_label(job.kind) + (" (full)" if job.params.get("full") else ""),
        state=job.state,
        state_css=STATE_CSS.get(job.state, "run-warn"),
        finished=job.state in FINISHED,
        progress_text=job.progress_text,
        done=done,
        total=total,
        percent=min(percent, 100) if percent is not None else None,
        summary=str(summary) if summary is not None else None,
        result=result,
        failure=job.failure,
        actor=job.actor,
        request_id=job.request_id,
        attempts=job.attempts,
        created_at=as_utc(job.created_at),
        started_at=_utc(job.started_at),
        finished_at=_utc(job.finished_at),
        heartbeat_at=_utc(job.heartbeat_at),
        worker=job.worker if internals else None,
        related=_related(job, result or {}),
        url=url_for("jobs.show", job_id=job.id),
        api_url=url_for("jobs_api.get_job", job_id=job.id),
    )


def schedule_views(
    schedules: list[Schedule], last: dict[str, Job], now: datetime, *, internals: bool = False
) -> list[ScheduleView]:
    """Return the schedules with their last run (from the job records) and next run."""
    return [
        ScheduleView(
            title=schedule.title,
            description=schedule.description,
            last=(
                job_view(last[schedule.name], internals=internals)
                if schedule.name in last
                else None
            ),
            next_run=schedule.next_run(now),
        )
        for schedule in schedules
    ]


def _related(job: Job, result: dict[str, Any]) -> tuple[Related, ...]:
    links: list[Related] = []
    if isinstance(result.get("sync_run"), int):
        links.append(
            Related(f"Run #{result['sync_run']} on the Jira page", url_for("jira.index") + "#runs")
        )
    if isinstance(result.get("push_job"), int):
        links.append(
            Related(
                f"Push job #{result['push_job']}", url_for("jobs.show", job_id=result["push_job"])
            )
        )
    if isinstance(result.get("test_run"), int):
        links.append(
            Related(
                f"Test run #{result['test_run']}",
                url_for("evidence.run", run_id=result["test_run"]),
            )
        )
    if isinstance(result.get("snapshot"), int):
        links.append(
            Related(
                f"Snapshot #{result['snapshot']} report",
                url_for("releases.snapshot_report", snapshot_id=result["snapshot"]),
            )
        )
    release = job.params.get("release") or result.get("release")
    if isinstance(release, str) and release:
        links.append(Related(f"Release {release}", url_for("releases.show", name=release)))
    obligation = job.params.get("obligation_id")
    if isinstance(obligation, str) and obligation:
        links.append(Related(obligation, url_for("obligations.show", obligation_id=obligation)))
    if isinstance(result.get("work_item"), str):
        links.append(
            Related(result["work_item"], url_for("work_items.show", key=result["work_item"]))
        )
    return tuple(links)


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None
