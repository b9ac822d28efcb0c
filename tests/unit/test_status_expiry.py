"""When a status changes with no write: a passing result ageing past its freshness window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.domain.status import ObligationFacts, ResultFact, TestFact, overall_status
from tracker.domain.status_expiry import next_status_change

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def facts(*results: tuple[str, float], freshness_days: int = 30) -> ObligationFacts:
    tests = tuple(
        TestFact(test_id=f"t{n}", latest=ResultFact(outcome, n, NOW - timedelta(days=age)))
        for n, (outcome, age) in enumerate(results)
    )
    return ObligationFacts("X-1", tests=tests, freshness=timedelta(days=freshness_days))


def test_a_fresh_pass_changes_just_after_its_window_ends() -> None:
    moment = next_status_change([facts(("passed", 10), ("passed", 20))], NOW)
    assert moment is not None
    assert moment - NOW == timedelta(days=10, microseconds=1)
    ob = facts(("passed", 20))
    before = overall_status(ob, moment - timedelta(microseconds=2))
    after = overall_status(ob, moment)
    assert before.verification != after.verification


def test_a_stale_pass_changes_when_its_age_in_days_does() -> None:
    ob = facts(("passed", 40.25))
    moment = next_status_change([ob], NOW)
    assert moment == NOW + timedelta(days=0.75)
    assert overall_status(ob, moment).reasons != overall_status(ob, NOW).reasons


def test_failures_skips_and_missing_results_never_change_with_time() -> None:
    none = ObligationFacts("X-2", tests=(TestFact("t", None),))
    assert next_status_change([facts(("failed", 1), ("skipped", 2)), none], NOW) is None
    assert next_status_change([], NOW) is None
