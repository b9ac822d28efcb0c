"""Loading a validated data map into the database (all or nothing), and reading it back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from tracker.data_map.reader import DataMap, LocatedItem
from tracker.domain.access import Actor
from tracker.domain.canonical import canonical_json, sha256_hex
from tracker.domain.data_map_schema import ActivitySpec, DpiaSpec, SystemSpec
from tracker.errors import CatalogError, Problem
from tracker.models import DataSystem, Dpia, Obligation, ProcessingActivity, utcnow
from tracker.services.applicability_refresh import ProposalRefresh, refresh_proposals
from tracker.services.audit import EventSpec, record_events
from tracker.services.retention import RetentionSync, sync_retention_duties

RETIRED_REASON = "removed from the data map files"


@dataclass
class ItemChanges:
    """What a load did to one kind of item (ids)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0

    def words(self, noun: str) -> str:
        """Return 'N noun: 1 added, 2 changed' with only the counts that are not 0."""
        counts = [
            (len(self.added), "added"),
            (len(self.changed), "changed"),
            (len(self.restored), "restored"),
            (len(self.retired), "retired"),
            (self.unchanged, "unchanged"),
        ]
        done = ", ".join(f"{count} {what}" for count, what in counts if count)
        return f"{noun}: {done or 'none'}"

    @property
    def any(self) -> bool:
        """Tell whether anything was added, changed, restored or retired."""
        return bool(self.added or self.changed or self.restored or self.retired)


@dataclass
class DataMapLoadReport:
    """What a data map load changed, and what the retention and applicability hooks did."""

    systems: ItemChanges = field(default_factory=ItemChanges)
    activities: ItemChanges = field(default_factory=ItemChanges)
    dpias: ItemChanges = field(default_factory=ItemChanges)
    size: str = ""  # "5 processing activities on 8 systems, 2 DPIAs"
    retention: RetentionSync = field(default_factory=RetentionSync)
    proposals: ProposalRefresh = field(default_factory=ProposalRefresh)

    @property
    def changed(self) -> bool:
        """Tell whether the load changed any system, activity or DPIA."""
        return self.systems.any or self.activities.any or self.dpias.any

    def summary(self) -> str:
        """Return one line a person can read."""
        parts = [
            self.activities.words("activities"),
            self.systems.words("systems"),
            self.dpias.words("DPIAs"),
        ]
        retention = self.retention
        proposals = self.proposals
        return (
            f"{self.size}. {'; '.join(parts)}. Retention duties: {len(retention.added)} added, "
            f"{len(retention.changed)} changed, {len(retention.retired)} retired. "
            f"Applicability proposals: {len(proposals.changed)} changed, "
            f"{len(proposals.needs_review)} decision(s) to review."
        )


def load_data_map(*, session: Session, data_map: DataMap, actor: Actor) -> DataMapLoadReport:
    """Upsert a valid data map, retire what left the files, then refresh retention and proposals.

    The caller's transaction makes it all or nothing; an unchanged data map writes nothing.
    """
    if not data_map.ok:
        raise CatalogError(
            f"The data map has {len(data_map.problems)} problem(s); nothing was loaded. "
            "Run `tracker datamap validate` to see them.",
            list(data_map.problems),
        )
    unknown = unknown_mitigation_problems(data_map, stored_obligation_ids(session))
    if unknown:
        raise CatalogError(
            f"{len(unknown)} DPIA mitigation(s) name obligations the tracker does not have; "
            "nothing was loaded. Load the catalog first (`tracker catalog load`) or fix the ids.",
            unknown,
        )
    report = DataMapLoadReport(size=data_map.summary())
    events: list[EventSpec] = []
    now = utcnow()
    for kind, items, changes in (
        (_SYSTEMS, data_map.systems, report.systems),
        (_ACTIVITIES, data_map.activities, report.activities),
        (_DPIAS, data_map.dpias, report.dpias),
    ):
        events += _upsert(session, kind, items, changes, now)
    session.flush()  # the hooks read the tables
    record_events(session=session, actor=actor, events=events)
    report.retention = sync_retention_duties(session=session, actor=actor)
    report.proposals = refresh_proposals(session=session, actor=actor)
    return report


def stored_obligation_ids(session: Session) -> frozenset[str]:
    """Return the ids of the obligations in the tracker that are not retired."""
    query = select(Obligation.id).where(col(Obligation.retired_at).is_(None))
    return frozenset(session.exec(query).all())


def unknown_mitigation_problems(data_map: DataMap, known: frozenset[str]) -> list[Problem]:
    """Return a problem for each obligation a DPIA mitigation names that is not among known."""
    problems: list[Problem] = []
    for located in data_map.dpias:
        for risk_index, risk in enumerate(located.spec.risks):
            for index, mitigation in enumerate(risk.mitigations):
                path = ("risks", risk_index, "mitigations", index, "obligations")
                for obligation_id in mitigation.obligations:
                    if obligation_id not in known:
                        problems.append(
                            Problem(
                                f"unknown obligation '{obligation_id}': a mitigation must name "
                                "an obligation of the catalog",
                                file=located.file,
                                line=located.line_of(*path),
                                obligation_id=located.spec.id,
                                field=".".join(str(part) for part in path),
                            )
                        )
    return problems


def current_activities(session: Session) -> list[ActivitySpec]:
    """Return the specs of the activities in the data map (not removed from it), by id."""
    query = select(ProcessingActivity.spec).where(col(ProcessingActivity.retired_at).is_(None))
    specs = session.exec(query.order_by(col(ProcessingActivity.id))).all()
    return [ActivitySpec.model_validate(spec) for spec in specs]


def current_systems(session: Session) -> list[SystemSpec]:
    """Return the specs of the systems in the data map (not removed from it), by id."""
    query = select(DataSystem.spec).where(col(DataSystem.retired_at).is_(None))
    specs = session.exec(query.order_by(col(DataSystem.id))).all()
    return [SystemSpec.model_validate(spec) for spec in specs]


def current_dpias(session: Session) -> list[DpiaSpec]:
    """Return the specs of the DPIAs in the data map (not removed from it), by id."""
    query = select(Dpia.spec).where(col(Dpia.retired_at).is_(None))
    specs = session.exec(query.order_by(col(Dpia.id))).all()
    return [DpiaSpec.model_validate(spec) for spec in specs]


def spec_fingerprint(spec: dict[str, Any]) -> str:
    """Return the SHA-256 of a spec's canonical JSON."""
    return sha256_hex(canonical_json(spec))


# --- private helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How one kind of data map item is stored and audited."""

    model: type[Any]
    entity_type: str
    versioned: bool
    columns: Callable[[Any], dict[str, Any]]


def _system_columns(spec: SystemSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "owner": spec.owner,
        "jira_project": spec.jira.project if spec.jira else None,
    }


def _activity_columns(spec: ActivitySpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "owner": spec.owner,
        "status": spec.status,
        "dpia_required": spec.dpia.required,
        "review_every_days": spec.review_every_days,
    }


def _dpia_columns(spec: DpiaSpec) -> dict[str, Any]:
    return {
        "activity_id": spec.activity,
        "title": spec.title,
        "owner": spec.owner,
        "review_every_days": spec.review_every_days,
    }


_SYSTEMS = _Kind(DataSystem, "data_system", False, _system_columns)
_ACTIVITIES = _Kind(ProcessingActivity, "activity", True, _activity_columns)
_DPIAS = _Kind(Dpia, "dpia", True, _dpia_columns)


def _upsert(
    session: Session,
    kind: _Kind,
    items: Sequence[LocatedItem[Any]],
    changes: ItemChanges,
    now: datetime,
) -> list[EventSpec]:
    """Add, change, restore and retire the rows of one kind; return their audit events."""
    rows: dict[str, Any] = {row.id: row for row in session.exec(select(kind.model)).all()}
    events: list[EventSpec] = []
    seen: set[str] = set()
    for item in items:
        spec: BaseModel = item.spec
        content = spec.model_dump(mode="json")
        fingerprint = spec_fingerprint(content)
        item_id = content["id"]
        seen.add(item_id)
        row = rows.get(item_id)
        if row is None:
            new = kind.model(
                id=item_id,
                spec=content,
                fingerprint=fingerprint,
                source_file=item.file,
                source_line=item.line,
                created_at=now,
                updated_at=now,
                **kind.columns(spec),
            )
            if kind.versioned:
                new.version = 1
            session.add(new)
            changes.added.append(item_id)
            after = {"version": 1, **content} if kind.versioned else content
            events.append(
                EventSpec(f"{kind.entity_type}.created", kind.entity_type, item_id, after=after)
            )
            continue
        event = _update(kind, row, item, content, fingerprint, now, changes)
        if event is not None:
            events.append(event)
    for item_id, row in rows.items():
        if item_id in seen or row.retired_at is not None:
            continue
        row.retired_at = now
        session.add(row)
        changes.retired.append(item_id)
        before = {"version": row.version} if kind.versioned else None
        events.append(
            EventSpec(
                f"{kind.entity_type}.retired",
                kind.entity_type,
                item_id,
                before=before,
                after={"reason": RETIRED_REASON},
            )
        )
    return events


def _update(
    kind: _Kind,
    row: Any,
    item: LocatedItem[Any],
    content: dict[str, Any],
    fingerprint: str,
    now: datetime,
    changes: ItemChanges,
) -> EventSpec | None:
    """Bring one stored row up to its spec; return its audit event (None when none is due)."""
    restored = row.retired_at is not None
    changed = row.fingerprint != fingerprint
    moved = (row.source_file, row.source_line) != (item.file, item.line)
    if not (restored or changed or moved):
        changes.unchanged += 1
        return None
    old: dict[str, Any] = dict(row.spec)
    row.source_file = item.file
    row.source_line = item.line
    if not (restored or changed):
        return None  # only where it sits in the files moved: nothing a reader of the trail needs
    keys = sorted(key for key in content.keys() | old.keys() if content.get(key) != old.get(key))
    before = {key: old.get(key) for key in keys}
    after = {key: content.get(key) for key in keys}
    if changed:
        row.spec = content
        row.fingerprint = fingerprint
        for name, value in kind.columns(item.spec).items():
            setattr(row, name, value)
        if kind.versioned:
            before["version"] = row.version
            row.version += 1
            after["version"] = row.version
    if kind.versioned and not changed:
        before["version"] = after["version"] = row.version
    row.updated_at = now
    row.retired_at = None
    if restored:
        changes.restored.append(row.id)
        action = "restored"
        after["reason"] = "back in the data map files"
    else:
        changes.changed.append(row.id)
        action = "new_version" if kind.versioned else "updated"
    return EventSpec(
        f"{kind.entity_type}.{action}", kind.entity_type, row.id, before=before, after=after
    )
