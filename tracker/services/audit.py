"""Recording audit events: who did what to which thing, before and after."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from tracker.models import AuditEvent


def record_event(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event
