"""The risk rules: the 1-5 scale, levels, residual risk from verified mitigations, acceptance."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain.data_map_schema import Mitigation, Risk
from tracker.domain.risk import (
    AcceptingException,
    RiskLevel,
    RiskState,
    assess_risk,
    heat_map,
    holding_exceptions,
    level,
    score,
)
from tracker.domain.status import Status

TODAY = date(2026, 12, 2)


def risk(likelihood: int = 4, impact: int = 4, *mitigations: Mitigation) -> Risk:
    return Risk(
        id="R1",
        title="Someone reads readings",
        likelihood=likelihood,
        impact=impact,
        mitigations=list(mitigations),
    )


def mitigation(*obligations: str, likelihood: int = 0, impact: int = 0) -> Mitigation:
    return Mitigation(
        description="A measure that lowers the risk.",
        obligations=list(obligations),
        reduces_likelihood=likelihood,
        reduces_impact=impact,
    )


def exception(
    obligation_id: str,
    number: int = 1,
    *,
    expires_on: date = date(2027, 3, 1),
    approved_by: str | None = "legal@example.com",
    withdrawn: bool = False,
) -> AcceptingException:
    return AcceptingException(
        id=number,
        obligation_id=obligation_id,
        expires_on=expires_on,
        risk_owner="Head of Legal",
        approved_by=approved_by,
        withdrawn=withdrawn,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, RiskLevel.LOW),
        (4, RiskLevel.LOW),
        (5, RiskLevel.MEDIUM),
        (9, RiskLevel.MEDIUM),
        (10, RiskLevel.HIGH),
        (16, RiskLevel.HIGH),
        (20, RiskLevel.VERY_HIGH),
        (25, RiskLevel.VERY_HIGH),
    ],
)
def test_each_score_falls_in_its_documented_level(value: int, expected: RiskLevel) -> None:
    assert level(value) is expected


def test_a_score_is_likelihood_times_impact_and_refuses_values_off_the_scale() -> None:
    assert score(4, 3) == 12
    assert score(5, 5) == 25
    with pytest.raises(ValueError, match="likelihood 6"):
        score(6, 1)
    with pytest.raises(ValueError, match="impact 0"):
        score(1, 0)
    with pytest.raises(ValueError):
        level(26)


def test_a_mitigation_whose_obligation_is_verified_lowers_the_residual_risk() -> None:
    result = assess_risk(
        risk(4, 4, mitigation("GDPR-32.1", likelihood=2), mitigation("HIPAA-1", impact=1)),
        {"GDPR-32.1": Status.VERIFIED, "HIPAA-1": Status.IN_PROGRESS},
    )
    assert (result.inherent_score, result.residual_score) == (16, 8)
    assert (result.residual_likelihood, result.residual_impact) == (2, 4)
    assert result.inherent_level is RiskLevel.HIGH
    assert result.residual_level is RiskLevel.MEDIUM
    counted, waiting = result.mitigations
    assert counted.counted and not waiting.counted
    assert [(c.obligation_id, c.label) for c in waiting.not_verified] == [
        ("HIPAA-1", "In progress")
    ]
    assert result.state is RiskState.OPEN


def test_a_mitigation_counts_only_when_every_obligation_it_names_is_verified() -> None:
    measure = mitigation("GDPR-5.1.e", "GDPR-17.1", likelihood=2)
    half = assess_risk(
        risk(3, 3, measure), {"GDPR-5.1.e": Status.IMPLEMENTED, "GDPR-17.1": Status.VERIFIED}
    )
    assert half.residual_score == 9
    assert [check.obligation_id for check in half.mitigations[0].not_verified] == ["GDPR-5.1.e"]
    whole = assess_risk(
        risk(3, 3, measure), {"GDPR-5.1.e": Status.VERIFIED, "GDPR-17.1": Status.VERIFIED}
    )
    assert whole.residual_score == 3
    assert whole.state is RiskState.MITIGATED


def test_not_applicable_and_unknown_obligations_do_not_make_a_mitigation_count() -> None:
    result = assess_risk(
        risk(3, 3, mitigation("ALPHA-1", likelihood=1), mitigation("GONE-1", likelihood=1)),
        {"ALPHA-1": Status.NOT_APPLICABLE},
    )
    assert result.residual_score == 9
    labels = [check.label for item in result.mitigations for check in item.obligations]
    assert labels == ["Not applicable", "Not in the catalog"]


def test_the_residual_never_goes_below_one_on_either_axis() -> None:
    result = assess_risk(
        risk(2, 3, mitigation("ALPHA-1", likelihood=4, impact=2), mitigation("ALPHA-2", impact=4)),
        {"ALPHA-1": Status.VERIFIED, "ALPHA-2": Status.VERIFIED},
    )
    assert (result.residual_likelihood, result.residual_impact) == (1, 1)
    assert result.residual_score == 1


def test_a_risk_is_accepted_when_what_keeps_its_mitigations_from_counting_is_excepted() -> None:
    measures = (mitigation("ALPHA-1", likelihood=2), mitigation("ALPHA-2", "ALPHA-3", impact=1))
    statuses = {"ALPHA-1": Status.FAILING, "ALPHA-2": Status.VERIFIED, "ALPHA-3": Status.GAP}
    partly = assess_risk(risk(4, 4, *measures), statuses, {"ALPHA-1": exception("ALPHA-1")})
    assert partly.state is RiskState.OPEN  # A-3 is neither verified nor excepted
    both = {"ALPHA-1": exception("ALPHA-1", 1), "ALPHA-3": exception("ALPHA-3", 2)}
    accepted = assess_risk(risk(4, 4, *measures), statuses, both)
    assert accepted.state is RiskState.ACCEPTED
    assert accepted.residual_score == 16  # accepting a risk does not lower it
    assert [item.id for item in accepted.exceptions] == [1, 2]
    assert accepted.mitigations[0].obligations[0].label == "Excepted (Failing)"


def test_an_exception_of_a_verified_obligation_plays_no_part() -> None:
    result = assess_risk(
        risk(4, 4, mitigation("ALPHA-1", likelihood=2)),
        {"ALPHA-1": Status.VERIFIED},
        {"ALPHA-1": exception("ALPHA-1")},
    )
    assert result.state is RiskState.MITIGATED
    assert result.exceptions == ()
    assert result.mitigations[0].obligations[0].label == "Verified"


def test_a_risk_without_mitigations_keeps_its_inherent_score() -> None:
    result = assess_risk(risk(5, 4), {})
    assert result.state is RiskState.UNMITIGATED
    assert result.residual_score == result.inherent_score == 20


def test_only_approved_unexpired_and_not_withdrawn_exceptions_hold_the_newest_first() -> None:
    found = holding_exceptions(
        [
            exception("ALPHA-1", 1),
            exception("ALPHA-1", 3),
            exception("ALPHA-2", 4, approved_by=None),
            exception("ALPHA-3", 5, withdrawn=True),
            exception("ALPHA-4", 6, expires_on=date(2026, 12, 1)),
            exception("ALPHA-5", 7, expires_on=TODAY),
        ],
        TODAY,
    )
    assert {key: item.id for key, item in found.items()} == {"ALPHA-1": 3, "ALPHA-5": 7}


def test_the_heat_map_counts_risks_per_cell_inherent_and_residual() -> None:
    statuses = {"ALPHA-1": Status.VERIFIED}
    risks = [
        assess_risk(risk(4, 4, mitigation("ALPHA-1", likelihood=2)), statuses),
        assess_risk(risk(4, 4, mitigation("ALPHA-2", likelihood=2)), statuses),
        assess_risk(risk(1, 2), statuses),
    ]
    inherent = heat_map(risks, residual=False)
    residual = heat_map(risks, residual=True)
    assert inherent.count(4, 4) == 2 and inherent.count(1, 2) == 1
    assert residual.count(4, 4) == 1 and residual.count(2, 4) == 1
    assert inherent.total == residual.total == 3
    assert inherent.count(5, 5) == 0
