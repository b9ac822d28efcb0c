"""Legal's decision against the data map's proposal: confirmed, overridden or to review."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.applicability_vocabulary import PROPOSAL_WORDS, ProposalKind


class DecisionState(StrEnum):
    """Where legal's decision stands against the current proposal."""

    UNDECIDED = "undecided"  # no decision yet (the obligation counts as applicable)
    CONFIRMED = "confirmed"  # the decision agrees with the proposal, made against it as it is
    OVERRIDDEN = "overridden"  # the decision disagrees, made against the proposal as it is
    NEEDS_REVIEW = "needs_review"  # the proposal changed since, or disagrees with no basis


@dataclass(frozen=True)
class DecisionFacts:
    """What the proposal is compared with: legal's current decision and the proposal it saw."""

    not_applicable: bool
    basis_proposal: str | None = None
    basis_fingerprint: str | None = None


def agrees(proposal: ProposalKind, not_applicable: bool) -> bool:
    """Tell whether a decision says what the proposal says (any decision settles `unknown`)."""
    if proposal is ProposalKind.UNKNOWN:
        return True
    return not_applicable == (proposal is ProposalKind.NOT_APPLICABLE)


def decision_state(
    proposal: ProposalKind, fingerprint: str, decision: DecisionFacts | None
) -> DecisionState:
    """Return where the decision stands against the current proposal.

    A decision needs a review when the proposal it was made against said something else
    (applicable, not applicable, unknown), or when it was made before any proposal existed and
    now disagrees. New reasons or activities behind the same proposal do not reopen it: legal
    decided whether the obligation applies, and that answer has not moved. `fingerprint` is
    the current proposal's, kept for callers that show which proposal a decision saw.
    """
    del fingerprint  # the kind decides; see the docstring
    if decision is None:
        return DecisionState.UNDECIDED
    agreeing = agrees(proposal, decision.not_applicable)
    if decision.basis_proposal is None:
        return DecisionState.CONFIRMED if agreeing else DecisionState.NEEDS_REVIEW
    if decision.basis_proposal != proposal.value:
        return DecisionState.NEEDS_REVIEW
    return DecisionState.CONFIRMED if agreeing else DecisionState.OVERRIDDEN


def review_note(proposal: ProposalKind, decision: DecisionFacts) -> str:
    """Say what changed since a decision that needs a review."""
    now = PROPOSAL_WORDS[proposal]
    verdict = "does not apply" if decision.not_applicable else "applies"
    if decision.basis_fingerprint is None:
        return (
            f"Legal decided that it {verdict} before the data map proposed anything; "
            f"the data map now proposes “{now}”."
        )
    basis = {kind.value: kind for kind in ProposalKind}.get(decision.basis_proposal or "")
    if basis is not proposal:
        before = PROPOSAL_WORDS[basis] if basis is not None else "unknown"
        return (
            f"Legal decided that it {verdict} against the proposal “{before}”; the data map "
            f"now proposes “{now}”."
        )
    return f"Legal decided that it {verdict}; the data map proposes “{now}”."
