"""Tables of background jobs and the report uploads waiting for their ingest job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field

from tracker.models.base import TableModel, json_dict, utcnow


class Job(TableModel, table=True):
    """One background job: what it is, how far it got and how it ended (what /jobs shows)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    state: str = Field(default="queued", max_length=16, index=True)
    params: dict[str, Any] = json_dict()
    progress_text: str | None = Field(default=None, max_length=300)
    progress_done: int | None = None
    progress_total: int | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    failure: str | None = Field(default=None, max_length=1000)
    actor: str = Field(default="system", max_length=200)
    actor_ref: str = Field(default="system", max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    task_id: str | None = Field(default=None, max_length=64)
    # "kind@minute" of a scheduled run: workers that all fire the schedule record it once.
    schedule_key: str | None = Field(default=None, max_length=100, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker: str | None = Field(default=None, max_length=300)  # host:pid, shown
    worker_host: str | None = Field(default=None, max_length=200)  # as sync_lock.host_identity
    worker_pid: int | None = None


class JobUpload(TableModel, table=True):
    """A report waiting for its ingest job, in parts, so a worker on any machine can read it."""

    job_id: int = Field(foreign_key="job.id", primary_key=True)
    part: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
