"""Whether a release is ready: its statuses, sign-offs and exceptions under a gate policy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from tracker.domain.gate_policy import PolicySpec
from tracker.domain.matrix import MatrixRow
from tracker.domain.release_verdict import (
    ExceptionFact,
    ObligationInRelease,
    ReleaseVerdict,
    SignOffFact,
    judge,
)
from tracker.domain.releases import Release, ReleaseScope
from tracker.domain.reviews import block_overdue
from tracker.domain.status import ObligationFacts, Status
from tracker.models import (
    Obligation,
    ReadinessRecord,
    ReleaseException,
    SignOff,
    TestRun,
    utcnow,
)
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import build_matrix
from tracker.services.releases import find_release, list_releases
from tracker.services.review_items import overdue_obligation_reviews


@dataclass(frozen=True)
class Readiness:
    """A release under a policy: the matrix rows in its scope and the verdict on them."""

    release: Release
    policy: PolicySpec
    scope: EvidenceScope
    rows: list[MatrixRow]
    facts: dict[str, ObligationFacts]
    verdict: ReleaseVerdict
    signoffs: dict[str, SignOff]
    exceptions: dict[str, list[ReleaseException]]
    versions: dict[str, tuple[int, str]]  # obligation id: version, fingerprint
    #: Under a policy with block_overdue_reviews: the obligations in scope whose periodic
    #: review is overdue, and when it was due (each of them blocks the release).
    overdue_reviews: dict[str, date] = field(default_factory=dict)

    @property
    def evidence(self) -> str:
        """Say which test runs count, and when it is the fallback to the default branch."""
        if self.scope.release:
            return self.scope.describe()
        return (
            f"no test run was ingested for release {self.release.name}, so the "
            + self.scope.describe()
            + " counts"
        )


def release_readiness(
    *,
    session: Session,
    release: str,
    policy: PolicySpec | None = None,
    default_branch: str = "main",
    obligation_ids: list[str] | None = None,
    today: date | None = None,
) -> Readiness:
    """Return the release's readiness; raise NotFoundError for an unknown release."""
    found = find_release(session=session, name=release)
    dates = {item.name: item.release_date for item in list_releases(session=session)}
    contents = ReleaseScope(name=found.name, release_date=found.release_date, dates=dates)
    signoffs = newest_signoffs(session, found.name)
    policy = policy or PolicySpec()
    scope = EvidenceScope(release=found.name, default_branch=default_branch)
    has_runs = session.exec(select(TestRun.id).where(col(TestRun.release) == found.name)).first()
    if has_runs is None:
        # No run was ingested for the release: the default branch's newest runs count.
        scope = EvidenceScope(default_branch=default_branch)
    data = build_matrix(
        session=session,
        scope=scope,
        obligation_ids=obligation_ids,
        max_evidence_age_days=policy.max_evidence_age_days,
        contents=contents,
        signoffs={ob_id: _signoff_fact(row) for ob_id, row in signoffs.items()},
    )
    ids = [row.id for row in data.rows]
    wanted = set(ids)
    # One read of every obligation (or release) row beats thousands of bound ids in an IN list.
    versions = {
        ob_id: (version, fingerprint)
        for ob_id, version, fingerprint in session.execute(
            select(Obligation.id, Obligation.version, Obligation.fingerprint)
        ).all()
        if ob_id in wanted
    }
    signoffs = {ob_id: row for ob_id, row in signoffs.items() if ob_id in wanted}
    exceptions = release_exceptions(session, found.name, wanted)
    items = [
        ObligationInRelease(
            id=row.id,
            instrument=row.instrument,
            severity=row.severity,
            status=row.result.status,
            version=versions[row.id][0],
            signoff=_signoff_fact(signoffs[row.id]) if row.id in signoffs else None,
            exceptions=[_exception_fact(item) for item in exceptions.get(row.id, [])],
        )
        for row in data.rows
    ]
    today = today or utcnow().date()
    verdict = judge(items, policy.policy(), today)
    overdue: dict[str, date] = {}
    if policy.block_overdue_reviews:
        overdue = overdue_obligation_reviews(session=session, obligation_ids=wanted, today=today)
        verdict = block_overdue(verdict, overdue)
    return Readiness(
        release=found,
        policy=policy,
        scope=scope,
        rows=data.rows,
        facts=data.facts,
        verdict=verdict,
        signoffs=signoffs,
        exceptions=exceptions,
        versions=versions,
        overdue_reviews=overdue,
    )


def expired_exceptions(*, session: Session, release: str, today: date) -> list[ReleaseException]:
    """Return the approved exceptions of the release that have expired (they no longer count)."""
    return list(
        session.exec(
            select(ReleaseException).where(
                col(ReleaseException.release) == release,
                col(ReleaseException.approved_at).is_not(None),
                col(ReleaseException.withdrawn_at).is_(None),
                col(ReleaseException.expires_on) < today,
            )
        ).all()
    )


def newest_signoffs(session: Session, release: str) -> dict[str, SignOff]:
    """Return the newest sign-off of each obligation for the release."""
    rows = session.exec(
        select(SignOff).where(col(SignOff.release) == release).order_by(col(SignOff.id))
    ).all()
    return {row.obligation_id: row for row in rows}


def release_exceptions(
    session: Session, release: str, ids: set[str]
) -> dict[str, list[ReleaseException]]:
    """Return every exception of the release by obligation, newest first."""
    found: dict[str, list[ReleaseException]] = defaultdict(list)
    rows = session.exec(
        select(ReleaseException)
        .where(col(ReleaseException.release) == release)
        .order_by(col(ReleaseException.id).desc())
    ).all()
    for row in rows:
        if row.obligation_id in ids:
            found[row.obligation_id].append(row)
    return dict(found)


def _signoff_fact(row: SignOff) -> SignOffFact:
    return SignOffFact(row.signed_by, row.obligation_version, Status(row.status), row.statement)


def _exception_fact(row: ReleaseException) -> ExceptionFact:
    return ExceptionFact(
        id=row.id or 0,
        expires_on=row.expires_on,
        approved=row.approved_at is not None,
        withdrawn=row.withdrawn_at is not None,
    )


def record_readiness(*, session: Session, readiness: Readiness, day: date | None = None) -> None:
    """Keep the day's count of blockers (the newest count of the day wins)."""
    day = day or utcnow().date()
    row = session.get(ReadinessRecord, (readiness.release.name, day))
    if row is None:
        row = ReadinessRecord(release=readiness.release.name, day=day, blocking=0, total=0)
    row.blocking = len(readiness.verdict.blocking)
    row.total = len(readiness.rows)
    row.recorded_at = utcnow()
    session.add(row)


def readiness_history(*, session: Session, release: str, days: int = 60) -> list[ReadinessRecord]:
    """Return the release's daily records, oldest first (at most the last `days`)."""
    rows = session.exec(
        select(ReadinessRecord)
        .where(col(ReadinessRecord.release) == release)
        .order_by(col(ReadinessRecord.day).desc())
        .limit(days)
    ).all()
    return list(reversed(rows))
