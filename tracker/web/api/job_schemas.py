"""The shape of a job in the API: GET /api/v1/jobs/<id>, and the 202 answer of a queued upload."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tracker.jobs.records import JobState
from tracker.web.api.schemas import Shape, Timestamp


class JobProgress(Shape):
    """How far the job got: a line of text, and items done of a total when the task knows."""

    text: str | None
    done: int | None
    total: int | None


class JobOut(Shape):
    """One background job: what it is, its state, progress, and how it ended."""

    id: int
    kind: str = Field(description="sync, push, epic, epics, ingest, freeze or readiness.")
    title: str
    state: JobState
    finished: bool = Field(
        description="Whether the state is final (succeeded, failed, interrupted)."
    )
    progress: JobProgress
    result: dict[str, Any] | None = Field(
        description="What the job did, in a few fields; 'summary' says it in a sentence."
    )
    failure: str | None = Field(
        description="Why the job failed, in a sentence a person can act on."
    )
    actor: str
    request_id: str | None = Field(description="The id of the request that queued the job.")
    attempts: int
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    heartbeat_at: Timestamp | None
    worker: str | None = Field(
        description="host:pid of the worker that ran it last (shown to admins only)."
    )
    url: str = Field(description="The job's page.")
    api_url: str
