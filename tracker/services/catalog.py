"""Loading a validated catalog into the database: versions, mappings, retirement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from tracker.domain.access import Actor
from tracker.domain.catalog_rules import Catalog, Located, fingerprint, sort_key
from tracker.domain.catalog_schema import InstrumentSpec
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
    """Upsert a valid catalog; the caller's transaction makes it all or nothing."""
    if not catalog.ok:
        raise CatalogError(
            f"The catalog has {len(catalog.problems)} problem(s); nothing was loaded. "
            "Run `tracker catalog validate` to see them.",
            list(catalog.problems),
        )
    report = CatalogLoadReport()
    events: list[EventSpec] = []
    now = utcnow()
    _upsert_instruments(session, catalog.instruments)
    report.instruments = len(catalog.instruments)
    report.size = catalog.size()

    existing = {ob.id: ob for ob in session.exec(select(Obligation)).all()}
    seen: set[str] = set()
    for located in catalog.obligations:
        seen.add(located.spec.id)
        current = existing.get(located.spec.id)
        if current is None:
            obligation = _new_obligation(located, now)
            session.add(obligation)
            existing[obligation.id] = obligation
            _add_version(session, obligation, located)
            report.created.append(obligation.id)
        else:
            _update_obligation(session, current, located, now, report, events)
    session.flush()
    for obligation_id, obligation in existing.items():
        if obligation_id not in seen and obligation.retired_at is None:
            before = {"lifecycle_status": obligation.lifecycle_status}
            obligation.retired_at = now
            obligation.lifecycle_status = "retired"
            session.add(obligation)
            report.retired.append(obligation_id)
            events.append(
                EventSpec(
                    "obligation.retired",
                    "obligation",
                    obligation_id,
                    before=before,
                    after={
                        "lifecycle_status": "retired",
                        "reason": "removed from the catalog files",
                    },
                )
            )
    _replace_mappings(session, catalog.obligations)
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


def _fields(located: Located) -> dict[str, Any]:
    spec = located.spec
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
        "applicability": spec.applicability.model_dump(mode="json"),
        "parameters": [p.model_dump(mode="json") for p in spec.parameters],
        "evidence": [e.model_dump(mode="json") for e in spec.evidence],
        "tags": list(spec.tags),
        "sort_key": sort_key(spec.id),
        "source_file": located.file,
        "source_line": located.line,
    }


def _new_obligation(located: Located, now: Any) -> Obligation:
    return Obligation(
        id=located.spec.id,
        version=1,
        fingerprint=fingerprint(located.spec),
        created_at=now,
        updated_at=now,
        **_fields(located),
    )


def _add_version(session: Session, obligation: Obligation, located: Located) -> None:
    session.add(
        ObligationVersion(
            obligation_id=obligation.id,
            version=obligation.version,
            fingerprint=obligation.fingerprint,
            content=located.spec.model_dump(mode="json"),
        )
    )


_TRACKED = (
    "summary",
    "title",
    "citation",
    "severity",
    "tags",
    "parameters",
    "evidence",
    "lifecycle_status",
)


def _update_obligation(
    session: Session,
    current: Obligation,
    located: Located,
    now: Any,
    report: CatalogLoadReport,
    events: list[EventSpec],
) -> None:
    new_fingerprint = fingerprint(located.spec)
    fields = _fields(located)
    changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
    was_retired = current.retired_at is not None
    if new_fingerprint == current.fingerprint and not changed and not was_retired:
        report.unchanged += 1
        return
    before = {name: _jsonable(getattr(current, name)) for name in _TRACKED if name in changed}
    for name, value in fields.items():
        setattr(current, name, value)
    current.updated_at = now
    current.retired_at = None
    if was_retired:
        report.restored.append(current.id)
    if new_fingerprint != current.fingerprint:
        current.version += 1
        current.fingerprint = new_fingerprint
        _add_version(session, current, located)
        report.new_versions.append(current.id)
        action = "obligation.new_version"
    else:
        report.updated.append(current.id)
        action = "obligation.updated"
    session.add(current)
    if action == "obligation.updated" and not before and not was_retired:
        return  # only where it sits in the files moved: nothing a reader of the trail needs
    events.append(
        EventSpec(
            action,
            "obligation",
            current.id,
            before=before
            | {"version": current.version - (1 if action.endswith("new_version") else 0)},
            after={name: _jsonable(getattr(current, name)) for name in before}
            | {"version": current.version},
        )
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _replace_mappings(session: Session, obligations: tuple[Located, ...]) -> None:
    wanted = {
        (located.spec.id, mapping.target): mapping
        for located in obligations
        for mapping in located.spec.mappings
    }
    existing = {
        (row.source_id, row.target_id): row for row in session.exec(select(ObligationMapping)).all()
    }
    for pair, row in existing.items():
        if pair not in wanted:
            session.delete(row)
    for pair, mapping in wanted.items():
        row = existing.get(pair) or ObligationMapping(
            source_id=pair[0], target_id=pair[1], relationship=""
        )
        row.relationship = mapping.relationship
        row.notes = mapping.notes
        session.add(row)
