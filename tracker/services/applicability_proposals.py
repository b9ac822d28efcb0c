"""Applicability proposed from the data map: stored per obligation, compared with decisions.

`refresh_proposals` runs at the end of every data map load and catalog load, in its
transaction: it recomputes every current obligation's proposal from the stored data map
(tracker.domain.applicability) and writes only the rows that changed. A decision made against
a proposal whose fingerprint has since moved on needs a review, as a suspect link does.
`confirm_proposals` records legal's decisions that agree with the proposals, in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from tracker.bulk import is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.applicability import (
    PROPOSAL_WORDS,
    ActivityFacts,
    DecisionFacts,
    DecisionState,
    ObligationTags,
    Proposal,
    ProposalKind,
    RetentionFacts,
    SystemFacts,
    decision_state,
    propose,
    review_note,
)
from tracker.errors import ValidationError
from tracker.models import (
    ApplicabilityDecision,
    ApplicabilityProposal,
    DataSystem,
    Obligation,
    ProcessingActivity,
    RetentionDuty,
    as_utc,
    utcnow,
)
from tracker.services.audit import EventSpec, record_event, record_events

#: How many obligation ids the refresh's audit event lists by name (the counts are complete).
AUDIT_LISTED = 200
#: The most obligations one confirmation takes (a page lists fewer; the CLI's --all as many).
MAX_CONFIRM = 20_000
#: Up to how many ids a look-up names them in the query (more are filtered after reading).
_FEW = 500
#: Longest justification a confirmation writes (the proposal's reasons, joined).
MAX_JUSTIFICATION = 4000


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


@dataclass
class ConfirmReport:
    """What a confirmation recorded: obligations confirmed, and those already confirmed."""

    confirmed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Obligations whose decision overrides the proposal: kept (changed on their own page).
    overrides_kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return one line a person can read."""
        done = f"Confirmed {len(self.confirmed)} proposal(s)"
        if self.unchanged:
            done += f"; {len(self.unchanged)} already confirmed, left as they were"
        if self.overrides_kept:
            done += (
                f"; {len(self.overrides_kept)} overridden by legal, kept (change them on their "
                f"obligation pages: {_listed(self.overrides_kept)})"
            )
        return done + "."


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
    rows = _rows(session)
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
    rows = _rows(session, obligation_id)
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


def confirm_proposals(
    *,
    session: Session,
    obligation_ids: Iterable[str],
    actor: Actor,
    seen: Mapping[str, str] | None = None,
) -> ConfirmReport:
    """Record decisions that agree with the current proposals of the obligations given.

    All or nothing: an obligation without a proposal, or whose proposal is `unknown` (the data
    map cannot decide it), refuses the whole confirmation with what to do. An obligation whose
    current decision already confirms the current proposal is left as it is, and so is one
    whose decision overrides it. `seen` maps obligation ids to the proposal the person was
    shown (`applicable`, `not_applicable`): when the data map has changed one since, nothing is
    confirmed, so nobody records a proposal they never saw.
    """
    wanted = list(dict.fromkeys(obligation_ids))
    if not wanted:
        raise ValidationError(
            "Choose at least one obligation whose proposal to confirm.", field="obligation"
        )
    if len(wanted) > MAX_CONFIRM:
        raise ValidationError(
            f"Confirm at most {MAX_CONFIRM:,} proposals at a time.", field="obligation"
        )
    found = {row.obligation_id: row for row in _rows(session, *wanted)}
    missing = [obligation_id for obligation_id in wanted if obligation_id not in found]
    if missing:
        raise ValidationError(
            f"No proposal for {_listed(missing)}: only a current obligation that can be assessed "
            "has one (a grouping entry or a retired one has none). Nothing was confirmed.",
            field="obligation",
        )
    unknown = [key for key in wanted if found[key].proposal is ProposalKind.UNKNOWN]
    if unknown:
        raise ValidationError(
            f"The data map cannot decide {_listed(unknown)} (its proposal is “unknown”), so "
            "there is nothing to confirm: decide it on its obligation page. Nothing was "
            "confirmed.",
            field="obligation",
        )
    moved = [
        key for key in wanted if seen and key in seen and seen[key] != found[key].proposal.value
    ]
    if moved:
        raise ValidationError(
            f"The data map's proposal for {_listed(moved)} changed after the page was shown. "
            "Nothing was confirmed: look at the list again and confirm what it says now.",
            field="obligation",
        )
    report = ConfirmReport()
    decisions: list[dict[str, Any]] = []
    events: list[EventSpec] = []
    now = utcnow()
    for obligation_id in wanted:
        row = found[obligation_id]
        if row.state is DecisionState.OVERRIDDEN:
            report.overrides_kept.append(obligation_id)
            continue
        if not row.confirmable:
            report.unchanged.append(obligation_id)
            continue
        not_applicable = row.proposal is ProposalKind.NOT_APPLICABLE
        justification = _justification(row)
        decisions.append(
            {
                "obligation_id": obligation_id,
                "not_applicable": not_applicable,
                "justification": justification,
                "decided_by": actor.label,
                "decided_role": actor.role.value if actor.role else None,
                "decided_at": now,
                "basis_proposal": row.proposal.value,
                "basis_fingerprint": row.fingerprint,
            }
        )
        events.append(
            EventSpec(
                "applicability.decided",
                "obligation",
                obligation_id,
                before=_decision_content(row.decision),
                after={
                    "not_applicable": not_applicable,
                    "justification": justification,
                    "confirmed_proposal": row.proposal.value,
                    "basis_fingerprint": row.fingerprint,
                },
            )
        )
        report.confirmed.append(obligation_id)
    if decisions:
        session.execute(insert(table_of(ApplicabilityDecision)), decisions)
        record_events(session=session, actor=actor, events=events)
    return report


def _rows(session: Session, *obligation_ids: str) -> list[ProposalRow]:
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


def _justification(row: ProposalRow) -> str:
    verdict = PROPOSAL_WORDS[row.proposal]
    text = f"Confirmed the data map's proposal “{verdict}”: " + " ".join(row.reasons)
    return text if len(text) <= MAX_JUSTIFICATION else text[: MAX_JUSTIFICATION - 1] + "…"


def _decision_content(decision: DecisionView | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"not_applicable": decision.not_applicable, "justification": decision.justification}


def _listed(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
