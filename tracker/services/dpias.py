"""DPIAs and the risk register: residual risk in a release, sign-off states, missing DPIAs.

DPIAs come from data_map/dpias.yaml (stored by the data map load in the Dpia table); the
statuses of their mitigating obligations come from one matrix for the chosen release, so a
page costs a fixed number of queries plus that matrix (usually from the matrix cache),
however many DPIAs and risks there are. The DPO signs a DPIA off in services/dpia_signoffs.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tracker.domain.data_map_schema import DpiaSpec
from tracker.domain.risk import (
    AcceptingException,
    HeatMap,
    RiskAssessment,
    RiskState,
    assess_risk,
    heat_map,
    holding_exceptions,
)
from tracker.domain.status import Status
from tracker.errors import NotFoundError
from tracker.models import ReleaseException, TestRun, utcnow
from tracker.models.privacy_program import Dpia, DpiaSignOff, ProcessingActivity
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import MatrixData
from tracker.services.matrix_cache import cached_matrix
from tracker.services.releases import find_release, list_releases


class SignOffState(StrEnum):
    """Whether a DPIA's newest sign-off is for the version the data map holds now."""

    CURRENT = "current"
    EARLIER = "earlier version"
    NONE = "none"


@dataclass(frozen=True)
class DpiaSignOffView:
    """A DPIA's newest sign-off, and whether it still stands."""

    state: SignOffState
    signed_by: str | None = None
    signed_role: str | None = None
    signed_at: datetime | None = None
    signed_version: int | None = None
    next_review_on: date | None = None
    note: str | None = None
    review_overdue: bool = False

    @property
    def words(self) -> str:
        """Return the state in words for the pages."""
        if self.state is SignOffState.NONE:
            return "Not signed off"
        when = f"{self.signed_at:%Y-%m-%d}" if self.signed_at else ""
        if self.state is SignOffState.EARLIER:
            return (
                f"Signed off for an earlier version (version {self.signed_version}, by "
                f"{self.signed_by} on {when}): the DPIA changed since, sign it off again"
            )
        return f"Signed off by {self.signed_by} on {when}"


@dataclass(frozen=True)
class AssessedDpia:
    """A DPIA with each risk assessed in the chosen release and its sign-off."""

    id: str
    title: str
    owner: str | None
    activity_id: str
    activity_name: str | None  # None: the data map has no such activity (any more)
    description: str
    necessity: str
    version: int
    fingerprint: str
    source: str  # file:line in the data map
    review_every_days: int | None
    risks: tuple[RiskAssessment, ...]
    sign_off: DpiaSignOffView


@dataclass(frozen=True)
class MissingDpia:
    """An activity the data map says needs a DPIA, with none written for it."""

    activity_id: str
    name: str
    owner: str | None
    reason: str


@dataclass(frozen=True)
class RegisterScope:
    """The release the register is computed for, and the test evidence that counts."""

    release: str | None
    releases: tuple[str, ...]  # the names to choose from, newest first
    scope: EvidenceScope
    evidence: str  # which test runs count, in words
    chosen: bool  # False: the default (the newest unreleased release)


@dataclass(frozen=True)
class RiskEntry:
    """One risk of one DPIA, as the register lists it."""

    dpia: AssessedDpia
    risk: RiskAssessment


@dataclass(frozen=True)
class RiskRegister:
    """Every DPIA's risks in a release, and the activities missing a DPIA."""

    choice: RegisterScope
    dpias: tuple[AssessedDpia, ...]
    missing: tuple[MissingDpia, ...]
    titles: Mapping[str, str]  # obligation id: title, for the obligations mitigations name
    notes: tuple[str, ...]  # what the evidence scope lacks (from the matrix)

    @property
    def entries(self) -> list[RiskEntry]:
        """Return every risk, highest residual score first."""
        found = [RiskEntry(dpia, risk) for dpia in self.dpias for risk in dpia.risks]
        found.sort(
            key=lambda entry: (
                -entry.risk.residual_score,
                -entry.risk.inherent_score,
                entry.dpia.id,
                entry.risk.id,
            )
        )
        return found

    def in_state(self, *states: RiskState) -> list[RiskEntry]:
        """Return the risks in any of the states, highest residual score first."""
        return [entry for entry in self.entries if entry.risk.state in states]

    def heat_map(self, *, residual: bool) -> HeatMap:
        """Return the counts per cell of the 5×5 grid, inherent or residual."""
        return heat_map([entry.risk for entry in self.entries], residual=residual)


def choose_release(
    *, session: Session, release: str | None = None, default_branch: str = "main"
) -> RegisterScope:
    """Return the release to compute residual risk for: the one named, or the default.

    The default is the newest release not yet released, as the release pages would decide
    it; with no such release, the newest runs on the default branch count. Like release
    readiness, a release without any test run of its own falls back to the default branch's.
    NotFoundError names the releases that exist.
    """
    releases = list_releases(session=session)
    names = tuple(item.name for item in releases)
    if release:
        name: str | None = find_release(session=session, name=release).name
    else:
        name = next(
            (item.name for item in releases if not item.released and not item.archived), None
        )
    branch_scope = EvidenceScope(default_branch=default_branch)
    if name is None:
        return RegisterScope(None, names, branch_scope, branch_scope.describe(), bool(release))
    has_runs = session.exec(select(TestRun.id).where(col(TestRun.release) == name)).first()
    if has_runs is None:
        evidence = (
            f"no test run was ingested for release {name}, so the {branch_scope.describe()} counts"
        )
        return RegisterScope(name, names, branch_scope, evidence, bool(release))
    scope = EvidenceScope(release=name, default_branch=default_branch)
    return RegisterScope(name, names, scope, scope.describe(), bool(release))


def risk_register(
    *,
    session: Session,
    choice: RegisterScope,
    matrix: MatrixData | None = None,
    today: date | None = None,
) -> RiskRegister:
    """Assess every DPIA's risks in the chosen release and list activities missing a DPIA.

    matrix is the matrix of choice.scope when the caller has it (the web reads it from the
    matrix cache); without it, it is computed here, once.
    """
    rows = session.exec(
        select(Dpia).where(col(Dpia.retired_at).is_(None)).order_by(col(Dpia.id))
    ).all()
    return _register(session, rows, choice, matrix, today or utcnow().date(), missing=True)


def dpia_report(
    *,
    session: Session,
    dpia_id: str,
    choice: RegisterScope,
    matrix: MatrixData | None = None,
    today: date | None = None,
) -> RiskRegister:
    """Return one DPIA assessed in the chosen release; NotFoundError for an unknown one."""
    row = find_dpia(session, dpia_id)
    return _register(session, [row], choice, matrix, today or utcnow().date(), missing=False)


def find_dpia(session: Session, dpia_id: str) -> Dpia:
    """Return the current DPIA with this id; NotFoundError (pointing to /risks) otherwise."""
    row = session.get(Dpia, dpia_id) if len(dpia_id) <= 80 else None
    if row is None or row.retired_at is not None:
        gone = " It was removed from the data map." if row is not None else ""
        raise NotFoundError(
            f"There is no DPIA '{dpia_id[:80]}'.{gone} The risk register (/risks) lists every "
            "DPIA of the data map."
        )
    return row


# --- private helpers ---------------------------------------------------------------------------


def _register(
    session: Session,
    rows: Iterable[Dpia],
    choice: RegisterScope,
    matrix: MatrixData | None,
    today: date,
    *,
    missing: bool,
) -> RiskRegister:
    rows = list(rows)
    if matrix is None:
        matrix = cached_matrix(session=session, cache=None, scope=choice.scope)
    statuses: dict[str, Status] = {row.id: row.result.status for row in matrix.rows}
    exceptions = _exceptions(session, choice.release, today)
    activities = _activities(session)
    sign_offs = _newest_sign_offs(session, {row.id for row in rows})
    assessed = []
    named: set[str] = set()
    for row in rows:
        spec = DpiaSpec.model_validate(row.spec)
        risks = tuple(assess_risk(risk, statuses, exceptions) for risk in spec.risks)
        named.update(
            ob_id for risk in spec.risks for item in risk.mitigations for ob_id in item.obligations
        )
        activity = activities.get(row.activity_id)
        assessed.append(
            AssessedDpia(
                id=row.id,
                title=spec.title,
                owner=spec.owner,
                activity_id=row.activity_id,
                activity_name=activity[0] if activity else None,
                description=spec.description,
                necessity=spec.necessity,
                version=row.version,
                fingerprint=row.fingerprint,
                source=f"{row.source_file}:{row.source_line}",
                review_every_days=row.review_every_days,
                risks=risks,
                sign_off=_sign_off_view(sign_offs.get(row.id), row, today),
            )
        )
    titles = {row.id: row.title for row in matrix.rows if row.id in named}
    return RiskRegister(
        choice=choice,
        dpias=tuple(assessed),
        missing=_missing(session, activities, rows) if missing else (),
        titles=titles,
        notes=matrix.notes,
    )


def _exceptions(
    session: Session, release: str | None, today: date
) -> dict[str, AcceptingException]:
    if release is None:
        return {}
    rows = session.exec(
        select(ReleaseException).where(
            col(ReleaseException.release) == release,
            col(ReleaseException.approved_at).is_not(None),
            col(ReleaseException.withdrawn_at).is_(None),
            col(ReleaseException.expires_on) >= today,
        )
    ).all()
    return holding_exceptions(
        (
            AcceptingException(
                id=row.id or 0,
                obligation_id=row.obligation_id,
                expires_on=row.expires_on,
                risk_owner=row.risk_owner,
                approved_by=row.approved_by,
                withdrawn=row.withdrawn_at is not None,
            )
            for row in rows
        ),
        today,
    )


#: What the register needs of an activity: name, owner, whether it needs a DPIA, is retired.
_ActivityFacts = tuple[str, str | None, bool, bool]


def _activities(session: Session) -> dict[str, _ActivityFacts]:
    # SQLAlchemy's select(): SQLModel's select() has types for at most four columns.
    query = core_select(
        col(ProcessingActivity.id),
        col(ProcessingActivity.name),
        col(ProcessingActivity.owner),
        col(ProcessingActivity.dpia_required),
        col(ProcessingActivity.status),
        col(ProcessingActivity.retired_at),
    )
    found: dict[str, _ActivityFacts] = {}
    for item_id, name, owner, required, status, retired_at in session.execute(query).all():
        retired = retired_at is not None or status == "retired"
        found[item_id] = (name, owner, bool(required), retired)
    return found


def _missing(
    session: Session, activities: Mapping[str, _ActivityFacts], rows: list[Dpia]
) -> tuple[MissingDpia, ...]:
    covered = {row.activity_id for row in rows}
    wanted = sorted(
        ob_id
        for ob_id, (_, _, required, retired) in activities.items()
        if required and not retired and ob_id not in covered
    )
    if not wanted:
        return ()
    specs = dict(
        session.execute(
            select(ProcessingActivity.id, ProcessingActivity.spec).where(
                col(ProcessingActivity.id).in_(wanted)
            )
        ).all()
    )
    found = []
    for ob_id in wanted:
        name, owner, _, _ = activities[ob_id]
        need = (specs.get(ob_id) or {}).get("dpia") or {}
        found.append(MissingDpia(ob_id, name, owner, str(need.get("reason") or "")))
    return tuple(found)


def _newest_sign_offs(session: Session, ids: set[str]) -> dict[str, DpiaSignOff]:
    if not ids:
        return {}
    query = select(DpiaSignOff).order_by(col(DpiaSignOff.id))
    if len(ids) == 1:
        query = query.where(col(DpiaSignOff.dpia_id) == next(iter(ids)))
    return {row.dpia_id: row for row in session.exec(query).all() if row.dpia_id in ids}


def _sign_off_view(row: DpiaSignOff | None, dpia: Dpia, today: date) -> DpiaSignOffView:
    if row is None:
        return DpiaSignOffView(SignOffState.NONE)
    state = SignOffState.CURRENT if row.fingerprint == dpia.fingerprint else SignOffState.EARLIER
    return DpiaSignOffView(
        state=state,
        signed_by=row.signed_by,
        signed_role=row.signed_role,
        signed_at=row.signed_at,
        signed_version=row.version,
        next_review_on=row.next_review_on,
        note=row.note,
        review_overdue=row.next_review_on < today,
    )
