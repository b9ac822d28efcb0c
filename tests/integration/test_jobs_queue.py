"""Jobs on the queue: records, request ids, metrics, retries with back-off, schedules, recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from huey.exceptions import RetryTask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker import create_app
from tracker.catalog import read_catalog
from tracker.config import Config, TestConfig
from tracker.domain.access import cli_actor
from tracker.errors import ConflictError, JiraError
from tracker.jobs import records
from tracker.jobs.kinds import KINDS, JobKind
from tracker.jobs.queue import queue_depth, queue_problem, submit
from tracker.jobs.recovery import recover_abandoned
from tracker.jobs.runner import JobContext, execute_job, retry_delay
from tracker.jobs.schedules import Schedule, fire, schedules
from tracker.logs import bound_request_id, current_request_id
from tracker.metrics import REGISTRY
from tracker.models import Job, ReadinessRecord, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.releases import create_release
from tracker.services.sync_lock import host_identity

#: What the probe job does, set by each test (the probe kind runs `run` below).
PROBE: dict[str, Any] = {}


def run(context: JobContext) -> dict[str, Any]:
    """The probe kind's task: say what it saw, or raise what the test asks for."""
    error = PROBE.get("raise")
    if error is not None:
        raise error
    context.start_total(3, "Probing")
    context.advance(3)
    return {"request_id": current_request_id(), "actor": context.actor.name, "summary": "probed"}


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> str:
    PROBE.clear()
    monkeypatch.setitem(KINDS, "probe", JobKind("probe", "Probe", __name__, True))
    return "probe"


def job(engine: Engine, job_id: int | None) -> Job:
    assert job_id is not None
    with Session(engine) as session:
        found = session.get(Job, job_id)
    assert found is not None
    return found


def metric(name: str, kind: str) -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0


def test_a_job_records_its_outcome_carries_the_request_id_and_counts_in_the_metrics(
    app: Flask, engine: Engine, probe: str
) -> None:
    runs_before = metric("tracker_job_duration_seconds_count", probe)
    with bound_request_id("req-4711"):
        job_id = submit(app, probe, {}, cli_actor("tester"))
    done = job(engine, job_id)
    assert done.state == "succeeded" and done.attempts == 1
    assert done.result == {"request_id": "req-4711", "actor": "tester", "summary": "probed"}
    assert done.request_id == "req-4711" and done.actor == "tester"
    assert (done.progress_text, done.progress_done, done.progress_total) == ("Probing", 3, 3)
    assert done.started_at and done.finished_at and done.heartbeat_at
    assert done.worker == f"{os.uname().nodename}:{os.getpid()}"
    assert done.worker_host == host_identity() and done.worker_pid == os.getpid()
    assert metric("tracker_job_duration_seconds_count", probe) == runs_before + 1
    assert current_request_id() is None  # bound only while the job ran


def test_a_retryable_jira_failure_waits_longer_each_time_then_gives_up(
    app: Flask, engine: Engine, probe: str
) -> None:
    app.config.update(JOB_RETRIES=5, JOB_RETRY_DELAY=30, JOB_RETRY_MAX_DELAY=200)
    PROBE["raise"] = JiraError("Jira failed to search issues (HTTP 503).", 503, retryable=True)
    job_id = records.create_job(
        engine, kind=probe, params={}, actor=cli_actor("t"), request_id=None
    )
    assert job_id is not None
    delays = []
    for _attempt in range(5):
        with pytest.raises(RetryTask) as retry:
            execute_job(app, job_id)
        delays.append(retry.value.delay)
        record = job(engine, job_id)
        assert record.state == "retrying" and record.finished_at is None
        assert record.failure is not None and f"next starts in {delays[-1]} s" in record.failure
    assert delays == [30, 60, 120, 200, 200]  # doubling, capped
    failures_before = metric("tracker_job_failures_total", probe)
    execute_job(app, job_id)  # the sixth attempt is the last
    final = job(engine, job_id)
    assert final.state == "failed" and final.attempts == 6
    assert final.failure == (
        "Jira failed to search issues (HTTP 503). Gave up after 6 attempts; start it again later."
    )
    assert metric("tracker_job_failures_total", probe) == failures_before + 1
    assert [retry_delay(app, attempt) for attempt in (1, 2, 3)] == [30, 60, 120]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (JiraError("Jira refused to create the issue (HTTP 400).", 400), "(HTTP 400)."),
        (JiraError("The Jira account has no permission to search.", 403), "to search."),
        # Jira's client may repeat a 409 at once; a job's later retry would meet the same.
        (JiraError("Jira refused to update (HTTP 409).", 409, retryable=True), "(HTTP 409)."),
        (
            ConflictError("Another Jira sync is running since 10:00 UTC by cron."),
            "by cron. This job did nothing.",
        ),
    ],
)
def test_refusals_and_lock_conflicts_fail_at_once_without_a_retry(
    app: Flask, engine: Engine, probe: str, error: Exception, expected: str
) -> None:
    PROBE["raise"] = error
    failed = job(engine, submit(app, probe, {}, cli_actor("t")))
    assert failed.state == "failed" and failed.attempts == 1
    assert failed.failure is not None and failed.failure.endswith(expected)


def test_an_unexpected_error_is_recorded_in_words_without_a_traceback(
    app: Flask, engine: Engine, probe: str
) -> None:
    PROBE["raise"] = KeyError("secret-internal-key")
    failed = job(engine, submit(app, probe, {}, cli_actor("t")))
    assert failed.state == "failed"
    assert failed.failure == (
        "The job stopped on an unexpected error (KeyError); the worker's log has the details. "
        "Start it again, or ask the tracker's administrator."
    )


def test_a_finished_job_is_not_run_again(app: Flask, engine: Engine, probe: str) -> None:
    job_id = submit(app, probe, {}, cli_actor("t"))
    assert job_id is not None
    PROBE["raise"] = RuntimeError("must not run")
    execute_job(app, job_id)
    assert job(engine, job_id).state == "succeeded" and job(engine, job_id).attempts == 1


def _running(engine: Engine, kind: str, *, pid: int, host: str, beat: datetime) -> int:
    job_id = records.create_job(engine, kind=kind, params={}, actor=cli_actor("t"), request_id=None)
    assert job_id is not None
    with Session(engine) as session, session.begin():
        record = session.get(Job, job_id)
        assert record is not None
        record.state, record.attempts = "running", 1
        record.worker, record.worker_host, record.worker_pid = f"elsewhere:{pid}", host, pid
        record.started_at = record.heartbeat_at = beat
        session.add(record)
    return job_id


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return process.pid


def test_jobs_of_a_dead_worker_are_run_again_when_safe_and_else_marked_interrupted(
    app: Flask, engine: Engine, probe: str
) -> None:
    now = utcnow()
    here, pid = host_identity(), dead_pid()
    rerun = _running(engine, probe, pid=pid, host=here, beat=now)  # dead here: at once
    freeze = _running(engine, "freeze", pid=pid, host=here, beat=now)
    # Another machine's worker: only a heartbeat older than the limit tells it died.
    silent = _running(engine, "freeze", pid=4242, host="other-host", beat=now - timedelta(hours=1))
    alive = _running(engine, "freeze", pid=4243, host="other-host", beat=now)
    mine = _running(engine, "freeze", pid=os.getpid(), host=here, beat=now - timedelta(hours=1))

    recovered = recover_abandoned(app)

    assert sorted(recovered) == sorted([rerun, freeze, silent])
    again = job(engine, rerun)
    assert again.state == "succeeded" and again.attempts == 2  # queued again, and it ran
    assert again.progress_text == "Probing"
    for job_id in (freeze, silent):
        stopped = job(engine, job_id)
        assert stopped.state == "interrupted" and stopped.finished_at is not None
        assert stopped.failure is not None
        assert stopped.failure.startswith("The worker elsewhere:")
        assert "freeze it again if no new one is there" in stopped.failure
    assert job(engine, alive).state == "running"
    assert job(engine, mine).state == "running"  # this process runs it: its heartbeat is fresh


def test_the_daily_readiness_job_records_each_open_release(
    app: Flask, engine: Engine, session: Session
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("l"))
        create_release(session=session, name="2099.01", release_date=None, actor=cli_actor("c"))
        create_release(
            session=session,
            name="2001.01",
            release_date=datetime(2001, 1, 1, tzinfo=UTC).date(),
            actor=cli_actor("c"),
        )
    (planned,) = [item for item in schedules(app) if item.kind == "readiness"]
    job_id = fire(app, planned, datetime.now(UTC))
    done = job(engine, job_id)
    assert done.state == "succeeded", done.failure
    assert done.result is not None
    assert [entry["release"] for entry in done.result["releases"]] == ["2099.01"]
    assert done.result["summary"] == "1 open release(s) recorded, 0 ready."
    assert done.actor.startswith("schedule: readiness record (daily at 23:50 UTC)")
    with Session(engine) as check:
        (record,) = check.exec(select(ReadinessRecord)).all()
    assert record.release == "2099.01" and record.total > 0


def test_a_schedule_fired_by_several_workers_in_one_minute_runs_once(
    app: Flask, engine: Engine
) -> None:
    planned = Schedule("readiness", "readiness", "Readiness record", daily_at="23:50")
    moment = datetime(2026, 12, 1, 23, 50, 5, tzinfo=UTC)
    first = fire(app, planned, moment)
    # Another worker got to the same run a minute late: the same run, not a second one.
    assert fire(app, planned, moment + timedelta(seconds=70)) is None
    assert first is not None
    with Session(engine) as check:
        assert [row.schedule_key for row in check.exec(select(Job)).all()] == [
            "readiness@2026-12-01T23:50"
        ]


def test_schedules_compute_their_due_minutes_and_next_runs() -> None:
    every = Schedule("jira-sync", "sync", "Jira sync", every_minutes=10)
    nightly = Schedule("jira-full-sync", "sync", "Full Jira sync", daily_at="02:30")
    at = datetime(2026, 12, 1, 22, 41, 30, tzinfo=UTC)
    assert every.next_run(at) == datetime(2026, 12, 1, 22, 50, tzinfo=UTC)
    assert every.slot(at) == datetime(2026, 12, 1, 22, 40, tzinfo=UTC)
    assert nightly.next_run(at) == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    assert nightly.due(datetime(2026, 12, 2, 2, 30, 59)) and not nightly.due(at)
    odd = Schedule("jira-sync", "sync", "Jira sync", every_minutes=7)
    assert odd.next_run(datetime(2026, 12, 1, 23, 58, tzinfo=UTC)) == datetime(
        2026, 12, 2, 0, 0, tzinfo=UTC
    )
    assert every.description == "every 10 minute(s)" and nightly.description == "daily at 02:30 UTC"


def test_the_jira_schedules_are_on_only_with_jira_and_can_be_turned_off(app: Flask) -> None:
    from tracker.integrations.jira_records import JiraSettings

    app.config["JIRA_SETTINGS"] = None
    assert [item.name for item in schedules(app)] == ["readiness"]
    app.config["JIRA_SETTINGS"] = JiraSettings(url="https://jira.example.test", pat="p")
    assert [item.name for item in schedules(app)] == ["jira-sync", "jira-full-sync", "readiness"]
    app.config.update(JIRA_SYNC_EVERY=0, JIRA_FULL_SYNC_AT=None, READINESS_RECORD_AT=None)
    assert schedules(app) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRACKER_JIRA_SYNC_EVERY", "ten", "must be a number of minutes from 1 to 1440"),
        ("TRACKER_JIRA_SYNC_EVERY", "1441", "or off to stop the schedule; it is '1441'"),
        ("TRACKER_JIRA_FULL_SYNC_AT", "25:00", "must be a time of day in UTC as HH:MM"),
        ("TRACKER_READINESS_RECORD_AT", "7", "(e.g. 02:30), or off; it is '7'"),
        ("TRACKER_JOB_RETRIES", "-1", "TRACKER_JOB_RETRIES must be a whole number from 0 to 100"),
        ("TRACKER_JOB_RETRY_DELAY", "0", "TRACKER_JOB_RETRY_DELAY must be a whole number above 0"),
    ],
)
def test_invalid_schedule_settings_say_what_to_write(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + variable) as refused:
        Config.from_env({variable: value})
    assert message in str(refused.value)


def test_schedule_settings_are_read_from_the_environment() -> None:
    values = Config.from_env(
        {
            "TRACKER_JIRA_SYNC_EVERY": "off",
            "TRACKER_JIRA_FULL_SYNC_AT": "3:05",
            "TRACKER_READINESS_RECORD_AT": "off",
            "TRACKER_LARGE_REPORT_BYTES": "1024",
        }
    )
    assert values["JIRA_SYNC_EVERY"] == 0 and values["JIRA_FULL_SYNC_AT"] == "03:05"
    assert values["READINESS_RECORD_AT"] is None and values["LARGE_REPORT_BYTES"] == 1024
    assert Config.from_env({"TRACKER_JIRA_SYNC_EVERY": "15"})["JIRA_SYNC_EVERY"] == 15
    assert Config.from_env({"TRACKER_JOB_RETRIES": "0"})["JOB_RETRIES"] == 0


def test_the_queue_answers_for_readyz_and_metrics(app: Flask, tmp_path: Any) -> None:
    assert queue_problem(app) is None and queue_depth(app) == 0
    embedded = create_app(
        TestConfig, JOBS_IMMEDIATE=False, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}"
    )
    embedded.instance_path = str(tmp_path)
    assert queue_problem(embedded) is None and queue_depth(embedded) == 0
    unreachable = create_app(
        TestConfig,
        JOBS_IMMEDIATE=False,
        REDIS_URL="redis://:secret-password@127.0.0.1:1/0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    problem = queue_problem(unreachable)
    assert problem == "The job queue (Redis at 127.0.0.1:1/0) is unreachable: ConnectionError."
    assert "secret-password" not in problem
    assert queue_depth(unreachable) == -1


def test_tracker_jobs_lists_and_shows_the_jobs(
    app: Flask, engine: Engine, runner: Any, probe: str
) -> None:
    job_id = submit(app, probe, {}, cli_actor("tester"))
    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"#{job_id:<6} Probe" in listed.output and "succeeded" in listed.output
    assert "probed" in listed.output
    assert runner.invoke(args=["jobs", "list", "--state", "failed"]).output == "No job matches.\n"
    refused = runner.invoke(args=["jobs", "list", "--kind", "nothing"])
    assert refused.exit_code == 2 and "must be one of sync, push" in refused.output
    shown = runner.invoke(args=["jobs", "show", str(job_id)])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["state"] == "succeeded" and data["result"]["summary"] == "probed"
    assert data["created_at"].endswith("Z")
    missing = runner.invoke(args=["jobs", "show", "999"])
    assert missing.exit_code == 1 and "There is no job #999." in missing.output


def test_a_job_of_a_kind_this_worker_does_not_know_fails_saying_to_upgrade(
    app: Flask, engine: Engine
) -> None:
    job_id = records.create_job(
        engine, kind="from-a-newer-tracker", params={}, actor=cli_actor("t"), request_id=None
    )
    assert job_id is not None
    execute_job(app, job_id)
    failed = job(engine, job_id)
    assert failed.state == "failed" and failed.failure is not None
    assert failed.failure.startswith("This worker does not know jobs of the kind")
    assert "upgrade it to the web app's version" in failed.failure
