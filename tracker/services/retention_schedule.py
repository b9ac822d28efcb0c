"""The retention schedule page's reading: every current duty with its evidence and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tracker.domain.retention import RetentionPurpose
from tracker.domain.status import StatusResult
from tracker.models import DataSystem, RetentionDuty
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import build_matrix


@dataclass(frozen=True)
class ScheduleTest:
    """A test linked to a duty, with its latest result in the evidence scope."""

    test_id: str
    outcome: str | None  # passed, failed, error, skipped; None: not run in scope
    suspect: bool


@dataclass(frozen=True)
class ScheduleWorkItem:
    """A Jira work item linked to a duty."""

    key: str
    summary: str
    status: str
    url: str | None
    missing: bool
    suspect: bool


@dataclass(frozen=True)
class ScheduleRow:
    """One retention duty as the schedule shows it."""

    obligation_id: str
    title: str
    data_category: str
    system_id: str
    system_name: str
    period: str
    period_days: int
    trigger: str
    activities: tuple[str, ...]
    purposes: tuple[RetentionPurpose, ...]
    result: StatusResult
    tests: tuple[ScheduleTest, ...]
    work_items: tuple[ScheduleWorkItem, ...]

    @property
    def shorter(self) -> tuple[RetentionPurpose, ...]:
        """Return the other activities' purposes, shown as notes."""
        return self.purposes[1:]


@dataclass(frozen=True)
class RetentionSchedule:
    """The retention schedule: every current duty with its evidence and status."""

    rows: list[ScheduleRow]
    generated_at: datetime
    #: What the evidence scope lacks, in words (no run reported there).
    notes: tuple[str, ...] = ()


def retention_schedule(session: Session, scope: EvidenceScope | None = None) -> RetentionSchedule:
    """Return every current retention duty with its links, latest results and status.

    The statuses come from one matrix computation over the duties only.
    """
    duties = session.exec(
        select(RetentionDuty)
        .where(col(RetentionDuty.retired_at).is_(None))
        .order_by(col(RetentionDuty.data_category), col(RetentionDuty.system_id))
    ).all()
    ids = [duty.obligation_id for duty in duties]
    data = build_matrix(session=session, scope=scope, obligation_ids=ids)
    matrix_rows = {row.id: row for row in data.rows}
    names = _system_names(session)
    rows = []
    for duty in duties:
        matrix_row = matrix_rows.get(duty.obligation_id)
        facts = data.facts.get(duty.obligation_id)
        if matrix_row is None or facts is None:
            continue  # its obligation was retired by hand or is not assessable
        rows.append(
            ScheduleRow(
                obligation_id=duty.obligation_id,
                title=matrix_row.title,
                data_category=duty.data_category,
                system_id=duty.system_id,
                system_name=names.get(duty.system_id) or duty.system_id,
                period=duty.period,
                period_days=duty.period_days,
                trigger=duty.trigger,
                activities=tuple(duty.activities),
                purposes=tuple(_purpose(item) for item in duty.purposes),
                result=matrix_row.result,
                tests=tuple(
                    ScheduleTest(
                        test_id=test.test_id,
                        outcome=test.latest.outcome if test.latest else None,
                        suspect=test.suspect,
                    )
                    for test in facts.tests
                ),
                work_items=tuple(
                    ScheduleWorkItem(
                        key=item.key,
                        summary=item.summary,
                        status=item.status or item.status_category,
                        url=item.url,
                        missing=item.missing,
                        suspect=item.suspect,
                    )
                    for item in matrix_row.work_items
                ),
            )
        )
    return RetentionSchedule(rows=rows, generated_at=data.generated_at, notes=data.notes)


def _system_names(session: Session) -> dict[str, str]:
    return {row[0]: row[1] for row in session.exec(select(DataSystem.id, DataSystem.name)).all()}


def _purpose(item: dict[str, Any]) -> RetentionPurpose:
    return RetentionPurpose(
        activity_id=str(item.get("activity", "")),
        activity_name=str(item.get("activity_name", "")),
        period=str(item.get("period", "")),
        period_days=int(item.get("period_days", 0)),
        trigger=str(item.get("trigger", "")),
        note=item.get("note"),
    )
