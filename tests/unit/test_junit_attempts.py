"""Tests a report ran more than once: the deciding attempt, flakiness, hosts, what is kept."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from tracker.integrations.junit import read_report
from tracker.integrations.junit_attempts import (
    KEPT_ATTEMPTS,
    StoredAttempt,
    attempts_json,
    decide,
    decide_across_hosts,
    kept_numbers,
    read_attempts,
)

JUNIT = Path(__file__).resolve().parents[1] / "data" / "junit"
P, F, E, S = "passed", "failed", "error", "skipped"


class Ran(NamedTuple):
    outcome: str
    message: str | None = None
    host: str | None = None


def test_the_last_attempt_decides_and_a_pass_after_a_failure_is_flaky() -> None:
    decision = decide([Ran(F, "boom"), Ran(P)])
    assert (decision.outcome, decision.flaky, decision.message_index) == (P, True, 0)


def test_failing_every_time_is_a_failure_not_flakiness() -> None:
    decision = decide([Ran(F, "first"), Ran(F, "second")])
    assert (decision.outcome, decision.flaky, decision.message_index) == (F, False, 1)


def test_a_failure_after_a_pass_fails_and_is_flagged_flaky() -> None:
    # pytest-rerunfailures 16.6.1 writes the failed attempts as empty (passing) records.
    decision = decide([Ran(P), Ran(P), Ran(F, "assert False")])
    assert (decision.outcome, decision.flaky, decision.message_index) == (F, True, 2)


def test_skips_and_errors_mixed_with_passes() -> None:
    assert decide([Ran(S, "later"), Ran(P)]).flaky is False
    assert decide([Ran(E, "setup"), Ran(P)]).flaky is True


def test_hosts_are_separate_runs_and_the_worst_host_decides() -> None:
    chromium_fails = [Ran(F, "pixel", "chromium"), Ran(S, None, "firefox")]
    decision = decide_across_hosts(chromium_fails)
    assert (decision.outcome, decision.flaky, decision.message_index) == (F, False, 0)
    retried = [Ran(F, "slow", "chromium"), Ran(P, None, "firefox"), Ran(P, None, "chromium")]
    decision = decide_across_hosts(retried)
    assert (decision.outcome, decision.flaky, decision.message_index) == (P, True, 0)
    worst = decide_across_hosts([Ran(F, "a", "one"), Ran(E, "b", "two"), Ran(P, None, "three")])
    assert (worst.outcome, worst.message_index) == (E, 1)


def test_one_host_is_decided_like_plain_attempts() -> None:
    attempts = [Ran(F, "x", "ci-1"), Ran(P, None, "ci-1")]
    assert decide_across_hosts(attempts) == decide(attempts)


@pytest.mark.parametrize(
    ("count", "kept"),
    [
        (2, [0, 1]),
        (KEPT_ATTEMPTS, list(range(KEPT_ATTEMPTS))),
        (30, [*range(KEPT_ATTEMPTS - 1), 29]),
    ],
)
def test_the_first_attempts_and_the_last_are_kept(count: int, kept: list[int]) -> None:
    assert kept_numbers(count) == kept


def test_stored_attempts_round_trip_and_bad_json_reads_as_none() -> None:
    attempts = [
        StoredAttempt(1, F, 0.5, "chromium", "Boom «é»", 90_000, False),
        StoredAttempt(2, P, None, None, None, None, True),
    ]
    assert read_attempts(attempts_json(attempts)) == attempts
    assert read_attempts(None) == read_attempts("") == read_attempts("{not json") == []
    assert read_attempts('{"a": 1}') == read_attempts("[1, 2]") == []


def test_surefire_reruns_inside_one_testcase_are_its_attempts_in_order() -> None:
    cases, _ = read_report(JUNIT / "surefire.xml")
    by_name = {case.name: case for case in cases}
    rerun = by_name["purgesBackups"]
    assert [(attempt.outcome, attempt.duration) for attempt in rerun.attempts] == [
        (F, 0.503),
        (F, None),
    ]
    assert (rerun.outcome, rerun.flaky) == (F, False)
    flaky = by_name["notifiesProcessors"]
    assert [attempt.outcome for attempt in flaky.attempts] == [F, P]
    assert flaky.attempts[0].message is not None
    assert flaky.attempts[0].message.startswith("Connection refused\n")
    assert (flaky.outcome, flaky.flaky) == (P, True)
    assert by_name["deletesAccount"].attempts == ()


def test_nextest_reruns_keep_their_own_durations() -> None:
    cases, _ = read_report(JUNIT / "nextest.xml")
    by_name = {case.name: case for case in cases}
    assert [(a.outcome, a.duration) for a in by_name["erasure::purges_backups"].attempts] == [
        (F, 0.3),
        (F, 0.29),
    ]
    assert [
        (a.outcome, a.duration) for a in by_name["consent::gpc_header_is_honoured"].attempts
    ] == [
        (F, 0.04),
        (P, 0.05),
    ]


def test_a_rerun_that_errors_after_a_failure_ends_in_error() -> None:
    xml = b"""<testsuite name="s"><testcase name="t" time="1">
      <failure message="first">a</failure><rerunError message="second">b</rerunError>
    </testcase></testsuite>"""
    (case,), summary = read_report(xml)
    assert [attempt.outcome for attempt in case.attempts] == [F, E]
    assert (case.outcome, case.flaky, case.message) == (E, False, "second\nb")
    assert summary.errors == 1 and summary.failed == 0


def test_playwright_cases_carry_their_browser_project_as_host() -> None:
    cases, _ = read_report(JUNIT / "playwright.xml")
    assert [case.host for case in cases] == ["chromium", "chromium", "firefox", "firefox"]
