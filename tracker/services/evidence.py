"""Choosing which test results count: the latest result of each test in the scope asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from tracker.bulk import is_one_of
from tracker.domain.status import ResultFact
from tracker.models import TestLink, TestResult, TestRun

#: Past this many earlier runs of a suite to look through, a run may change any status...
MOST_REPLACED_RUNS = 20
#: ... or past this many tests those runs have and the new one lacks.
MOST_DROPPED_TESTS = 5000


@dataclass(frozen=True)
class EvidenceScope:
    """Which runs count: by release, branch and environment; default is the default branch."""

    release: str | None = None
    branch: str | None = None
    environment: str | None = None
    default_branch: str = "main"

    def describe(self) -> str:
        """Return the scope in words."""
        parts = []
        if self.release:
            parts.append(f"release {self.release}")
        if self.branch or not self.release:
            parts.append(f"branch {self.branch or self.default_branch}")
        if self.environment:
            parts.append(f"environment {self.environment}")
        return "newest run of each suite on " + ", ".join(parts)


def latest_run_ids(session: Session, scope: EvidenceScope) -> list[int]:
    """Return the newest run of each suite within the scope."""
    query = select(func.max(TestRun.id)).group_by(TestRun.suite)
    if scope.release:
        query = query.where(TestRun.release == scope.release)
    if scope.branch:
        query = query.where(TestRun.branch == scope.branch)
    elif not scope.release:
        query = query.where(
            or_(col(TestRun.branch).is_(None), col(TestRun.branch) == scope.default_branch)
        )
    if scope.environment:
        query = query.where(TestRun.environment == scope.environment)
    return [run_id for run_id in session.exec(query).all() if run_id is not None]


def latest_results(
    session: Session, scope: EvidenceScope, test_case_ids: Iterable[int] | None = None
) -> dict[int, ResultFact]:
    """Return each test case's latest result in scope (newest run wins across suites)."""
    run_ids = latest_run_ids(session, scope)
    if not run_ids:
        return {}
    runs = {
        run_id: (started_at, commit)
        for run_id, started_at, commit in session.exec(
            select(TestRun.id, TestRun.started_at, TestRun.commit).where(
                is_one_of(session, col(TestRun.id), run_ids)
            )
        ).all()
    }
    # Results carry only plain columns; the few runs give time and commit (no per-row dates).
    query = select(
        TestResult.test_case_id, TestResult.outcome, TestResult.run_id, TestResult.flaky
    ).where(is_one_of(session, col(TestResult.run_id), run_ids))
    if test_case_ids is not None:
        query = query.where(is_one_of(session, col(TestResult.test_case_id), list(test_case_ids)))
    facts: dict[tuple[int, str, bool], ResultFact] = {}
    latest: dict[int, ResultFact] = {}
    for case_id, outcome, run_id, flaky in session.connection().execute(query).all():
        known = latest.get(case_id)
        if known is None or run_id > known.run_id:
            fact = facts.get((run_id, outcome, flaky))
            if fact is None:
                started_at, commit = runs[run_id]
                fact = ResultFact(
                    outcome=outcome, run_id=run_id, at=started_at, commit=commit, flaky=flaky
                )
                facts[(run_id, outcome, flaky)] = fact
            latest[case_id] = fact
    return latest


def obligations_of_dropped_tests(
    session: Session, run: TestRun, run_cases: set[int]
) -> set[str] | None:
    """Return the obligations linked to tests a new run drops from its suite's latest results.

    In any scope the run counts in, it replaces the suite's newest earlier run there, which is
    the newest run of some (branch, release, environment) of the suite: the tests of those runs
    that this one lacks lose their result. None when there are too many of them to read.
    """
    newest = session.exec(
        select(func.max(TestRun.id))
        .where(TestRun.suite == run.suite, col(TestRun.id) < (run.id or 0))
        .group_by(col(TestRun.branch), col(TestRun.release), col(TestRun.environment))
        .limit(MOST_REPLACED_RUNS + 1)
    ).all()
    run_ids = [run_id for run_id in newest if run_id is not None]
    if len(run_ids) > MOST_REPLACED_RUNS:
        return None
    if not run_ids:
        return set()
    dropped = (
        set(
            session.exec(
                select(TestResult.test_case_id)
                .where(is_one_of(session, col(TestResult.run_id), run_ids))
                .distinct()
            ).all()
        )
        - run_cases
    )
    if len(dropped) > MOST_DROPPED_TESTS:
        return None
    if not dropped:
        return set()
    return set(
        session.exec(
            select(TestLink.obligation_id)
            .where(is_one_of(session, col(TestLink.test_case_id), sorted(dropped)))
            .where(col(TestLink.removed_at).is_(None))
        ).all()
    )
