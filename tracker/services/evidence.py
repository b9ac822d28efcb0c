"""Choosing which test results count: the latest result of each test in the scope asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tracker.bulk import is_one_of, one_of_parameter
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
    query, parameters = _latest_runs(scope)
    rows = session.connection().execute(query, parameters).all()
    return [run_id for (run_id,) in rows if run_id is not None]


def _latest_runs(scope: EvidenceScope) -> tuple[Any, dict[str, str]]:
    parameters = {
        name: value
        for name, value in (
            ("release", scope.release),
            ("branch", scope.branch),
            ("environment", scope.environment),
        )
        if value
    }
    if not scope.release and not scope.branch:
        parameters["default_branch"] = scope.default_branch
    return _latest_runs_query(tuple(sorted(parameters))), parameters


@cache
def _latest_runs_query(names: tuple[str, ...]) -> Any:
    """The newest run of each suite, with the scope's parts as parameters (built once)."""
    query = core_select(func.max(col(TestRun.id))).group_by(col(TestRun.suite))
    for name in ("release", "branch", "environment"):
        if name in names:
            query = query.where(getattr(TestRun, name) == bindparam(name))
    if "default_branch" in names:
        query = query.where(
            or_(col(TestRun.branch).is_(None), col(TestRun.branch) == bindparam("default_branch"))
        )
    return query


def latest_results(
    session: Session, scope: EvidenceScope, test_case_ids: Iterable[int] | None = None
) -> dict[int, ResultFact]:
    """Return each test case's latest result in scope (newest run wins across suites)."""
    connection = session.connection()
    newest, scope_parameters = _latest_runs(scope)
    # The newest runs with their times and commits, in one read.
    runs = {
        run_id: (started_at, commit)
        for run_id, started_at, commit in connection.execute(
            _runs_query(newest), scope_parameters
        ).all()
    }
    if not runs:
        return {}
    run_ids = sorted(runs)
    queries = _result_queries(connection.dialect.name, test_case_ids is not None)
    parameters: dict[str, Any] = {"run_ids": run_ids}
    if test_case_ids is not None:
        parameters["case_ids"] = list(test_case_ids)
    facts: dict[tuple[int, str, bool], ResultFact] = {}
    latest: dict[int, ResultFact] = {}
    for case_id, outcome, run_id, flaky in connection.execute(queries, parameters).all():
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


@cache
def _runs_query(newest: Any) -> Any:
    """The newest runs (a _latest_runs_query) with their times and commits, built once."""
    return core_select(col(TestRun.id), col(TestRun.started_at), col(TestRun.commit)).where(
        col(TestRun.id).in_(newest.scalar_subquery())
    )


@cache
def _result_queries(dialect: str, of_cases: bool) -> Any:
    """The results of the given runs (of some tests only), built once."""
    # Results carry only plain columns; the few runs give time and commit (no per-row dates).
    results = core_select(
        col(TestResult.test_case_id),
        col(TestResult.outcome),
        col(TestResult.run_id),
        col(TestResult.flaky),
    ).where(one_of_parameter(dialect, col(TestResult.run_id), "run_ids"))
    if of_cases:
        results = results.where(one_of_parameter(dialect, col(TestResult.test_case_id), "case_ids"))
    return results


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
