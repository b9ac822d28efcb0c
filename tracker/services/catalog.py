"""Loading a validated catalog into the database: versions, mappings, retirement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, select

from tracker.bulk import is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.catalog_rules import Catalog, Located, content_fingerprint, sort_key
from tracker.domain.catalog_schema import InstrumentSpec
from tracker.domain.retention import RETENTION_INSTRUMENT
from tracker.errors import CatalogError
from tracker.models import Instrument, Obligation, ObligationMapping, ObligationVersion, utcnow
from tracker.services.audit import EventSpec, record_events


@dataclass
class CatalogLoadReport:
    """What a catalog load changed."""

    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    instruments: int = 0
    size: str = ""  # "246 entries (202 obligations in 44 groups)"

    def summary(self) -> str:
        """Return one line a person can read."""
        return (
            f"{self.instruments} instruments; {self.size}: {len(self.created)} created, "
            f"{len(self.new_versions)} with a new version (their links now need review), "
            f"{len(self.updated)} updated without a new version, {self.unchanged} unchanged, "
            f"{len(self.retired)} retired, {len(self.restored)} restored."
        )


def load_catalog(*, session: Session, catalog: Catalog, actor: Actor) -> CatalogLoadReport:
    """Upsert a valid catalog; the caller's transaction makes it all or nothing.

    Rows are read and written with a fixed number of bulk statements (no object per row),
    whatever the size of the catalog.
    """
    if not catalog.ok:
        raise CatalogError(
            f"The catalog has {len(catalog.problems)} problem(s); nothing was loaded. "
            "Run `tracker catalog validate` to see them.",
            list(catalog.problems),
        )
    if any(spec.id == RETENTION_INSTRUMENT for spec, _file in catalog.instruments):
        raise CatalogError(
            f"The instrument id {RETENTION_INSTRUMENT} is the tracker's own (the retention "
            "duties derived from the data map): give the catalog's instrument another id."
        )
    report = CatalogLoadReport()
    events: list[EventSpec] = []
    now = utcnow()
    session.flush()  # what the caller changed through the session, before the bulk statements
    _upsert_instruments(session, catalog.instruments)
    report.instruments = len(catalog.instruments)
    report.size = catalog.size()

    table = table_of(Obligation)
    existing = {row["id"]: row for row in session.execute(table.select()).mappings()}
    seen: set[str] = set()
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    instruments = {spec.id: spec for spec, _file in catalog.instruments}
    for located in catalog.obligations:
        seen.add(located.spec.id)
        current = existing.get(located.spec.id)
        # One dump of the spec for its fields, its fingerprint and its version's content.
        content = located.spec.model_dump(mode="json")
        instrument = instruments.get(located.instrument_id)
        if current is None:
            row = _new_obligation(located, content, now, instrument)
            created.append(row)
            versions.append(_version(row, content))
            report.created.append(located.spec.id)
            continue
        updated = _update_obligation(current, located, content, now, report, events, instrument)
        if updated is not None:
            changed.append(updated)
            if updated["version"] != current["version"]:
                versions.append(_version(updated, content))
    if created:
        session.execute(insert(table), created)
    if changed:
        session.execute(
            update(table).where(table.c.id == bindparam("current_id")),
            [{"current_id": row["id"]} | _without_id(row) for row in changed],
        )
    if versions:
        session.execute(insert(table_of(ObligationVersion)), versions)
    retired = [
        obligation_id
        for obligation_id, row in existing.items()
        if obligation_id not in seen
        and row["retired_at"] is None
        # The retention duties come from the data map, not from the catalog files.
        and row["instrument_id"] != RETENTION_INSTRUMENT
    ]
    if retired:
        session.execute(
            update(table)
            .where(is_one_of(session, table.c.id, retired))
            .values(retired_at=now, lifecycle_status="retired")
        )
    for obligation_id in retired:
        report.retired.append(obligation_id)
        events.append(
            EventSpec(
                "obligation.retired",
                "obligation",
                obligation_id,
                before={"lifecycle_status": existing[obligation_id]["lifecycle_status"]},
                after={
                    "lifecycle_status": "retired",
                    "reason": "removed from the catalog files",
                },
            )
        )
    _replace_mappings(session, catalog.obligations)
    _expire_catalog_objects(session)
    events += [
        EventSpec("obligation.created", "obligation", obligation_id, after={"version": 1})
        for obligation_id in report.created
    ]
    # One bulk append: a first load of thousands of obligations costs a few statements.
    record_events(session=session, actor=actor, events=events)
    return report


def _upsert_instruments(
    session: Session, instruments: tuple[tuple[InstrumentSpec, str], ...]
) -> None:
    existing = {inst.id: inst for inst in session.exec(select(Instrument)).all()}
    for spec, file in instruments:
        row = existing.get(spec.id) or Instrument(
            id=spec.id, title="", short_name="", jurisdiction="", official_url="", source_file=""
        )
        row.title = spec.title
        row.short_name = spec.short_name or spec.id
        row.jurisdiction = spec.jurisdiction
        row.official_url = spec.official_url
        row.effective_date = spec.effective_date
        row.attribution = spec.attribution
        row.source_file = file
        row.retired_at = None
        session.add(row)
    session.flush()


def _fields(
    located: Located, content: dict[str, Any], instrument: InstrumentSpec | None = None
) -> dict[str, Any]:
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


def _new_obligation(
    located: Located,
    content: dict[str, Any],
    now: datetime,
    instrument: InstrumentSpec | None = None,
) -> dict[str, Any]:
    return {
        "id": located.spec.id,
        "version": 1,
        "fingerprint": content_fingerprint(content),
        "created_at": now,
        "updated_at": now,
        "retired_at": None,
        **_fields(located, content, instrument),
    }


def _version(row: Mapping[Any, Any], content: dict[str, Any]) -> dict[str, Any]:
    return {
        "obligation_id": row["id"],
        "version": row["version"],
        "fingerprint": row["fingerprint"],
        "content": content,
        "created_at": row["updated_at"],
    }


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
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


def _update_obligation(
    current: Mapping[Any, Any],
    located: Located,
    content: dict[str, Any],
    now: datetime,
    report: CatalogLoadReport,
    events: list[EventSpec],
    instrument: InstrumentSpec | None = None,
) -> dict[str, Any] | None:
    """Return the obligation's row as it is to be stored, or None when nothing changed."""
    new_fingerprint = content_fingerprint(content)
    fields = _fields(located, content, instrument)
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


def _replace_mappings(session: Session, obligations: tuple[Located, ...]) -> None:
    table = table_of(ObligationMapping)
    wanted = {
        (located.spec.id, mapping.target): mapping
        for located in obligations
        for mapping in located.spec.mappings
    }
    existing = {(row.source_id, row.target_id): row for row in session.execute(table.select())}
    gone = [row.id for pair, row in existing.items() if pair not in wanted]
    if gone:
        session.execute(delete(table).where(is_one_of(session, table.c.id, gone)))
    changed = [
        {
            "mapping_id": row.id,
            "relationship": wanted[pair].relationship,
            "notes": wanted[pair].notes,
        }
        for pair, row in existing.items()
        if pair in wanted
        and (row.relationship, row.notes) != (wanted[pair].relationship, wanted[pair].notes)
    ]
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("mapping_id")), changed)
    new = [
        {
            "source_id": pair[0],
            "target_id": pair[1],
            "relationship": mapping.relationship,
            "notes": mapping.notes,
        }
        for pair, mapping in wanted.items()
        if pair not in existing
    ]
    if new:
        session.execute(insert(table), new)


def _expire_catalog_objects(session: Session) -> None:
    """Make objects the session already holds read what the bulk statements wrote."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Obligation | ObligationVersion | ObligationMapping):
            session.expire(instance)
