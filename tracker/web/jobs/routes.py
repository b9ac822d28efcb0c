"""The job pages: /jobs (recent jobs, filters, schedules) and /jobs/<id> (one job)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ValidationError
from tracker.jobs.kinds import KINDS
from tracker.jobs.queue import storage_description
from tracker.jobs.records import STATES, get_job, last_scheduled, list_jobs
from tracker.jobs.schedules import schedules
from tracker.models import utcnow
from tracker.web.auth import may, requires
from tracker.web.jobs.page import REFRESH_SECONDS, job_view, schedule_views

jobs = Blueprint("jobs", __name__)
LIST_LIMIT = 100


@jobs.get("/jobs")
@requires(Permission.READ)
def index() -> str:
    """List the newest jobs (filtered by kind and state) and the schedules with their runs."""
    kind = _choice("kind", tuple(KINDS))
    state = _choice("state", STATES)
    session = get_session()
    found = list_jobs(session, kind=kind, state=state, limit=LIST_LIMIT)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    planned = schedules(app)
    last = last_scheduled(session, [schedule.name for schedule in planned])
    internals = sees_internals()
    return render_template(
        "jobs/index.html",
        jobs=[job_view(job, internals=internals) for job in found],
        schedules=schedule_views(planned, last, utcnow(), internals=internals),
        kinds=[(name, item.label) for name, item in KINDS.items()],
        states=STATES,
        kind=kind or "",
        state=state or "",
        limit=LIST_LIMIT,
        storage=storage_description(app) if internals else None,
    )


@jobs.get("/jobs/<int:job_id>")
@requires(Permission.READ)
def show(job_id: int) -> str:
    """Show one job: its state, progress, result or failure (reloading until it ends)."""
    view = job_view(get_job(get_session(), job_id), internals=sees_internals())
    return render_template("jobs/show.html", job=view, refresh=REFRESH_SECONDS)


def sees_internals() -> bool:
    """Return whether the viewer may see where the queue and its workers run (admins only)."""
    return may(Permission.MANAGE_SETTINGS)


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise ValidationError(
            f"{name} must be one of {', '.join(allowed)} (or left out for all).", field=name
        )
    return value
