"""Obligation rows as the catalog load and the retention duties store them: fields, versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from tracker.domain.catalog_rules import Located, content_fingerprint, sort_key
from tracker.domain.catalog_schema import InstrumentSpec
from tracker.models import Obligation, ObligationMapping, ObligationVersion
from tracker.services.audit import EventSpec


@dataclass
class RowChanges:
    """What storing a set of obligations changed (ids), as loads report it."""

    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def obligation_fields(
    located: Located, content: dict[str, Any], instrument: InstrumentSpec | None = None
) -> dict[str, Any]:
    """Return the obligation row's columns that come from its spec (all but id and version)."""
    spec = located.spec
    # Who reviews it and how often are not normative: the instrument's unless it names its own.
    inherited = (instrument.owner, instrument.review_every_days) if instrument else (None, None)
    return {
        "instrument_id": located.instrument_id,
        "parent_id": spec.parent,
        "citation": spec.citation,
        "title": spec.title,
        "summary": spec.summary,
        "official_url": spec.official_url,
        "assessable": spec.assessable,
        "severity": spec.severity,
        "lifecycle_status": spec.status,
        "effective_date": spec.effective_date,
        "freshness_days": spec.freshness_days,
        "applicability": content["applicability"],
        "parameters": content["parameters"],
        "evidence": content["evidence"],
        "tags": list(spec.tags),
        "owner": spec.owner or inherited[0],
        "review_every_days": spec.review_every_days or inherited[1],
        "sort_key": sort_key(spec.id),
        "source_file": located.file,
        "source_line": located.line,
    }


def new_obligation_row(
    located: Located,
    content: dict[str, Any],
    now: datetime,
    instrument: InstrumentSpec | None = None,
) -> dict[str, Any]:
    """Return the row of an obligation stored for the first time (version 1)."""
    return {
        "id": located.spec.id,
        "version": 1,
        "fingerprint": content_fingerprint(content),
        "created_at": now,
        "updated_at": now,
        "retired_at": None,
        **obligation_fields(located, content, instrument),
    }


def version_row(row: Mapping[Any, Any], content: dict[str, Any]) -> dict[str, Any]:
    """Return the ObligationVersion row that keeps a stored row's normative content."""
    return {
        "obligation_id": row["id"],
        "version": row["version"],
        "fingerprint": row["fingerprint"],
        "content": content,
        "created_at": row["updated_at"],
    }


def without_id(row: dict[str, Any]) -> dict[str, Any]:
    """Return a row without its id (the values of a bulk UPDATE keyed by a bound id)."""
    return {name: value for name, value in row.items() if name != "id"}


_TRACKED = (
    "summary",
    "title",
    "citation",
    "severity",
    "tags",
    "parameters",
    "evidence",
    "lifecycle_status",
    "owner",
    "review_every_days",
)


def update_obligation_row(
    current: Mapping[Any, Any],
    located: Located,
    content: dict[str, Any],
    now: datetime,
    report: RowChanges,
    events: list[EventSpec],
    instrument: InstrumentSpec | None = None,
) -> dict[str, Any] | None:
    """Return the obligation's row as it is to be stored, or None when nothing changed."""
    new_fingerprint = content_fingerprint(content)
    fields = obligation_fields(located, content, instrument)
    changed = {name: value for name, value in fields.items() if current[name] != value}
    was_retired = current["retired_at"] is not None
    if new_fingerprint == current["fingerprint"] and not changed and not was_retired:
        report.unchanged += 1
        return None
    before = {name: _jsonable(current[name]) for name in _TRACKED if name in changed}
    row = {
        "id": current["id"],
        "version": current["version"],
        "fingerprint": current["fingerprint"],
        "created_at": current["created_at"],
        "updated_at": now,
        "retired_at": None,
        **fields,
    }
    if was_retired:
        report.restored.append(row["id"])
    if new_fingerprint != current["fingerprint"]:
        row["version"] += 1
        row["fingerprint"] = new_fingerprint
        report.new_versions.append(row["id"])
        action = "obligation.new_version"
    else:
        report.updated.append(row["id"])
        action = "obligation.updated"
    if action == "obligation.updated" and not before and not was_retired:
        return row  # only where it sits in the files moved: nothing a reader of the trail needs
    events.append(
        EventSpec(
            action,
            "obligation",
            row["id"],
            before=before
            | {"version": row["version"] - (1 if action.endswith("new_version") else 0)},
            after={name: _jsonable(row[name]) for name in before} | {"version": row["version"]},
        )
    )
    return row


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def expire_catalog_objects(session: Session) -> None:
    """Make objects the session already holds read what the bulk statements wrote."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Obligation | ObligationVersion | ObligationMapping):
            session.expire(instance)
