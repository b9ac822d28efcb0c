"""The stored applicability proposals as pages read them: listed with counts, one at a time.

Each row carries legal's current decision and where it stands against the proposal
(tracker.domain.applicability_decisions). The proposals are written by `refresh_proposals`
(services/applicability_refresh.py) and confirmed by `confirm_proposals`
(services/applicability_confirm.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as core_select
from sqlmodel import Session, col

from tracker.bulk import is_one_of, table_of
from tracker.domain.applicability_decisions import (
    DecisionFacts,
    DecisionState,
    decision_state,
    review_note,
)
from tracker.domain.applicability_vocabulary import ProposalKind
from tracker.models import (
    ApplicabilityDecision,
    ApplicabilityProposal,
    Obligation,
    ProcessingActivity,
    as_utc,
)

#: Up to how many ids a look-up names them in the query (more are filtered after reading).
_FEW = 500


@dataclass(frozen=True)
class DecisionView:
    """Legal's current decision on an obligation, as the proposal pages show it."""

    not_applicable: bool
    justification: str
    decided_by: str
    decided_role: str | None
    decided_at: datetime
    basis_proposal: str | None
    basis_fingerprint: str | None

    def facts(self) -> DecisionFacts:
        """Return what the domain compares with the proposal."""
        return DecisionFacts(self.not_applicable, self.basis_proposal, self.basis_fingerprint)


@dataclass(frozen=True)
class ProposalRow:
    """One obligation's proposal, its decision and where the decision stands."""

    obligation_id: str
    title: str
    instrument_id: str
    proposal: ProposalKind
    reasons: tuple[str, ...]
    activities: tuple[str, ...]
    fingerprint: str
    computed_at: datetime
    state: DecisionState
    decision: DecisionView | None
    #: What changed since the decision, when it needs a review ("" otherwise).
    review_note: str

    @property
    def confirmable(self) -> bool:
        """Tell whether confirming may record something: a definite proposal not yet decided
        against (or needing a review). An override is changed on the obligation page only, so a
        bulk confirmation never reverses one."""
        return self.proposal is not ProposalKind.UNKNOWN and self.state in (
            DecisionState.UNDECIDED,
            DecisionState.NEEDS_REVIEW,
        )


@dataclass(frozen=True)
class ProposalList:
    """The proposals that match the filters, and the counts by proposal and decision state."""

    rows: list[ProposalRow]
    #: Counts over the obligations that match the instrument and text filters.
    by_proposal: dict[ProposalKind, int]
    by_state: dict[DecisionState, int]
    total: int
    instruments: list[str]


@dataclass(frozen=True)
class ActivityRef:
    """A triggering activity with its name (None when it is no longer in the data map)."""

    id: str
    name: str | None


@dataclass(frozen=True)
class ProposalDetail:
    """What the obligation page shows under “Does it apply?”."""

    row: ProposalRow
    activities: list[ActivityRef]


def current_decisions(
    session: Session, obligation_ids: Sequence[str] | None = None
) -> dict[str, DecisionView]:
    """Return the newest applicability decision of each obligation (of those given)."""
    query = core_select(
        col(ApplicabilityDecision.obligation_id),
        col(ApplicabilityDecision.not_applicable),
        col(ApplicabilityDecision.justification),
        col(ApplicabilityDecision.decided_by),
        col(ApplicabilityDecision.decided_role),
        col(ApplicabilityDecision.decided_at),
        col(ApplicabilityDecision.basis_proposal),
        col(ApplicabilityDecision.basis_fingerprint),
    ).order_by(col(ApplicabilityDecision.decided_at), col(ApplicabilityDecision.id))
    if obligation_ids is not None:
        if not obligation_ids:
            return {}
        query = query.where(
            is_one_of(session, col(ApplicabilityDecision.obligation_id), list(obligation_ids))
        )
    decisions: dict[str, DecisionView] = {}
    for row in session.connection().execute(query).all():
        obligation_id, not_applicable, justification, by, role, at, basis, basis_fingerprint = row
        decisions[obligation_id] = DecisionView(
            not_applicable=bool(not_applicable),
            justification=justification,
            decided_by=by,
            decided_role=role,
            decided_at=as_utc(at),
            basis_proposal=basis,
            basis_fingerprint=basis_fingerprint,
        )
    return decisions


def list_proposals(
    session: Session,
    *,
    proposal: ProposalKind | None = None,
    state: DecisionState | None = None,
    instrument: str | None = None,
    text: str | None = None,
) -> ProposalList:
    """Return the proposals of current obligations, by catalog order, with the counts.

    The counts cover the obligations of the instrument and text filters, before the proposal
    and decision-state filters, so that each filter shows how many it would leave.
    """
    rows = proposal_rows(session)
    instruments = sorted({row.instrument_id for row in rows})
    if instrument:
        rows = [row for row in rows if row.instrument_id == instrument]
    if text:
        needle = text.casefold()
        rows = [
            row
            for row in rows
            if needle in row.obligation_id.casefold() or needle in row.title.casefold()
        ]
    by_proposal = {kind: 0 for kind in ProposalKind}
    by_state = {kind: 0 for kind in DecisionState}
    for row in rows:
        by_proposal[row.proposal] += 1
        by_state[row.state] += 1
    total = len(rows)
    if proposal is not None:
        rows = [row for row in rows if row.proposal is proposal]
    if state is not None:
        rows = [row for row in rows if row.state is state]
    return ProposalList(rows, by_proposal, by_state, total, instruments)


def proposal_for(session: Session, obligation_id: str) -> ProposalDetail | None:
    """Return an obligation's proposal with its decision and activities (None: no proposal)."""
    rows = proposal_rows(session, obligation_id)
    if not rows:
        return None
    row = rows[0]
    names: dict[str, str] = {}
    if row.activities:
        names = {
            activity_id: name
            for activity_id, name in session.connection()
            .execute(
                core_select(col(ProcessingActivity.id), col(ProcessingActivity.name)).where(
                    is_one_of(session, col(ProcessingActivity.id), list(row.activities)),
                    col(ProcessingActivity.retired_at).is_(None),
                )
            )
            .all()
        }
    return ProposalDetail(
        row=row,
        activities=[ActivityRef(activity, names.get(activity)) for activity in row.activities],
    )


def proposal_rows(session: Session, *obligation_ids: str) -> list[ProposalRow]:
    """Return the stored proposals of current obligations (all, or those given) in catalog order."""
    table = table_of(ApplicabilityProposal)
    query = (
        core_select(
            table.c.obligation_id,
            col(Obligation.title),
            col(Obligation.instrument_id),
            table.c.proposal,
            table.c.reasons,
            table.c.activities,
            table.c.fingerprint,
            table.c.computed_at,
        )
        .join(Obligation, col(Obligation.id) == table.c.obligation_id)
        .where(col(Obligation.retired_at).is_(None))
        .order_by(col(Obligation.sort_key))
    )
    # A few ids are looked up; many are filtered from the whole list (bounded by the catalog).
    few = 0 < len(obligation_ids) <= _FEW
    if few:
        query = query.where(is_one_of(session, table.c.obligation_id, list(obligation_ids)))
    found = session.connection().execute(query).all()
    if obligation_ids and not few:
        wanted = set(obligation_ids)
        found = [row for row in found if row[0] in wanted]
    decisions = current_decisions(session, list(obligation_ids) if few else None)
    rows = []
    for obligation_id, title, instrument_id, kind, reasons, activities, fingerprint, at in found:
        proposal = ProposalKind(kind)
        decision = decisions.get(obligation_id)
        facts = decision.facts() if decision is not None else None
        state = decision_state(proposal, fingerprint, facts)
        rows.append(
            ProposalRow(
                obligation_id=obligation_id,
                title=title,
                instrument_id=instrument_id,
                proposal=proposal,
                reasons=tuple(reasons or ()),
                activities=tuple(activities or ()),
                fingerprint=fingerprint,
                computed_at=as_utc(at),
                state=state,
                decision=decision,
                review_note=(
                    review_note(proposal, facts)
                    if facts is not None and state is DecisionState.NEEDS_REVIEW
                    else ""
                ),
            )
        )
    return rows
