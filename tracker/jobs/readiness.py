"""The daily readiness job: record each open release's verdict and blockers for its burn-down."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tracker.db import session_scope
from tracker.models import utcnow
from tracker.services.audit import record_event
from tracker.services.gate_policy import configured_policy
from tracker.services.release_readiness import record_readiness, release_readiness
from tracker.services.releases import list_releases

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Record the day's readiness of every release not yet released, archived or past its date.

    The day is the scheduled run's (params "slot"), not the day the worker got to it.
    """
    today = _day(context.params.get("slot"))
    with session_scope(context.engine) as session:
        open_releases = [
            release.name
            for release in list_releases(session=session)
            if not release.released
            and not release.archived
            and (release.release_date is None or release.release_date >= today)
        ]
    context.start_total(len(open_releases), "Recording the readiness of open releases")
    recorded = []
    for name in open_releases:
        # One transaction a release: a long list never holds the database for long.
        with session_scope(context.engine) as session:
            readiness = release_readiness(
                session=session,
                release=name,
                policy=configured_policy(context.app.config),
                default_branch=context.app.config["DEFAULT_BRANCH"],
                today=today,
            )
            record_readiness(session=session, readiness=readiness, day=today)
            entry = {
                "release": name,
                "ready": readiness.verdict.ready,
                "blocking": len(readiness.verdict.blocking),
                "total": len(readiness.rows),
            }
            record_event(
                session=session,
                actor=context.actor,
                action="release.readiness_recorded",
                entity_type="release",
                entity_id=name,
                after={"day": today.isoformat(), **entry},
            )
        recorded.append(entry)
        context.advance(1)
    ready = sum(1 for entry in recorded if entry["ready"])
    return {
        "day": today.isoformat(),
        "releases": recorded[:200],
        "summary": f"{len(recorded)} open release(s) recorded, {ready} ready.",
    }


def _day(slot: object) -> date:
    if isinstance(slot, str):
        try:
            return datetime.fromisoformat(slot).date()
        except ValueError:
            pass  # not a time: a record started by hand records today
    return utcnow().date()
