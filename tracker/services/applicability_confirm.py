"""Legal confirms the data map's applicability proposals in bulk (the page's and `--all`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from tracker.bulk import table_of
from tracker.domain.access import Actor
from tracker.domain.applicability_decisions import DecisionState
from tracker.domain.applicability_vocabulary import PROPOSAL_WORDS, ProposalKind
from tracker.errors import ValidationError
from tracker.models import ApplicabilityDecision, utcnow
from tracker.services.applicability_proposals import DecisionView, ProposalRow, proposal_rows
from tracker.services.audit import EventSpec, record_events

#: The most obligations one confirmation takes (a page lists fewer; the CLI's --all as many).
MAX_CONFIRM = 20_000
#: Longest justification a confirmation writes (the proposal's reasons, joined).
MAX_JUSTIFICATION = 4000


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
    found = {row.obligation_id: row for row in proposal_rows(session, *wanted)}
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
