"""Sync and push run records: marking the ones whose process died."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.models import SyncRun


def mark_interrupted(session: Session, kind: str, note: str) -> None:
    """Mark runs of this kind still "running" as interrupted (call it under the kind's lock)."""
    # Under the lock no other run of this kind is going, so a "running" one died on the way.
    for run in session.exec(
        select(SyncRun).where(SyncRun.kind == kind, SyncRun.status == "running")
    ).all():
        run.status = "interrupted"
        run.problems = [*run.problems, note]
        session.add(run)
