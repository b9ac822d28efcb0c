"""Applicability proposals recomputed from the stored data map and catalog, in their load.

`refresh_proposals` runs at the end of every data map load and catalog load, in its
transaction: it recomputes every current obligation's proposal from the stored data map
(tracker.domain.applicability) and writes only the rows that changed. A decision made against
a proposal that has since changed needs a review, as a suspect link does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from tracker.bulk import is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.applicability import ObligationTags, Proposal, RetentionFacts, propose
from tracker.domain.applicability_decisions import DecisionState, decision_state
from tracker.domain.applicability_index import ActivityFacts, SystemFacts
from tracker.models import (
    ApplicabilityProposal,
    DataSystem,
    Obligation,
    ProcessingActivity,
    RetentionDuty,
    utcnow,
)
from tracker.services.applicability_proposals import current_decisions
from tracker.services.audit import record_event

#: How many obligation ids the refresh's audit event lists by name (the counts are complete).
AUDIT_LISTED = 200


@dataclass
class ProposalRefresh:
    """What a refresh changed: proposals that moved, decisions that now need a review."""

    changed: list[str] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)
    #: Of the changed: obligations proposed for the first time, and those no longer proposed.
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return one line a person can read."""
        return (
            f"Applicability proposals: {len(self.changed)} changed, "
            f"{len(self.needs_review)} decision(s) to review."
        )


def compute_proposals(session: Session) -> list[Proposal]:
    """Propose for every current assessable obligation from the stored data map."""
    rows = session.connection().execute
    obligations = [
        ObligationTags(obligation_id, applicability or {})
        for obligation_id, applicability in rows(
            core_select(col(Obligation.id), col(Obligation.applicability))
            .where(
                col(Obligation.assessable) == True,  # noqa: E712 - SQL expression
                col(Obligation.retired_at).is_(None),
                col(Obligation.lifecycle_status) != "retired",
            )
            .order_by(col(Obligation.sort_key))
        ).all()
    ]
    activities = [
        ActivityFacts.from_spec(spec)
        for (spec,) in rows(
            core_select(col(ProcessingActivity.spec)).where(
                col(ProcessingActivity.retired_at).is_(None)
            )
        ).all()
    ]
    systems = [
        SystemFacts.from_spec(spec)
        for (spec,) in rows(
            core_select(col(DataSystem.spec)).where(col(DataSystem.retired_at).is_(None))
        ).all()
    ]
    retention = [
        RetentionFacts(obligation_id, category, system_id, tuple(duty_activities or ()))
        for obligation_id, category, system_id, duty_activities in rows(
            core_select(
                col(RetentionDuty.obligation_id),
                col(RetentionDuty.data_category),
                col(RetentionDuty.system_id),
                col(RetentionDuty.activities),
            ).where(col(RetentionDuty.retired_at).is_(None))
        ).all()
    ]
    return propose(obligations, activities, systems, retention)


def refresh_proposals(*, session: Session, actor: Actor) -> ProposalRefresh:
    """Recompute every obligation's proposal from the stored data map and catalog.

    Only changed rows are written; rows of obligations that left the catalog are deleted. One
    audit event summarises a refresh that changed something.
    """
    session.flush()  # the data map or catalog load of this transaction must be visible
    proposals = compute_proposals(session)
    table = table_of(ApplicabilityProposal)
    stored = {
        obligation_id: (proposal, fingerprint)
        for obligation_id, proposal, fingerprint in session.connection()
        .execute(core_select(table.c.obligation_id, table.c.proposal, table.c.fingerprint))
        .all()
    }
    now = utcnow()
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    moves: dict[str, list[str | None]] = {}
    current: set[str] = set()
    for proposal in proposals:
        current.add(proposal.obligation_id)
        before = stored.get(proposal.obligation_id)
        if before is not None and before[1] == proposal.fingerprint:
            continue
        values = {
            "proposal": proposal.proposal.value,
            "reasons": list(proposal.reasons),
            "activities": list(proposal.activities),
            "fingerprint": proposal.fingerprint,
            "computed_at": now,
        }
        if before is None:
            created.append({"obligation_id": proposal.obligation_id, **values})
        else:
            changed.append({"current_id": proposal.obligation_id, **values})
        moves[proposal.obligation_id] = [before[0] if before else None, proposal.proposal.value]
    removed = sorted(set(stored) - current)
    for obligation_id in removed:
        moves[obligation_id] = [stored[obligation_id][0], None]
    if created:
        session.execute(insert(table), created)
    if changed:
        session.execute(
            update(table).where(table.c.obligation_id == bindparam("current_id")), changed
        )
    if removed:
        session.execute(delete(table).where(is_one_of(session, table.c.obligation_id, removed)))
    report = ProposalRefresh(
        changed=sorted(moves),
        added=sorted(row["obligation_id"] for row in created),
        removed=removed,
    )
    if not moves:
        return report
    by_id = {proposal.obligation_id: proposal for proposal in proposals}
    decisions = current_decisions(session, [key for key in moves if key in by_id])
    report.needs_review = sorted(
        obligation_id
        for obligation_id, decision in decisions.items()
        if decision_state(
            by_id[obligation_id].proposal, by_id[obligation_id].fingerprint, decision.facts()
        )
        is DecisionState.NEEDS_REVIEW
    )
    record_event(
        session=session,
        actor=actor,
        action="applicability.proposals_refreshed",
        entity_type="applicability",
        entity_id="proposals",
        after={
            "changed": len(report.changed),
            "added": len(report.added),
            "removed": len(report.removed),
            "needs_review": report.needs_review[:AUDIT_LISTED],
            "moves": {key: moves[key] for key in report.changed[:AUDIT_LISTED]},
        },
    )
    return report
