"""View objects of the risk register and DPIA pages: scores, mitigations, sign-off, heat maps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import url_for

from tracker.domain.data_map_vocabulary import DEFAULT_REVIEW_EVERY_DAYS
from tracker.domain.risk import (
    AcceptingException,
    MitigationResult,
    ObligationCheck,
    RiskAssessment,
    RiskLevel,
    RiskState,
    impact_words,
    likelihood_words,
)
from tracker.services.dpia_signoffs import review_window
from tracker.services.dpias import (
    AssessedDpia,
    MissingDpia,
    RegisterScope,
    RiskEntry,
    RiskRegister,
    SignOffState,
)
from tracker.web.risks.heat_map import HeatMapView, heat_map_view
from tracker.web.status_style import STATUS_CSS

#: Open risks listed on the register page (highest residual first); each DPIA page has all.
MAX_LISTED = 100

LEVEL_CSS: dict[RiskLevel, str] = {
    RiskLevel.LOW: "st-verified",
    RiskLevel.MEDIUM: "st-gap",
    RiskLevel.HIGH: "st-failing",
    RiskLevel.VERY_HIGH: "st-failing",
}
STATE_LABELS: dict[RiskState, str] = {
    RiskState.MITIGATED: "Mitigated",
    RiskState.OPEN: "Open",
    RiskState.ACCEPTED: "Accepted",
    RiskState.UNMITIGATED: "No mitigation",
}
STATE_CSS: dict[RiskState, str] = {
    RiskState.MITIGATED: "st-verified",
    RiskState.OPEN: "st-failing",
    RiskState.ACCEPTED: "st-not-applicable",
    RiskState.UNMITIGATED: "st-gap",
}
SIGN_OFF_CSS: dict[SignOffState, str] = {
    SignOffState.CURRENT: "st-verified",
    SignOffState.EARLIER: "st-suspect",
    SignOffState.NONE: "st-gap",
}


@dataclass(frozen=True)
class ScoreCell:
    """A score with its level and the scale words it comes from."""

    score: int
    level: str
    css: str
    words: str  # "4 likely × 4 severe"


@dataclass(frozen=True)
class ObligationCell:
    """An obligation a mitigation names, with its status in the release and a link."""

    id: str
    title: str
    status: str
    css: str
    href: str | None  # None: no such obligation in the catalog


@dataclass(frozen=True)
class MitigationRow:
    """A mitigation, whether it counts, and the obligations it rests on."""

    description: str
    counted: bool
    effect: str
    words: str
    obligations: tuple[ObligationCell, ...]


@dataclass(frozen=True)
class ExceptionCell:
    """An exception that accepts a risk in the release."""

    id: int
    obligation_id: str
    approved_by: str
    risk_owner: str
    expires: str
    href: str


@dataclass(frozen=True)
class RiskRow:
    """One risk with its scores, state and mitigations."""

    dpia_id: str
    dpia_title: str
    dpia_href: str
    id: str
    title: str
    description: str | None
    data_subjects: str
    inherent: ScoreCell
    residual: ScoreCell
    state: str
    state_css: str
    mitigations: tuple[MitigationRow, ...]
    exceptions: tuple[ExceptionCell, ...]


@dataclass(frozen=True)
class DpiaRow:
    """A DPIA in the register's list."""

    id: str
    href: str
    title: str
    activity: str
    activity_href: str
    risks: int
    open: int
    highest: ScoreCell | None
    sign_off: str
    sign_off_css: str
    next_review: str
    review_overdue: bool


@dataclass(frozen=True)
class ReleaseChoice:
    """The release picker: the release shown, the ones to choose from, the evidence used."""

    release: str | None
    releases: tuple[str, ...]
    evidence: str
    notes: tuple[str, ...]
    chosen: bool


@dataclass(frozen=True)
class RegisterPage:
    """The risk register across DPIAs."""

    choice: ReleaseChoice
    inherent_map: HeatMapView
    residual_map: HeatMapView
    total: int
    counts: tuple[tuple[str, str, int], ...]  # label, css, count
    open_rows: tuple[RiskRow, ...]
    open_total: int
    accepted_rows: tuple[RiskRow, ...]
    dpias: tuple[DpiaRow, ...]
    missing: tuple[MissingDpia, ...]


@dataclass(frozen=True)
class DpiaPage:
    """One DPIA: its notes, each risk with mitigations and residual, and its sign-off."""

    choice: ReleaseChoice
    id: str
    title: str
    owner: str | None
    activity_id: str
    activity_name: str | None
    description: str
    necessity: str
    version: int
    source: str
    risks: tuple[RiskRow, ...]
    sign_off: str
    sign_off_css: str
    sign_off_state: str
    signed_note: str | None
    next_review: str
    review_overdue: bool
    suggested_review: str
    earliest_review: str
    latest_review: str


def register_page(register: RiskRegister) -> RegisterPage:
    """Return the risk register page's view."""
    choice = _choice(register)
    context = f"release {choice.release}" if choice.release else "newest evidence"
    entries = register.entries
    states = {state: [e for e in entries if e.risk.state is state] for state in RiskState}
    needing = states[RiskState.OPEN] + states[RiskState.UNMITIGATED]
    needing.sort(key=lambda entry: (-entry.risk.residual_score, entry.dpia.id, entry.risk.id))
    return RegisterPage(
        choice=choice,
        inherent_map=heat_map_view(
            register.heat_map(residual=False), id="heat-inherent", context=context
        ),
        residual_map=heat_map_view(
            register.heat_map(residual=True), id="heat-residual", context=context
        ),
        total=len(entries),
        counts=tuple(
            (STATE_LABELS[state], STATE_CSS[state], len(states[state]))
            for state in RiskState
            if states[state]
        ),
        open_rows=tuple(_risk_row(entry, register) for entry in needing[:MAX_LISTED]),
        open_total=len(needing),
        accepted_rows=tuple(
            _risk_row(entry, register) for entry in states[RiskState.ACCEPTED][:MAX_LISTED]
        ),
        dpias=tuple(_dpia_row(dpia, register.choice) for dpia in register.dpias),
        missing=register.missing,
    )


def dpia_page(register: RiskRegister, today: date) -> DpiaPage:
    """Return one DPIA's page view (the register holds just that DPIA)."""
    dpia = register.dpias[0]
    sign_off = dpia.sign_off
    cadence = dpia.review_every_days or DEFAULT_REVIEW_EVERY_DAYS["dpia"]
    earliest, latest = review_window(today)
    return DpiaPage(
        choice=_choice(register),
        id=dpia.id,
        title=dpia.title,
        owner=dpia.owner,
        activity_id=dpia.activity_id,
        activity_name=dpia.activity_name,
        description=dpia.description,
        necessity=dpia.necessity,
        version=dpia.version,
        source=dpia.source,
        risks=tuple(_risk_row(RiskEntry(dpia, risk), register) for risk in dpia.risks),
        sign_off=sign_off.words,
        sign_off_css=SIGN_OFF_CSS[sign_off.state],
        sign_off_state=sign_off.state.value,
        signed_note=sign_off.note,
        next_review=sign_off.next_review_on.isoformat() if sign_off.next_review_on else "",
        review_overdue=sign_off.review_overdue,
        suggested_review=min(today + timedelta(days=cadence), latest).isoformat(),
        earliest_review=earliest.isoformat(),
        latest_review=latest.isoformat(),
    )


def release_args(choice: RegisterScope | ReleaseChoice) -> dict[str, Any]:
    """Return the query arguments that keep the chosen release on a link."""
    return {"release": choice.release} if choice.chosen and choice.release else {}


# --- private helpers ---------------------------------------------------------------------------


def _choice(register: RiskRegister) -> ReleaseChoice:
    choice = register.choice
    return ReleaseChoice(
        release=choice.release,
        releases=choice.releases,
        evidence=choice.evidence,
        notes=register.notes,
        chosen=choice.chosen,
    )


def _score(likelihood: int, impact: int, assessment_level: RiskLevel, value: int) -> ScoreCell:
    return ScoreCell(
        score=value,
        level=assessment_level.value,
        css=LEVEL_CSS[assessment_level],
        words=f"{likelihood_words(likelihood)} × {impact_words(impact)}",
    )


def _inherent(risk: RiskAssessment) -> ScoreCell:
    return _score(risk.likelihood, risk.impact, risk.inherent_level, risk.inherent_score)


def _residual(risk: RiskAssessment) -> ScoreCell:
    return _score(
        risk.residual_likelihood, risk.residual_impact, risk.residual_level, risk.residual_score
    )


def _risk_row(entry: RiskEntry, register: RiskRegister) -> RiskRow:
    risk = entry.risk
    args = release_args(register.choice)
    obligation_args = (
        {"release": register.choice.scope.release} if register.choice.scope.release else {}
    )
    return RiskRow(
        dpia_id=entry.dpia.id,
        dpia_title=entry.dpia.title,
        dpia_href=url_for("risks.dpia", dpia_id=entry.dpia.id, **args),
        id=risk.id,
        title=risk.title,
        description=risk.description,
        data_subjects=", ".join(risk.data_subjects),
        inherent=_inherent(risk),
        residual=_residual(risk),
        state=STATE_LABELS[risk.state],
        state_css=STATE_CSS[risk.state],
        mitigations=tuple(
            _mitigation_row(item, register.titles, obligation_args) for item in risk.mitigations
        ),
        exceptions=tuple(_exception_cell(item, register.choice) for item in risk.exceptions),
    )


def _mitigation_row(
    item: MitigationResult, titles: Mapping[str, str], args: Mapping[str, Any]
) -> MitigationRow:
    steps = []
    if item.reduces_likelihood:
        steps.append(f"likelihood −{item.reduces_likelihood}")
    if item.reduces_impact:
        steps.append(f"impact −{item.reduces_impact}")
    effect = ", ".join(steps) if steps else "no change to the score"
    if item.counted:
        words = "Counts: every obligation it names is verified."
    else:
        missing = "; ".join(
            f"{check.obligation_id} is {check.label}" for check in item.not_verified
        )
        words = f"Does not count yet: {missing}."
    return MitigationRow(
        description=item.description,
        counted=item.counted,
        effect=effect,
        words=words,
        obligations=tuple(_obligation_cell(check, titles, args) for check in item.obligations),
    )


def _obligation_cell(
    check: ObligationCheck, titles: Mapping[str, str], args: Mapping[str, Any]
) -> ObligationCell:
    if check.status is None:
        css = "st-gap"
    elif not check.verified and check.exception is not None:
        css = "st-not-applicable"
    else:
        css = STATUS_CSS[check.status]
    return ObligationCell(
        id=check.obligation_id,
        title=titles.get(check.obligation_id, ""),
        status=check.label,
        css=css,
        href=(
            url_for("obligations.show", obligation_id=check.obligation_id, **args)
            if check.status is not None
            else None
        ),
    )


def _exception_cell(item: AcceptingException, choice: RegisterScope) -> ExceptionCell:
    href = url_for("releases.show", name=choice.release) + "#exceptions" if choice.release else ""
    return ExceptionCell(
        id=item.id,
        obligation_id=item.obligation_id,
        approved_by=item.approved_by or "",
        risk_owner=item.risk_owner,
        expires=item.expires_on.isoformat(),
        href=href,
    )


def _dpia_row(dpia: AssessedDpia, choice: RegisterScope) -> DpiaRow:
    highest = max(dpia.risks, key=lambda risk: risk.residual_score, default=None)
    sign_off = dpia.sign_off
    return DpiaRow(
        id=dpia.id,
        href=url_for("risks.dpia", dpia_id=dpia.id, **release_args(choice)),
        title=dpia.title,
        activity=dpia.activity_name or dpia.activity_id,
        activity_href=url_for("data_map.activity", activity_id=dpia.activity_id),
        risks=len(dpia.risks),
        open=sum(risk.state in (RiskState.OPEN, RiskState.UNMITIGATED) for risk in dpia.risks),
        highest=_residual(highest) if highest is not None else None,
        sign_off=_short_sign_off(sign_off.state),
        sign_off_css=SIGN_OFF_CSS[sign_off.state],
        next_review=sign_off.next_review_on.isoformat() if sign_off.next_review_on else "",
        review_overdue=sign_off.review_overdue,
    )


def _short_sign_off(state: SignOffState) -> str:
    return {
        SignOffState.CURRENT: "Signed off",
        SignOffState.EARLIER: "Signed off for an earlier version",
        SignOffState.NONE: "Not signed off",
    }[state]
