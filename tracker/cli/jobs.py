"""`tracker jobs`: list the recent background jobs, show one."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup, with_appcontext

from tracker.cli.params import BoundedText


@click.group("jobs", cls=AppGroup)
def jobs() -> None:
    """Background jobs: syncs, pushes, epics, large ingests, freezes, readiness records."""


@jobs.command("list")
@click.option("--kind", type=BoundedText(32), default=None, help="Only this kind (e.g. sync).")
@click.option("--state", type=BoundedText(16), default=None, help="Only this state (e.g. failed).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_appcontext
def jobs_list_command(kind: str | None, state: str | None, limit: int) -> None:
    """List the newest jobs first: number, kind, state, when, and how each ended."""
    from sqlmodel import Session

    from tracker.db import get_engine
    from tracker.jobs.kinds import KINDS, kind_label
    from tracker.jobs.records import STATES, list_jobs, moment

    if kind and kind not in KINDS:
        raise click.BadParameter(f"must be one of {', '.join(KINDS)}", param_hint="--kind")
    if state and state not in STATES:
        raise click.BadParameter(f"must be one of {', '.join(STATES)}", param_hint="--state")
    with Session(get_engine()) as session:
        found = list_jobs(session, kind=kind, state=state, limit=limit)
    if not found:
        click.echo("No job matches." if kind or state else "No job has run yet.")
    for job in found:
        created = moment(job.created_at)
        when = f"{created:%Y-%m-%d %H:%M:%S}" if created else ""
        outcome = job.failure or (job.result or {}).get("summary") or job.progress_text or ""
        click.echo(f"#{job.id:<6} {kind_label(job.kind):24} {job.state:11} {when}  {outcome}")


@jobs.command("show")
@click.argument("job_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def jobs_show_command(job_id: int) -> None:
    """Show one job as JSON (the same fields as GET /api/v1/jobs/<id>, without its URLs)."""
    from sqlmodel import Session

    from tracker.db import get_engine
    from tracker.domain.timestamps import rfc3339_utc
    from tracker.jobs.records import get_job, moment

    with Session(get_engine()) as session:
        job = get_job(session, job_id)
    data = {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": {
            "text": job.progress_text,
            "done": job.progress_done,
            "total": job.progress_total,
        },
        "result": job.result,
        "failure": job.failure,
        "actor": job.actor,
        "request_id": job.request_id,
        "attempts": job.attempts,
        "worker": job.worker,
    }
    for name in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        value = moment(getattr(job, name))
        data[name] = rfc3339_utc(value) if value else None
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
