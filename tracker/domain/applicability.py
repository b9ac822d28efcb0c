"""Applicability proposed from the data map: which processing activities make an obligation apply.

An activity triggers an obligation when, for every dimension the obligation's catalog entry
lists (roles, jurisdictions, data categories, surfaces), the activity matches at least one of
its values: roles by equality; jurisdictions through `within()` both ways (an activity in US-CA
is in the US, a nationwide US activity includes US-CA, the EU and the EEA are read as one);
data categories through CATEGORY_WORDS, from the catalog's words to Fides keys; surfaces
through the surfaces of the activity's systems.

Each dimension is true, false or undecidable (a value the data map cannot speak to: a data
category word without a mapping, a surface no system of the data map has). An obligation is
`applicable` when an active activity triggers it, `not_applicable` when every active activity
fails a decidable dimension, and `unknown` otherwise: no applicability tags, no data map, an
undecidable dimension, or only planned activities would trigger it (a planned activity does not
process data yet, so the data map cannot say; legal decides). Retired activities count for
nothing. Retention duties (obligations derived from the data map's retention rules) always
apply, with the activities that set them.

The activities are evaluated as bit sets (applicability_index); the proposal's words and the
category mapping are in applicability_vocabulary, legal's decisions against a proposal in
applicability_decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tracker.domain.applicability_index import ActivityFacts, ActivityIndex, Outcome, SystemFacts
from tracker.domain.applicability_vocabulary import DIMENSIONS, ProposalKind
from tracker.domain.canonical import canonical_json, sha256_hex


@dataclass(frozen=True)
class ObligationTags:
    """An obligation's id and its catalog applicability tags (dimension: values)."""

    id: str
    applicability: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class RetentionFacts:
    """A retention duty: the obligation that tracks it and the activities that set it."""

    obligation_id: str
    data_category: str
    system_id: str
    activities: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    """The data map's proposal for one obligation, with its reasons and triggering activities."""

    obligation_id: str
    proposal: ProposalKind
    reasons: tuple[str, ...]
    activities: tuple[str, ...]
    fingerprint: str


def proposal_fingerprint(
    proposal: ProposalKind | str, reasons: Iterable[str], activities: Iterable[str]
) -> str:
    """Return the SHA-256 of a proposal, its sorted reasons and its sorted activities."""
    return sha256_hex(
        canonical_json(
            {
                "proposal": str(proposal),
                "reasons": sorted(reasons),
                "activities": sorted(activities),
            }
        )
    )


def propose(
    obligations: Iterable[ObligationTags],
    activities: Iterable[ActivityFacts],
    systems: Iterable[SystemFacts],
    retention: Iterable[RetentionFacts] = (),
) -> list[Proposal]:
    """Propose, for each obligation in the order given, whether it applies and why."""
    index = ActivityIndex(list(activities), list(systems))
    duties = {duty.obligation_id: duty for duty in retention}
    outcomes: dict[tuple[tuple[str, tuple[str, ...]], ...], Outcome] = {}
    proposals = []
    for obligation in obligations:
        duty = duties.get(obligation.id)
        if duty is not None:
            proposals.append(_retention_proposal(obligation.id, duty))
            continue
        key = _tags_key(obligation.applicability)
        outcome = outcomes.get(key)
        if outcome is None:
            outcome = outcomes[key] = index.evaluate(dict(key))
        reasons = tuple(
            f"{obligation.id} applies: {reason}"
            if outcome.kind is ProposalKind.APPLICABLE and not reason.startswith("…")
            else reason
            for reason in outcome.reasons
        )
        proposals.append(
            Proposal(
                obligation_id=obligation.id,
                proposal=outcome.kind,
                reasons=reasons,
                activities=outcome.activities,
                fingerprint=proposal_fingerprint(outcome.kind, reasons, outcome.activities),
            )
        )
    return proposals


def _tags_key(
    applicability: Mapping[str, Sequence[str]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Return the non-empty dimensions as a hashable key, in the order of DIMENSIONS."""
    return tuple(
        (dimension, tuple(applicability[dimension]))
        for dimension in DIMENSIONS
        if applicability.get(dimension)
    )


def _retention_proposal(obligation_id: str, duty: RetentionFacts) -> Proposal:
    activities = tuple(sorted(duty.activities))
    named = ", ".join(f"`{activity}`" for activity in activities) or "no activity"
    reasons = (
        f"{obligation_id} applies: it is the retention duty for `{duty.data_category}` in "
        f"system `{duty.system_id}`, set by activity {named}.",
    )
    return Proposal(
        obligation_id=obligation_id,
        proposal=ProposalKind.APPLICABLE,
        reasons=reasons,
        activities=activities,
        fingerprint=proposal_fingerprint(ProposalKind.APPLICABLE, reasons, activities),
    )
