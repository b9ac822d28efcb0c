"""GET /api/v1/jobs/<id>: a background job's state, progress, result and failure, as JSON."""

from __future__ import annotations

from flask import Blueprint, Response

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.jobs import records
from tracker.web.api.contract import PathVariable, Reply, operation, reply
from tracker.web.api.job_schemas import JobOut
from tracker.web.auth import requires
from tracker.web.jobs.page import job_view
from tracker.web.jobs.routes import sees_internals

jobs_api = Blueprint("jobs_api", __name__, url_prefix="/api/v1")


@jobs_api.get("/jobs/<int:job_id>")
@operation(
    "Get one background job",
    tag="jobs",
    path={"job_id": PathVariable("The job's number.", 1)},
    replies={200: Reply("The job as it is now (poll until finished is true).", JobOut)},
)
@requires(Permission.READ)
def get_job(job_id: int) -> Response:
    """Return the job's state, progress, result and failure; poll it until finished is true."""
    job = records.get_job(get_session(), job_id)
    return reply(JobOut, job_view(job, internals=sees_internals()).as_json())
