"""View objects for the audit trail page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import url_for

from tracker.models import AuditEvent
from tracker.web.action_words import ACTION_WORDS, OBJECT_WORDS, action_words, summarise


@dataclass(frozen=True)
class EventRow:
    """One audit event as shown."""

    seq: int
    at: str
    actor: str
    actor_ref: str
    role: str
    action: str
    action_code: str
    object: str
    change: str
    hash: str


@dataclass(frozen=True)
class AuditPage:
    """The audit trail page: filter values, rows, paging and the export link."""

    rows: list[EventRow]
    total: int
    values: Mapping[str, str]
    export_href: str
    newer_href: str | None
    older_href: str | None
    shown: str
    actions: list[tuple[str, str]]
    objects: list[tuple[str, str]]


def audit_page(
    events: Sequence[AuditEvent], total: int, offset: int, size: int, values: Mapping[str, str]
) -> AuditPage:
    """Build the audit page."""
    query = {name: value for name, value in values.items() if value}
    rows = [
        EventRow(
            seq=event.seq,
            at=_when(event.at),
            actor=event.actor,
            actor_ref=event.actor_ref,
            role=event.actor_role or "",
            action=action_words(event.action),
            action_code=event.action,
            object=f"{OBJECT_WORDS.get(event.entity_type, event.entity_type)} {event.entity_id}",
            change=_change(event),
            hash=event.hash[:12],
        )
        for event in events
    ]
    base = url_for("audit.index")
    newer = base + "?" + urlencode({**query, "offset": max(offset - size, 0)}) if offset else None
    older = (
        base + "?" + urlencode({**query, "offset": offset + size})
        if offset + size < total
        else None
    )
    export = url_for("audit.export") + ("?" + urlencode(query) if query else "")
    first = offset + 1 if rows else 0
    return AuditPage(
        rows=rows,
        total=total,
        values=values,
        export_href=export,
        newer_href=newer,
        older_href=older,
        shown=f"{first}–{offset + len(rows)} of {total}",
        actions=sorted(ACTION_WORDS.items(), key=lambda item: item[1]),
        objects=sorted(OBJECT_WORDS.items(), key=lambda item: item[1]),
    )


def _change(event: AuditEvent) -> str:
    if event.before and event.after:
        return f"before: {summarise(event.before)} → after: {summarise(event.after)}"
    return summarise(event.after or event.before)


def _when(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return f"{aware:%Y-%m-%d %H:%M:%S} UTC"
