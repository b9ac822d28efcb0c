"""Loading a validated catalog into the database: versions, mappings, retirement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, select

from tracker.bulk import is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.catalog_rules import RETENTION_INSTRUMENT, Catalog, Located
from tracker.domain.catalog_schema import InstrumentSpec
from tracker.errors import CatalogError
from tracker.models import Instrument, Obligation, ObligationMapping, ObligationVersion, utcnow
from tracker.services.audit import EventSpec, record_events
from tracker.services.obligation_rows import (
    RowChanges,
    expire_catalog_objects,
    new_obligation_row,
    update_obligation_row,
    version_row,
    without_id,
)


@dataclass
class CatalogLoadReport(RowChanges):
    """What a catalog load changed."""

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
            row = new_obligation_row(located, content, now, instrument)
            created.append(row)
            versions.append(version_row(row, content))
            report.created.append(located.spec.id)
            continue
        updated = update_obligation_row(current, located, content, now, report, events, instrument)
        if updated is not None:
            changed.append(updated)
            if updated["version"] != current["version"]:
                versions.append(version_row(updated, content))
    if created:
        session.execute(insert(table), created)
    if changed:
        session.execute(
            update(table).where(table.c.id == bindparam("current_id")),
            [{"current_id": row["id"]} | without_id(row) for row in changed],
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
    expire_catalog_objects(session)
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
