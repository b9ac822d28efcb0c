"""Applicability proposed from the data map: stored per obligation, compared with decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from tracker.domain.access import Actor


@dataclass
class ProposalRefresh:
    """What a refresh changed: proposals that moved, decisions that now need a review."""

    changed: list[str] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)


def refresh_proposals(*, session: Session, actor: Actor) -> ProposalRefresh:
    """Recompute every obligation's proposal from the stored data map and catalog."""
    # PLACEHOLDER until the applicability helper lands: nothing is proposed yet.
    return ProposalRefresh()
