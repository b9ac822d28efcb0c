"""DPIA risks: the 1-5 scale, scores and levels, residual risk from verified mitigations.

| score (likelihood × impact) | level |
|---|---|
| 1-4 | low |
| 5-9 | medium |
| 10-16 | high |
| 17-25 | very high |

A mitigation *counts* in a release only when every obligation it names is VERIFIED there.
The residual likelihood is the inherent one lowered by the `reduces_likelihood` steps of the
mitigations that count, never below 1; the residual impact likewise. A risk whose mitigations
do not all count is *open*, unless every obligation that keeps them from counting has an
approved, unexpired exception for the release: then the risk is *accepted* (the release's
exception flow). A risk with no mitigation at all keeps its inherent score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tracker.domain.data_map_schema import Risk
from tracker.domain.data_map_vocabulary import (
    IMPACT_WORDS,
    LIKELIHOOD_WORDS,
    RISK_SCALE_MAX,
    RISK_SCALE_MIN,
)
from tracker.domain.status import STATUS_LABELS, Status

SCALE: tuple[int, ...] = tuple(range(RISK_SCALE_MIN, RISK_SCALE_MAX + 1))


class RiskLevel(StrEnum):
    """How serious a score is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very high"


#: The highest score of each level, in order (see the module's table).
LEVEL_BANDS: tuple[tuple[int, RiskLevel], ...] = (
    (4, RiskLevel.LOW),
    (9, RiskLevel.MEDIUM),
    (16, RiskLevel.HIGH),
    (25, RiskLevel.VERY_HIGH),
)


class RiskState(StrEnum):
    """Where a risk stands in a release."""

    MITIGATED = "mitigated"  # every mitigation counts
    OPEN = "open"  # a mitigation does not count and nothing accepts that
    ACCEPTED = "accepted"  # what keeps mitigations from counting is excepted for the release
    UNMITIGATED = "no mitigation"  # the DPIA names none


def score(likelihood: int, impact: int) -> int:
    """Return likelihood × impact, each on the 1-5 scale; ValueError outside it."""
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if not RISK_SCALE_MIN <= value <= RISK_SCALE_MAX:
            raise ValueError(
                f"{name} {value} is outside the {RISK_SCALE_MIN}-{RISK_SCALE_MAX} scale"
            )
    return likelihood * impact


def level(value: int) -> RiskLevel:
    """Return the level of a score from 1 to 25."""
    for highest, found in LEVEL_BANDS:
        if RISK_SCALE_MIN <= value <= highest:
            return found
    raise ValueError(f"score {value} is outside 1-{RISK_SCALE_MAX * RISK_SCALE_MAX}")


def likelihood_words(value: int) -> str:
    """Return a likelihood as its scale word, e.g. '4 likely'."""
    return f"{value} {LIKELIHOOD_WORDS[value]}"


def impact_words(value: int) -> str:
    """Return an impact as its scale word, e.g. '4 severe'."""
    return f"{value} {IMPACT_WORDS[value]}"


@dataclass(frozen=True)
class AcceptingException:
    """A release exception of one obligation, as the risk register needs it."""

    id: int
    obligation_id: str
    expires_on: date
    risk_owner: str
    approved_by: str | None
    withdrawn: bool = False

    def holds(self, today: date) -> bool:
        """Return whether it accepts the risk today: approved, not withdrawn, not expired."""
        return self.approved_by is not None and not self.withdrawn and self.expires_on >= today


def holding_exceptions(
    exceptions: Iterable[AcceptingException], today: date
) -> dict[str, AcceptingException]:
    """Return per obligation the exception that holds today (the newest, as the release does)."""
    found: dict[str, AcceptingException] = {}
    for item in sorted(exceptions, key=lambda exception: exception.id, reverse=True):
        if item.holds(today):
            found.setdefault(item.obligation_id, item)
    return found


@dataclass(frozen=True)
class ObligationCheck:
    """One obligation a mitigation names: its status in the release, and any exception."""

    obligation_id: str
    status: Status | None  # None: no assessable obligation of the catalog has this id
    exception: AcceptingException | None = None

    @property
    def verified(self) -> bool:
        """Return whether the obligation is VERIFIED in the release."""
        return self.status is Status.VERIFIED

    @property
    def label(self) -> str:
        """Return the status in words (the exception shows as 'Excepted')."""
        if self.status is None:
            return "Not in the catalog"
        if not self.verified and self.exception is not None:
            return f"Excepted ({STATUS_LABELS[self.status]})"
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class MitigationResult:
    """A mitigation and whether it counts in the release."""

    description: str
    obligations: tuple[ObligationCheck, ...]
    reduces_likelihood: int
    reduces_impact: int

    @property
    def counted(self) -> bool:
        """Return whether every obligation it names is VERIFIED."""
        return all(check.verified for check in self.obligations)

    @property
    def not_verified(self) -> tuple[ObligationCheck, ...]:
        """Return the obligations that keep it from counting."""
        return tuple(check for check in self.obligations if not check.verified)

    @property
    def accepted(self) -> bool:
        """Return whether it does not count but every obligation keeping it so is excepted."""
        missing = self.not_verified
        return bool(missing) and all(check.exception is not None for check in missing)


@dataclass(frozen=True)
class RiskAssessment:
    """A risk's inherent and residual scores in a release, and why."""

    id: str
    title: str
    description: str | None
    data_subjects: tuple[str, ...]
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int
    mitigations: tuple[MitigationResult, ...]

    @property
    def inherent_score(self) -> int:
        """Return likelihood × impact before any mitigation."""
        return score(self.likelihood, self.impact)

    @property
    def residual_score(self) -> int:
        """Return likelihood × impact after the mitigations that count."""
        return score(self.residual_likelihood, self.residual_impact)

    @property
    def inherent_level(self) -> RiskLevel:
        """Return the level of the inherent score."""
        return level(self.inherent_score)

    @property
    def residual_level(self) -> RiskLevel:
        """Return the level of the residual score."""
        return level(self.residual_score)

    @property
    def state(self) -> RiskState:
        """Return mitigated, open, accepted or no mitigation (see the module docstring)."""
        if not self.mitigations:
            return RiskState.UNMITIGATED
        uncounted = [item for item in self.mitigations if not item.counted]
        if not uncounted:
            return RiskState.MITIGATED
        if all(item.accepted for item in uncounted):
            return RiskState.ACCEPTED
        return RiskState.OPEN

    @property
    def exceptions(self) -> tuple[AcceptingException, ...]:
        """Return the exceptions that accept what is not verified, each once, by id."""
        found = {
            check.exception.id: check.exception
            for item in self.mitigations
            if not item.counted
            for check in item.not_verified
            if check.exception is not None
        }
        return tuple(found[key] for key in sorted(found))


def assess_risk(
    risk: Risk,
    statuses: Mapping[str, Status],
    exceptions: Mapping[str, AcceptingException] | None = None,
) -> RiskAssessment:
    """Return the risk's residual score from the statuses of its mitigating obligations.

    statuses holds each assessable obligation's status in the release; exceptions the one
    that holds today per obligation (see holding_exceptions).
    """
    exceptions = exceptions or {}
    mitigations = tuple(
        MitigationResult(
            description=item.description,
            obligations=tuple(
                ObligationCheck(ob_id, statuses.get(ob_id), exceptions.get(ob_id))
                for ob_id in item.obligations
            ),
            reduces_likelihood=item.reduces_likelihood,
            reduces_impact=item.reduces_impact,
        )
        for item in risk.mitigations
    )
    counted = [item for item in mitigations if item.counted]
    return RiskAssessment(
        id=risk.id,
        title=risk.title,
        description=risk.description,
        data_subjects=tuple(risk.data_subjects),
        likelihood=risk.likelihood,
        impact=risk.impact,
        residual_likelihood=max(
            RISK_SCALE_MIN, risk.likelihood - sum(item.reduces_likelihood for item in counted)
        ),
        residual_impact=max(
            RISK_SCALE_MIN, risk.impact - sum(item.reduces_impact for item in counted)
        ),
        mitigations=mitigations,
    )


@dataclass(frozen=True)
class HeatMap:
    """How many risks fall in each (likelihood, impact) cell of the 5×5 grid."""

    cells: Mapping[tuple[int, int], int]
    residual: bool

    def count(self, likelihood: int, impact: int) -> int:
        """Return the number of risks in the cell."""
        return self.cells.get((likelihood, impact), 0)

    @property
    def total(self) -> int:
        """Return the number of risks on the map."""
        return sum(self.cells.values())


def heat_map(risks: Sequence[RiskAssessment], *, residual: bool) -> HeatMap:
    """Count the risks per cell, at their inherent or their residual likelihood and impact."""
    cells: dict[tuple[int, int], int] = {}
    for risk in risks:
        key = (
            (risk.residual_likelihood, risk.residual_impact)
            if residual
            else (risk.likelihood, risk.impact)
        )
        cells[key] = cells.get(key, 0) + 1
    return HeatMap(cells=cells, residual=residual)
