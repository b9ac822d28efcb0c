"""Ingesting retried tests, cut texts, out-of-range timestamps and bad run fields."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.evidence_helpers import case, ingest, load_small_catalog, report, snapshot
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.errors import ReportError, ValidationError
from tracker.integrations.junit_attempts import KEPT_ATTEMPTS, read_attempts
from tracker.models import TestCase, TestResult, TestRun, UnknownClaim
from tracker.services.ingest import RunOptions, ingest_report

JUNIT = Path(__file__).resolve().parents[1] / "data" / "junit"
P, F, E, S = "passed", "failed", "error", "skipped"


def results(session: Session) -> dict[str, TestResult]:
    session.rollback()
    rows = session.exec(
        select(TestCase.name, TestResult).join(TestResult, TestResult.test_case_id == TestCase.id)
    ).all()
    return {name: result for name, result in rows}


def attempt_outcomes(result: TestResult) -> list[tuple[int, str]]:
    return [(attempt.number, attempt.outcome) for attempt in read_attempts(result.attempts)]


def test_a_repeated_testcase_is_recorded_with_its_final_attempt_and_flagged_flaky(session):
    load_small_catalog(session)
    done = ingest(
        session,
        report(
            case("test_erasure", "ALPHA-1.1", "failed", message="timeout"),
            case("test_other"),
            case("test_erasure", "ALPHA-1.1"),
        ),
    )
    assert (done.total, done.passed, done.failed, done.flaky) == (2, 2, 0, 1)
    stored = results(session)
    erasure = stored["test_erasure"]
    assert (erasure.outcome, erasure.flaky) == (P, True)
    assert attempt_outcomes(erasure) == [(1, F), (2, P)]
    # The flaky pass keeps the failure it recovered from, as its message.
    assert erasure.message == "timeout\ntimeout"
    assert stored["test_other"].attempts is None


def test_failing_on_every_rerun_is_a_failure_that_is_not_flaky(session):
    load_small_catalog(session)
    done = ingest(
        session,
        report(
            case("test_erasure", outcome="failed", message="first"),
            case("test_erasure", outcome="failed", message="second"),
        ),
    )
    assert (done.total, done.failed, done.flaky) == (1, 1, 0)
    erasure = results(session)["test_erasure"]
    assert (erasure.outcome, erasure.flaky) == (F, False)
    assert erasure.message == "second\nsecond"


def test_a_failure_after_a_pass_is_not_hidden_by_the_pass(session):
    # pytest-rerunfailures 16.6.1 writes failed attempts as empty records, then the last one.
    load_small_catalog(session)
    ingest(
        session,
        report(
            case("test_erasure"),
            case("test_erasure"),
            case("test_erasure", outcome="failed", message="assert False"),
        ),
    )
    erasure = results(session)["test_erasure"]
    assert erasure.outcome == F and erasure.message is not None
    assert attempt_outcomes(erasure) == [(1, P), (2, P), (3, F)]


def test_surefire_reruns_and_repeated_testcases_are_recorded_alike(session):
    surefire = (JUNIT / "surefire.xml").read_bytes()
    repeated = report(
        case("purgesBackups", outcome="failed", classname="x"),
        case("purgesBackups", outcome="failed", classname="x"),
        case("notifiesProcessors", outcome="failed", classname="x"),
        case("notifiesProcessors", classname="x"),
        suite="repeated",
    )
    ingest(session, surefire)
    ingest(session, repeated)
    session.rollback()
    rows = session.exec(
        select(TestRun.suite, TestCase.name, TestResult)
        .join(TestResult, TestResult.run_id == TestRun.id)
        .join(TestCase, TestCase.id == TestResult.test_case_id)
        .where(TestCase.name.in_(["purgesBackups", "notifiesProcessors"]))  # type: ignore[attr-defined]
    ).all()
    shapes: dict[str, set[tuple[str, bool, tuple[str, ...]]]] = {}
    for _suite, name, result in rows:
        outcomes = tuple(attempt.outcome for attempt in read_attempts(result.attempts))
        shapes.setdefault(name, set()).add((result.outcome, result.flaky, outcomes))
    assert shapes == {
        "purgesBackups": {(F, False, (F, F))},
        "notifiesProcessors": {(P, True, (F, P))},
    }


def test_browser_projects_are_separate_runs_and_the_worst_counts(session):
    done = ingest(session, (JUNIT / "playwright.xml").read_bytes())
    stored = results(session)
    pixels = stored["GPC › suppresses third-party pixels"]
    # Failed on chromium, skipped on firefox: a failure, and not flaky.
    assert (pixels.outcome, pixels.flaky) == (F, False)
    assert [(a.outcome, a.host) for a in read_attempts(pixels.attempts)] == [
        (F, "chromium"),
        (S, "firefox"),
    ]
    assert pixels.message is not None and "toHaveLength" in pixels.message
    assert (done.total, done.failed, done.flaky) == (2, 1, 0)


def test_a_test_rerun_many_times_keeps_its_first_and_last_attempts(session):
    attempts = [case("test_erasure", outcome="failed", message=f"try {n}") for n in range(29)]
    ingest(session, report(*attempts, case("test_erasure")))
    erasure = results(session)["test_erasure"]
    numbers = [attempt.number for attempt in read_attempts(erasure.attempts)]
    assert numbers == [*range(1, KEPT_ATTEMPTS), 30]
    assert (erasure.outcome, erasure.flaky) == (P, True)
    assert erasure.message is not None and erasure.message.endswith("try 28")


def test_failure_text_is_cut_to_the_limit_and_its_full_size_kept(session):
    text = "x" * 300_000
    with transaction(session):
        done = ingest_report(
            session=session,
            source=gzip.compress(report(case("test_erasure", outcome="failed", message=text))),
            options=RunOptions(),
            uploaded_by=cli_actor("ci"),
            text_limit=64 * 1024,
        )
    erasure = results(session)["test_erasure"]
    assert erasure.message is not None and len(erasure.message) == 64 * 1024
    assert erasure.message_size == 2 * len(text) + 1  # attribute, newline, text
    assert done.cut_texts == 1 and "1 failure texts were longer than the limit" in done.summary()


def test_attempts_share_the_text_limit_and_the_result_message_is_kept_once(session):
    first, second = "a" * 50_000, "b" * 50_000
    with transaction(session):
        ingest_report(
            session=session,
            source=report(
                case("test_erasure", outcome="failed", message=first),
                case("test_erasure", outcome="failed", message=second),
            ),
            options=RunOptions(),
            uploaded_by=cli_actor("ci"),
            text_limit=40_000,
        )
    erasure = results(session)["test_erasure"]
    one, two = read_attempts(erasure.attempts)
    assert one.message is not None and len(one.message) == 20_000 and one.message_size == 100_001
    assert two.is_result_message and two.message is None
    assert erasure.message is not None and erasure.message.startswith("bbb")
    assert len(erasure.message) == 20_000 and erasure.message_size == 100_001


@pytest.mark.parametrize(
    "stamp",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+14:00",
        "1969-07-20T20:17:40Z",
        "2999-01-01T00:00:00Z",
        "not a date",
    ],
)
def test_an_implausible_timestamp_is_ignored_with_a_note(session, stamp):
    xml = report(case("test_erasure")).replace(
        b"tests='1'", f"tests='1' timestamp='{stamp}'".encode()
    )
    done = ingest(session, xml)
    run = session.get(TestRun, done.run_id)
    assert run is not None and run.started_at == run.created_at
    assert f"The report's timestamp '{stamp}'" in done.summary()
    assert "counts as started when it was received" in done.summary()


def test_a_plausible_timestamp_is_the_runs_start(session):
    done = ingest(session, report(case("test_erasure"), days_ago=3))
    run = session.get(TestRun, done.run_id)
    assert run is not None
    assert timedelta(days=2.9) < run.created_at - run.started_at < timedelta(days=3.1)
    assert done.notes == []


def test_a_test_id_longer_than_its_column_writes_nothing(session, engine):
    load_small_catalog(session)
    before = snapshot(engine)
    with pytest.raises(ReportError, match="1,001 characters long") as caught:
        ingest(session, report(case("ok"), case("n" * (1001 - len("pytest/tests.test_privacy/")))))
    assert caught.value.line == 1
    session.rollback()
    assert snapshot(engine) == before


def test_a_long_file_name_is_shortened_visibly_and_control_characters_replaced(session):
    done = ingest(session, report(case("t")), source_name="r\x00" + "x" * 400 + ".xml")
    run = session.get(TestRun, done.run_id)
    assert run is not None and len(run.source_name) == 300
    assert run.source_name.startswith("r?xxx") and run.source_name.endswith("x…")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("commit", "c" * 65, "commit is 65 characters long; at most 64"),
        ("branch", "main\x00", "branch holds control characters"),
        ("release", "2026.12\n", "release holds control characters"),
        ("suite", "s" * 301, "suite is 301 characters long"),
    ],
)
def test_run_fields_that_do_not_fit_are_refused_before_anything_is_written(
    session, engine, field, value, message
):
    before = snapshot(engine)
    with pytest.raises(ValidationError, match=message) as caught:
        ingest(session, report(case("test_erasure")), **{field: value})
    assert caught.value.field == field
    session.rollback()
    assert snapshot(engine) == before


def test_a_run_lists_at_most_a_thousand_unknown_ids_but_keeps_every_claim(session):
    cases = [
        case(f"t{group}", ",".join(f"NOPE-{group}.{number}" for number in range(200)))
        for group in range(6)
    ]
    done = ingest(session, report(*cases))
    assert len(done.unknown_ids) == 1000
    run = session.get(TestRun, done.run_id)
    assert run is not None and len(run.unknown_ids) == 1000
    assert len(session.exec(select(UnknownClaim)).all()) == 1200
