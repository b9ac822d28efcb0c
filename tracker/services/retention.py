"""Retention duties derived from the data map's retention rules, each tracked as an obligation.

`sync_retention_duties` runs at the end of every data map load, in its transaction: it derives
the duties from the stored activities (tracker.domain.retention) and stores each one as an
obligation of the tracker-made RETENTION instrument with the catalog loader's own building
blocks, so a changed period makes a new version and turns the duty's links suspect exactly as
a catalog change does. The schedule page reads them in services/retention_schedule.py.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from tracker.bulk import is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.catalog_rules import RETENTION_INSTRUMENT, Located
from tracker.domain.data_map_schema import ActivitySpec
from tracker.domain.retention import (
    RETENTION_JURISDICTION,
    RETENTION_REFERENCE_URL,
    RETENTION_SHORT_NAME,
    RETENTION_TITLE,
    ActivitySource,
    RetentionDutySpec,
    derive_duties,
    duty_obligation,
)
from tracker.models import (
    DataSystem,
    Instrument,
    Obligation,
    ObligationVersion,
    ProcessingActivity,
    RetentionDuty,
    utcnow,
)
from tracker.services.audit import EventSpec, record_events

# The catalog loader's building blocks: a duty's obligation row, its versions and its audit
# events are made exactly as a catalog obligation's are.
from tracker.services.obligation_rows import (
    RowChanges,
    expire_catalog_objects,
    new_obligation_row,
    update_obligation_row,
    version_row,
    without_id,
)

RETIRED_REASON = "no retention rule of the data map keeps this data there any more"
_DUTY_FIELDS = ("data_category", "system_id", "period", "period_days", "trigger", "activities")


@dataclass
class RetentionSync:
    """What a sync of the retention duties added, changed and retired (obligation ids)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    #: Duties whose obligation got a new version (their links now need review).
    new_versions: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        """Return one line a person can read."""
        return (
            f"Retention duties: {len(self.added)} added, {len(self.changed)} changed "
            f"({len(self.new_versions)} with a new version, their links now need review), "
            f"{len(self.restored)} restored, {len(self.retired)} retired, "
            f"{self.unchanged} unchanged."
        )


def sync_retention_duties(*, session: Session, actor: Actor) -> RetentionSync:
    """Derive the retention duties from the stored activities and store them as obligations."""
    session.flush()
    report = RetentionSync()
    now = utcnow()
    stored = {row.obligation_id: row for row in session.exec(select(RetentionDuty)).all()}
    existing_ids = {
        (row.data_category, row.system_id): row.obligation_id for row in stored.values()
    }
    systems = session.exec(select(DataSystem.id, DataSystem.name, DataSystem.owner)).all()
    duties = derive_duties(
        _activities(session),
        {row[0]: row[1] for row in systems},
        existing_ids,
        {row[0]: row[2] for row in systems},
    )
    if duties:
        _upsert_instrument(session, duties)
    events: list[EventSpec] = []
    touched = _upsert_obligations(session, duties, now, report, events)
    derived = {duty.obligation_id for duty in duties}
    retired = _retire_obligations(session, derived, now, events)
    events += _upsert_duties(session, duties, stored, now, report)
    for obligation_id, row in stored.items():
        if obligation_id not in derived and row.retired_at is None:
            row.retired_at = now
            session.add(row)
            retired.add(obligation_id)
            events.append(
                EventSpec(
                    "retention_duty.retired",
                    "obligation",
                    obligation_id,
                    before=_duty_state(row),
                    after={"reason": RETIRED_REASON},
                )
            )
    report.retired = sorted(retired)
    settled = set(report.added) | set(report.restored)
    report.changed = sorted((set(report.changed) | touched) - settled)
    report.unchanged = len(duties) - len(settled) - len(report.changed)
    session.flush()
    expire_catalog_objects(session)
    record_events(session=session, actor=actor, events=events)
    return report


# --- reading the data map back ----------------------------------------------------------------


def _activities(session: Session) -> list[ActivitySource]:
    rows = session.exec(
        select(ProcessingActivity).where(col(ProcessingActivity.retired_at).is_(None))
    ).all()
    return [
        ActivitySource(ActivitySpec.model_validate(row.spec), row.source_file, row.source_line)
        for row in rows
    ]


# --- writing the duties -----------------------------------------------------------------------


def _upsert_instrument(session: Session, duties: Sequence[RetentionDutySpec]) -> None:
    files = sorted({duty.file for duty in duties if duty.file})
    source = posixpath.commonpath(files) if len(files) > 1 else (files[0] if files else "")
    row = session.get(Instrument, RETENTION_INSTRUMENT) or Instrument(
        id=RETENTION_INSTRUMENT,
        title=RETENTION_TITLE,
        short_name=RETENTION_SHORT_NAME,
        jurisdiction=RETENTION_JURISDICTION,
        official_url=RETENTION_REFERENCE_URL,
        source_file=source,
    )
    wanted = {
        "title": RETENTION_TITLE,
        "short_name": RETENTION_SHORT_NAME,
        "jurisdiction": RETENTION_JURISDICTION,
        "official_url": RETENTION_REFERENCE_URL,
        "source_file": source,
        "retired_at": None,
    }
    if any(getattr(row, name) != value for name, value in wanted.items()) or row not in session:
        for name, value in wanted.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()


def _upsert_obligations(
    session: Session,
    duties: Sequence[RetentionDutySpec],
    now: datetime,
    report: RetentionSync,
    events: list[EventSpec],
) -> set[str]:
    """Create or update each duty's obligation; return the ids whose obligation row changed."""
    table = table_of(Obligation)
    existing = {
        row["id"]: row
        for row in session.execute(
            table.select().where(table.c.instrument_id == RETENTION_INSTRUMENT)
        ).mappings()
    }
    scratch = RowChanges()
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for duty in duties:
        spec = duty_obligation(duty)
        located = Located(
            spec=spec, instrument_id=RETENTION_INSTRUMENT, file=duty.file, line=duty.line
        )
        content = spec.model_dump(mode="json")
        current = existing.get(spec.id)
        if current is None:
            row = new_obligation_row(located, content, now)
            created.append(row)
            versions.append(version_row(row, content))
            events.append(
                EventSpec("obligation.created", "obligation", spec.id, after={"version": 1})
            )
            continue
        updated = update_obligation_row(current, located, content, now, scratch, events)
        if updated is None:
            continue
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
    report.new_versions = sorted(scratch.new_versions)
    report.restored = sorted(scratch.restored)
    return {row["id"] for row in changed}


def _retire_obligations(
    session: Session, derived: set[str], now: datetime, events: list[EventSpec]
) -> set[str]:
    table = table_of(Obligation)
    current = session.execute(
        table.select()
        .with_only_columns(table.c.id, table.c.lifecycle_status)
        .where(table.c.instrument_id == RETENTION_INSTRUMENT, table.c.retired_at.is_(None))
    ).all()
    gone = {
        obligation_id: status for obligation_id, status in current if obligation_id not in derived
    }
    if not gone:
        return set()
    session.execute(
        update(table)
        .where(is_one_of(session, table.c.id, sorted(gone)))
        .values(retired_at=now, lifecycle_status="retired")
    )
    for obligation_id, status in sorted(gone.items()):
        events.append(
            EventSpec(
                "obligation.retired",
                "obligation",
                obligation_id,
                before={"lifecycle_status": status},
                after={"lifecycle_status": "retired", "reason": RETIRED_REASON},
            )
        )
    return set(gone)


def _upsert_duties(
    session: Session,
    duties: Sequence[RetentionDutySpec],
    stored: dict[str, RetentionDuty],
    now: datetime,
    report: RetentionSync,
) -> list[EventSpec]:
    events = []
    for duty in duties:
        wanted: dict[str, Any] = {
            "data_category": duty.data_category,
            "system_id": duty.system_id,
            "period": duty.period,
            "period_days": duty.period_days,
            "trigger": duty.trigger,
            "activities": list(duty.activities),
            "purposes": [purpose.to_json() for purpose in duty.purposes],
        }
        row = stored.get(duty.obligation_id)
        if row is None:
            session.add(RetentionDuty(obligation_id=duty.obligation_id, **wanted))
            report.added.append(duty.obligation_id)
            events.append(
                EventSpec(
                    "retention_duty.created", "obligation", duty.obligation_id, after=_state(wanted)
                )
            )
            continue
        before = _duty_state(row)
        differs = [name for name, value in wanted.items() if getattr(row, name) != value]
        if not differs and row.retired_at is None:
            continue
        for name, value in wanted.items():
            setattr(row, name, value)
        was_retired = row.retired_at is not None
        row.retired_at = None
        session.add(row)
        if not was_retired:
            report.changed.append(duty.obligation_id)
        events.append(
            EventSpec(
                "retention_duty.restored" if was_retired else "retention_duty.changed",
                "obligation",
                duty.obligation_id,
                before=before,
                after=_state(wanted),
            )
        )
    report.added.sort()
    return events


def _duty_state(row: RetentionDuty) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _DUTY_FIELDS}


def _state(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in _DUTY_FIELDS}
