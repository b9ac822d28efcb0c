"""Retention duties derived from the data map's retention rules, each tracked as an obligation."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from tracker.domain.access import Actor


@dataclass
class RetentionSync:
    """What a sync of the retention duties added, changed and retired (obligation ids)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def sync_retention_duties(*, session: Session, actor: Actor) -> RetentionSync:
    """Derive the retention duties from the stored activities and store them as obligations."""
    # PLACEHOLDER until the retention helper lands: no duty is derived yet.
    return RetentionSync()
