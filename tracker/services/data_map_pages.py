"""What the data map pages and exports read: activities, systems, DPIAs, proposals, duties.

Each function runs a fixed number of queries whatever the size of the data map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast
from sqlmodel import Session, col, select

from tracker.domain.data_map_schema import ActivitySpec, DpiaSpec, SystemSpec
from tracker.errors import NotFoundError
from tracker.integrations.art30_export import Art30Record, art30_record
from tracker.models import (
    ApplicabilityProposal,
    DataSystem,
    Dpia,
    Obligation,
    ProcessingActivity,
    RetentionDuty,
)
from tracker.services.data_map import current_activities, current_dpias, current_systems


@dataclass(frozen=True)
class ActivityRow:
    """One activity of the data map with its stored version and its DPIA, if any."""

    spec: ActivitySpec
    version: int
    dpia_id: str | None


@dataclass(frozen=True)
class DataMapOverview:
    """Every current activity, and how many systems and DPIAs the data map has."""

    activities: list[ActivityRow]
    systems: int
    dpias: int

    @property
    def missing_dpias(self) -> list[str]:
        """Return the ids of the activities that need a DPIA and have none."""
        return [
            row.spec.id for row in self.activities if row.spec.dpia.required and not row.dpia_id
        ]


@dataclass(frozen=True)
class ProposedObligation:
    """An obligation whose applicability proposal names the activity."""

    obligation_id: str
    title: str
    proposal: str
    reasons: list[str]


@dataclass(frozen=True)
class DutyRow:
    """A retention duty derived from the activity's retention rules."""

    obligation_id: str
    title: str
    data_category: str
    system_id: str
    period: str
    trigger: str


@dataclass(frozen=True)
class ActivityDetail:
    """Everything the tracker knows about one activity."""

    spec: ActivitySpec
    version: int
    source: str
    systems: list[SystemSpec]
    unknown_systems: list[str]
    dpia: DpiaSpec | None
    obligations: list[ProposedObligation]
    duties: list[DutyRow]


@dataclass(frozen=True)
class SystemRow:
    """One system with the activities that run on it."""

    spec: SystemSpec
    activities: list[str]


def data_map_overview(*, session: Session) -> DataMapOverview:
    """Return the current activities with their DPIAs, and the counts of systems and DPIAs."""
    rows = session.exec(
        select(ProcessingActivity.spec, ProcessingActivity.version)
        .where(col(ProcessingActivity.retired_at).is_(None))
        .order_by(col(ProcessingActivity.id))
    ).all()
    dpias = session.exec(
        select(Dpia.id, Dpia.activity_id)
        .where(col(Dpia.retired_at).is_(None))
        .order_by(col(Dpia.id))
    ).all()
    dpia_of: dict[str, str] = {}
    for dpia_id, activity_id in dpias:
        dpia_of.setdefault(activity_id, dpia_id)
    systems = len(
        session.exec(select(DataSystem.id).where(col(DataSystem.retired_at).is_(None))).all()
    )
    activities = [
        ActivityRow(ActivitySpec.model_validate(spec), version, dpia_of.get(spec["id"]))
        for spec, version in rows
    ]
    return DataMapOverview(activities=activities, systems=systems, dpias=len(dpias))


def activity_detail(*, session: Session, activity_id: str) -> ActivityDetail:
    """Return one current activity with its systems, DPIA, proposed obligations and duties."""
    row = session.get(ProcessingActivity, activity_id)
    if row is None or row.retired_at is not None:
        raise NotFoundError(
            f"There is no processing activity '{activity_id}' in the data map: "
            "see the list of activities."
        )
    spec = ActivitySpec.model_validate(row.spec)
    stored = {
        system.id: SystemSpec.model_validate(system.spec)
        for system in session.exec(
            select(DataSystem).where(
                col(DataSystem.id).in_(spec.systems), col(DataSystem.retired_at).is_(None)
            )
        ).all()
    }
    dpia_row = session.exec(
        select(Dpia.spec)
        .where(Dpia.activity_id == activity_id, col(Dpia.retired_at).is_(None))
        .order_by(col(Dpia.id))
    ).first()
    return ActivityDetail(
        spec=spec,
        version=row.version,
        source=f"{row.source_file}:{row.source_line}",
        systems=[stored[system_id] for system_id in spec.systems if system_id in stored],
        unknown_systems=[system_id for system_id in spec.systems if system_id not in stored],
        dpia=DpiaSpec.model_validate(dpia_row) if dpia_row is not None else None,
        obligations=_proposed_obligations(session, activity_id),
        duties=_duties(session, activity_id),
    )


def systems_overview(*, session: Session) -> list[SystemRow]:
    """Return every current system with the current activities that run on it."""
    users: dict[str, list[str]] = {}
    for activity in current_activities(session):
        for system_id in activity.systems:
            users.setdefault(system_id, []).append(activity.id)
    return [SystemRow(system, users.get(system.id, [])) for system in current_systems(session)]


def art30_from_store(session: Session) -> Art30Record:
    """Return the Art. 30 record of the data map as loaded in the tracker."""
    return art30_record(
        current_activities(session), current_systems(session), current_dpias(session)
    )


# --- private helpers ---------------------------------------------------------------------------


def _names(column: Any, activity_id: str) -> Any:
    """Return a condition true when a JSON list of activity ids may hold the id (checked after).

    Activity ids are lower-case words and hyphens, so they hold no LIKE wildcard.
    """
    return cast(column, Text).like(f'%"{activity_id}"%')


def _proposed_obligations(session: Session, activity_id: str) -> list[ProposedObligation]:
    rows = session.exec(
        select(ApplicabilityProposal, Obligation.title)
        .join(Obligation, col(Obligation.id) == col(ApplicabilityProposal.obligation_id))
        .where(_names(ApplicabilityProposal.activities, activity_id))
        .order_by(col(Obligation.sort_key))
    ).all()
    return [
        ProposedObligation(proposal.obligation_id, title, proposal.proposal, list(proposal.reasons))
        for proposal, title in rows
        if activity_id in proposal.activities
    ]


def _duties(session: Session, activity_id: str) -> list[DutyRow]:
    rows = session.exec(
        select(RetentionDuty, Obligation.title)
        .join(Obligation, col(Obligation.id) == col(RetentionDuty.obligation_id))
        .where(
            _names(RetentionDuty.activities, activity_id),
            col(RetentionDuty.retired_at).is_(None),
        )
        .order_by(col(RetentionDuty.data_category), col(RetentionDuty.system_id))
    ).all()
    return [
        DutyRow(
            duty.obligation_id,
            title,
            duty.data_category,
            duty.system_id,
            duty.period,
            duty.trigger,
        )
        for duty, title in rows
        if activity_id in duty.activities
    ]
