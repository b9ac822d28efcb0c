"""Queries behind the test-evidence pages, each with a fixed number of queries whatever the size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Row, case, func, literal_column, union
from sqlalchemy import select as core_select
from sqlalchemy.sql import CompoundSelect, Select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tracker.domain.matrix import MatrixRow
from tracker.errors import NotFoundError
from tracker.models import (
    JiraVersion,
    Obligation,
    TestCase,
    TestLink,
    TestResult,
    TestRun,
    UnknownClaim,
)
from tracker.services.evidence import EvidenceScope
from tracker.services.links import get_obligation
from tracker.services.matrix import build_matrix
from tracker.services.work_items import UnknownLabel, unknown_obligation_labels

MAX_CHOICES = 200
_Query = TypeVar("_Query", bound=SelectOfScalar[Any])
_Columns = TypeVarTuple("_Columns")

# Failures first, then skips, then passes: a run page opens on what needs attention.
_OUTCOME_RANK = case(
    (col(TestResult.outcome).in_(("error", "failed")), 0),
    (col(TestResult.outcome) == "skipped", 1),
    else_=2,
)


@dataclass(frozen=True)
class ScopeChoices:
    """Known releases (runs and Jira versions), branches and environments, sorted."""

    releases: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFilter:
    """Exact-match filters on runs; None means any."""

    suite: str | None = None
    branch: str | None = None
    release: str | None = None
    environment: str | None = None

    @property
    def active(self) -> bool:
        """Return whether any filter is set."""
        return any((self.suite, self.branch, self.release, self.environment))


@dataclass(frozen=True)
class RunsPage:
    """One page of runs, newest first."""

    runs: list[TestRun]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class ResultLine:
    """One test's result in a run, with the obligations it is linked to now."""

    test_case_id: int
    test_id: str
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None
    obligations: tuple[str, ...] = ()
    unknown_ids: tuple[str, ...] = ()
    message_size: int | None = None  # the message's full size when it was cut
    attempts: str | None = None  # each attempt when the test ran more than once (JSON)


@dataclass(frozen=True)
class RunDetail:
    """A run and one page of its results, failures first."""

    run: TestRun
    results: list[ResultLine]
    total_results: int
    offset: int
    limit: int


@dataclass(frozen=True)
class RunOutcome:
    """One test's outcome in one run, with the run's provenance."""

    run: TestRun
    test_case_id: int
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None


@dataclass(frozen=True)
class LinkedObligation:
    """An obligation a test is linked to."""

    id: str
    title: str
    origin: str


@dataclass(frozen=True)
class TestHistory:
    """A test's results over runs, newest first, and what it is linked to."""

    __test__ = False

    case: TestCase
    results: list[RunOutcome]
    total_results: int
    obligations: list[LinkedObligation]
    unknown_ids: list[str]


@dataclass(frozen=True)
class LinkedTest:
    """A test linked to an obligation."""

    __test__ = False

    test_case_id: int
    test_id: str
    origin: str


@dataclass(frozen=True)
class EvidenceRun:
    """A run that had results for an obligation's linked tests, and those results."""

    run: TestRun
    results: list[RunOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class ObligationEvidence:
    """An obligation's verification now (in a scope) and its evidence over recent runs."""

    obligation: Obligation
    tests: list[LinkedTest]
    runs: list[EvidenceRun]  # newest first
    total_runs: int
    row: MatrixRow | None


@dataclass(frozen=True)
class ClaimLine:
    """A test whose newest report names an obligation id the catalog does not have."""

    claimed_id: str
    test_case_id: int
    test_id: str
    run_id: int
    suite: str


@dataclass(frozen=True)
class NeverRunObligation:
    """An obligation with linked tests none of which has ever reported a result."""

    id: str
    title: str
    tests: list[tuple[int, str]]


@dataclass(frozen=True)
class Orphans:
    """Claims and Jira labels that match nothing, and obligations whose linked tests never ran."""

    claims: list[ClaimLine]
    total_claims: int
    never_run: list[NeverRunObligation]
    labels: list[UnknownLabel] = field(default_factory=list)


def scope_choices(*, session: Session) -> ScopeChoices:
    """Return the releases, branches and environments a person can choose a scope from."""
    kinds: dict[str, set[str]] = {"release": set(), "branch": set(), "environment": set()}
    query: CompoundSelect[str, str | None] = union(
        select(literal_column("'release'").label("kind"), col(TestRun.release).label("value")),
        select(literal_column("'release'"), col(JiraVersion.name)),
        select(literal_column("'branch'"), col(TestRun.branch)),
        select(literal_column("'environment'"), col(TestRun.environment)),
    )
    for kind, value in session.execute(query).all():
        if value:
            kinds[kind].add(value)
    return ScopeChoices(
        releases=tuple(sorted(kinds["release"], reverse=True)[:MAX_CHOICES]),
        branches=tuple(sorted(kinds["branch"])[:MAX_CHOICES]),
        environments=tuple(sorted(kinds["environment"])[:MAX_CHOICES]),
    )


def list_runs(
    *, session: Session, offset: int = 0, limit: int = 50, run_filter: RunFilter | None = None
) -> RunsPage:
    """Return one page of runs, newest first, and how many runs match."""
    run_filter = run_filter or RunFilter()
    total = session.exec(_filtered(select(func.count(col(TestRun.id))), run_filter)).one()
    runs = session.exec(
        _filtered(select(TestRun), run_filter)
        .order_by(col(TestRun.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return RunsPage(runs=list(runs), total=int(total), offset=offset, limit=limit)


def get_run(*, session: Session, run_id: int) -> TestRun:
    """Return a run; NotFoundError when there is none with this id."""
    run = session.get(TestRun, run_id)
    if run is None:
        raise NotFoundError(f"No test run #{run_id}; the list of runs shows those recorded.")
    return run


def run_detail(*, session: Session, run_id: int, offset: int = 0, limit: int = 200) -> RunDetail:
    """Return a run with one page of its results (failures first) and their links."""
    run = get_run(session=session, run_id=run_id)
    total = session.exec(
        select(func.count(col(TestResult.id))).where(TestResult.run_id == run_id)
    ).one()
    rows = _rows(
        session,
        core_select(
            col(TestResult.test_case_id),
            col(TestCase.test_id),
            col(TestResult.outcome),
            col(TestResult.flaky),
            col(TestResult.duration),
            col(TestResult.message),
            col(TestResult.message_size),
            col(TestResult.attempts),
        )
        .join(TestCase, col(TestCase.id) == TestResult.test_case_id)
        .where(col(TestResult.run_id) == run_id)
        .order_by(_OUTCOME_RANK, col(TestCase.test_id))
        .offset(offset)
        .limit(limit),
    )
    case_ids = [row[0] for row in rows]
    obligations: dict[int, list[str]] = defaultdict(list)
    unknown: dict[int, list[str]] = defaultdict(list)
    if case_ids:
        for case_id, obligation_id in session.exec(
            select(TestLink.test_case_id, TestLink.obligation_id)
            .where(col(TestLink.test_case_id).in_(case_ids), col(TestLink.removed_at).is_(None))
            .order_by(col(TestLink.obligation_id))
        ).all():
            obligations[case_id].append(obligation_id)
        for case_id, claimed in session.exec(
            select(UnknownClaim.test_case_id, UnknownClaim.claimed_id)
            .where(col(UnknownClaim.test_case_id).in_(case_ids), UnknownClaim.run_id == run_id)
            .order_by(col(UnknownClaim.claimed_id))
        ).all():
            unknown[case_id].append(claimed)
    results = [
        ResultLine(
            test_case_id=case_id,
            test_id=test_id,
            outcome=outcome,
            flaky=flaky,
            duration=duration,
            message=message,
            obligations=tuple(dict.fromkeys(obligations.get(case_id, ()))),
            unknown_ids=tuple(unknown.get(case_id, ())),
            message_size=message_size,
            attempts=attempts,
        )
        for case_id, test_id, outcome, flaky, duration, message, message_size, attempts in rows
    ]
    return RunDetail(run=run, results=results, total_results=int(total), offset=offset, limit=limit)


def test_history(*, session: Session, test_case_id: int, limit: int = 100) -> TestHistory:
    """Return a test's newest results (up to limit), its linked obligations and unknown claims."""
    test_case = session.get(TestCase, test_case_id)
    if test_case is None:
        raise NotFoundError(f"No test #{test_case_id}; open a run to find its tests.")
    total = session.exec(
        select(func.count(col(TestResult.id))).where(TestResult.test_case_id == test_case_id)
    ).one()
    rows = session.exec(
        select(TestResult, TestRun)
        .join(TestRun, col(TestRun.id) == TestResult.run_id)
        .where(TestResult.test_case_id == test_case_id)
        .order_by(col(TestResult.run_id).desc())
        .limit(limit)
    ).all()
    obligations = [
        LinkedObligation(obligation_id, title, origin)
        for obligation_id, title, origin in session.exec(
            select(TestLink.obligation_id, Obligation.title, TestLink.origin)
            .join(Obligation, col(Obligation.id) == TestLink.obligation_id)
            .where(TestLink.test_case_id == test_case_id, col(TestLink.removed_at).is_(None))
            .order_by(col(Obligation.sort_key))
        ).all()
    ]
    unknown = session.exec(
        select(UnknownClaim.claimed_id)
        .where(UnknownClaim.test_case_id == test_case_id)
        .order_by(col(UnknownClaim.claimed_id))
    ).all()
    return TestHistory(
        case=test_case,
        results=[_outcome(result, run) for result, run in rows],
        total_results=int(total),
        obligations=list(dict.fromkeys(obligations)),
        unknown_ids=list(unknown),
    )


def obligation_evidence(
    *,
    session: Session,
    obligation_id: str,
    scope: EvidenceScope | None = None,
    run_filter: RunFilter | None = None,
    limit: int = 30,
) -> ObligationEvidence:
    """Return an obligation's status in scope and the results of its tests in recent runs."""
    obligation = get_obligation(session, obligation_id)
    run_filter = run_filter or RunFilter()
    linked = select(TestLink.test_case_id).where(
        TestLink.obligation_id == obligation.id, col(TestLink.removed_at).is_(None)
    )
    tests = [
        LinkedTest(case_id, test_id, origin)
        for case_id, test_id, origin in session.exec(
            select(TestCase.id, TestCase.test_id, TestLink.origin)
            .join(TestLink, col(TestLink.test_case_id) == TestCase.id)
            .where(TestLink.obligation_id == obligation.id, col(TestLink.removed_at).is_(None))
            .order_by(col(TestCase.test_id))
        ).all()
        if case_id is not None
    ]
    runs: list[EvidenceRun] = []
    total_runs = 0
    if tests:
        evidence_runs = _filtered(
            select(TestResult.run_id)
            .join(TestRun, col(TestRun.id) == TestResult.run_id)
            .where(col(TestResult.test_case_id).in_(linked))
            .distinct(),
            run_filter,
        )
        total_runs = int(
            session.exec(select(func.count()).select_from(evidence_runs.subquery())).one()
        )
        run_ids = list(
            session.exec(evidence_runs.order_by(col(TestResult.run_id).desc()).limit(limit)).all()
        )
        if run_ids:
            by_run = {
                run.id: EvidenceRun(run)
                for run in session.exec(select(TestRun).where(col(TestRun.id).in_(run_ids))).all()
            }
            for result in session.exec(
                select(TestResult)
                .where(col(TestResult.run_id).in_(run_ids))
                .where(col(TestResult.test_case_id).in_(linked))
            ).all():
                entry = by_run[result.run_id]
                entry.results.append(_outcome(result, entry.run))
            runs = [by_run[run_id] for run_id in sorted(by_run, key=lambda i: -(i or 0))]
    rows = build_matrix(session=session, scope=scope, obligation_ids=[obligation.id]).rows
    return ObligationEvidence(
        obligation=obligation,
        tests=tests,
        runs=runs,
        total_runs=total_runs,
        row=rows[0] if rows else None,
    )


def orphans(*, session: Session, limit: int = 500) -> Orphans:
    """Return unknown claims (up to limit), unknown Jira labels and never-run obligations."""
    total = session.exec(select(func.count()).select_from(UnknownClaim)).one()
    claims = [
        ClaimLine(claimed, case_id, test_id, run_id, suite)
        for claimed, case_id, test_id, run_id, suite in _rows(
            session,
            core_select(
                col(UnknownClaim.claimed_id),
                col(UnknownClaim.test_case_id),
                col(TestCase.test_id),
                col(UnknownClaim.run_id),
                col(TestRun.suite),
            )
            .join(TestCase, col(TestCase.id) == UnknownClaim.test_case_id)
            .join(TestRun, col(TestRun.id) == UnknownClaim.run_id)
            .order_by(col(UnknownClaim.claimed_id), col(TestCase.test_id))
            .limit(limit),
        )
    ]
    # Obligations with at least one active linked test that has a result somewhere.
    ran = (
        select(TestLink.obligation_id)
        .where(col(TestLink.removed_at).is_(None))
        .where(
            select(TestResult.id).where(TestResult.test_case_id == TestLink.test_case_id).exists()
        )
    )
    never: dict[str, NeverRunObligation] = {}
    seen: set[tuple[str, int]] = set()
    for obligation_id, title, case_id, test_id in session.exec(
        select(TestLink.obligation_id, Obligation.title, TestCase.id, TestCase.test_id)
        .join(Obligation, col(Obligation.id) == TestLink.obligation_id)
        .join(TestCase, col(TestCase.id) == TestLink.test_case_id)
        .where(col(TestLink.removed_at).is_(None), col(Obligation.retired_at).is_(None))
        .where(col(TestLink.obligation_id).not_in(ran))
        .order_by(col(Obligation.sort_key), col(TestCase.test_id))
    ).all():
        entry = never.setdefault(obligation_id, NeverRunObligation(obligation_id, title, []))
        if case_id is not None and (obligation_id, case_id) not in seen:
            seen.add((obligation_id, case_id))
            entry.tests.append((case_id, test_id))
    return Orphans(
        claims=claims,
        total_claims=int(total),
        never_run=list(never.values()),
        labels=unknown_obligation_labels(session),
    )


def _rows(session: Session, query: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
    """Run a select of more columns than SQLModel's select() has types for, as session.exec."""
    return session.execute(query).all()


def _filtered(query: _Query, run_filter: RunFilter) -> _Query:
    if run_filter.suite:
        query = query.where(TestRun.suite == run_filter.suite)
    if run_filter.branch:
        query = query.where(TestRun.branch == run_filter.branch)
    if run_filter.release:
        query = query.where(TestRun.release == run_filter.release)
    if run_filter.environment:
        query = query.where(TestRun.environment == run_filter.environment)
    return query


def _outcome(result: TestResult, run: TestRun) -> RunOutcome:
    return RunOutcome(
        run=run,
        test_case_id=result.test_case_id,
        outcome=result.outcome,
        flaky=result.flaky,
        duration=result.duration,
        message=result.message,
    )
