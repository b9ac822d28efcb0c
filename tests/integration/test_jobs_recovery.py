"""Claims, lost messages, late schedules and scheduled runs that meet a running one."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker import create_app
from tracker.catalog import read_catalog
from tracker.config import Config, TestConfig
from tracker.domain.access import cli_actor
from tracker.errors import ConflictError
from tracker.jobs import records
from tracker.jobs.kinds import KINDS, JobKind
from tracker.jobs.queue import enqueue, get_queue, submit
from tracker.jobs.recovery import requeue_lost
from tracker.jobs.runner import JobContext, execute_job
from tracker.jobs.schedules import Schedule, fire_due
from tracker.logs import bound_request_id
from tracker.metrics import REGISTRY
from tracker.models import Job, ReadinessRecord, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.releases import create_release

#: What the probe job does, set by each test.
PROBE: dict[str, Any] = {}


def run(context: JobContext) -> dict[str, Any]:
    """The probe kind's task: count its runs, or raise what the test asks for."""
    PROBE["runs"] = PROBE.get("runs", 0) + 1
    error = PROBE.get("raise")
    if error is not None:
        raise error
    return {"summary": "probed", "slot": context.params.get("slot")}


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


def waiting(engine: Engine, kind: str, **values: Any) -> int:
    """Record a job (never queued), then set the fields a test needs."""
    job_id = records.create_job(engine, kind=kind, params={}, actor=cli_actor("t"), request_id=None)
    assert job_id is not None
    if values:
        with engine.begin() as connection:
            connection.execute(update(Job).where(col(Job.id) == job_id).values(**values))
    return job_id


# --- 1.1: one claim per job ---------------------------------------------------------------


def test_a_job_is_claimed_by_one_of_many_workers_at_once(engine: Engine, probe: str) -> None:
    job_id = waiting(engine, probe)
    start = threading.Barrier(6)
    claims: list[records.Claimed | None] = []

    def claim() -> None:
        start.wait()
        claims.append(records.claim(engine, job_id))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 6 and len([found for found in claims if found]) == 1
    assert job(engine, job_id).attempts == 1 and job(engine, job_id).state == "running"


def test_a_running_job_is_not_run_again_by_a_repeated_message(
    app: Flask, engine: Engine, probe: str
) -> None:
    job_id = waiting(engine, probe)
    assert records.claim(engine, job_id) is not None
    execute_job(app, job_id)  # a second message of the same job
    assert "runs" not in PROBE
    assert job(engine, job_id).state == "running" and job(engine, job_id).attempts == 1


def test_a_run_given_up_as_abandoned_cannot_overwrite_the_run_that_took_over(
    engine: Engine, probe: str, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = waiting(engine, probe)
    zombie = records.claim(engine, job_id)
    assert zombie is not None
    # Its heartbeat stopped (a long pause); the recovery queued the job again; it ran again.
    assert records.mark_abandoned(engine, job(engine, job_id), "queued", "queued again")
    taken = records.claim(engine, job_id)
    assert taken is not None and taken.attempts == 2
    records.record_progress(engine, zombie, "zombie progress", 9, 9)
    records.beat(engine, zombie)
    with caplog.at_level(logging.WARNING, logger="tracker.jobs.records"):
        assert not records.finish(engine, zombie, "failed", failure="zombie failure")
    assert f"job {job_id}: attempt 1 ended failed after the job was taken" in caplog.text
    current = job(engine, job_id)
    assert current.state == "running" and current.failure is None
    assert current.progress_text != "zombie progress"
    assert records.finish(engine, taken, "succeeded", result={"summary": "done"})
    assert job(engine, job_id).state == "succeeded"


# --- 1.2: lost messages -------------------------------------------------------------------


def test_jobs_whose_message_was_lost_are_queued_again_and_run(
    app: Flask, engine: Engine, probe: str
) -> None:
    app.config.update(JOB_STALE_SECONDS=120, JOB_RETRY_DELAY=30, JOB_RETRY_MAX_DELAY=900)
    old = utcnow() - timedelta(minutes=10)
    lost = waiting(engine, probe, created_at=old)  # the web app died before queueing it
    fresh = waiting(engine, probe)  # a worker will get to it
    # Failed at its 2nd attempt 10 minutes ago: the 60 s delay and the 120 s limit are over.
    retry_lost = waiting(engine, probe, state="retrying", attempts=2, heartbeat_at=old)
    # Its 7th attempt waits the longest delay, 15 minutes: it is not due yet.
    retry_waits = waiting(engine, probe, state="retrying", attempts=6, heartbeat_at=old)
    done = waiting(engine, probe, state="succeeded", created_at=old)

    assert sorted(requeue_lost(app)) == sorted([lost, retry_lost])
    assert job(engine, lost).state == "succeeded" and job(engine, lost).attempts == 1
    assert job(engine, retry_lost).state == "succeeded" and job(engine, retry_lost).attempts == 3
    assert job(engine, fresh).state == "queued" and job(engine, retry_waits).state == "retrying"
    assert job(engine, done).state == "succeeded" and PROBE["runs"] == 2
    assert requeue_lost(app) == []


def test_a_late_job_whose_message_still_waits_in_the_queue_is_not_queued_twice(
    engine: Engine, database_url: str, tmp_path: Path, probe: str
) -> None:
    queued = create_app(
        TestConfig,
        DATABASE_URL=database_url,
        ENGINE=engine,
        JOBS_IMMEDIATE=False,
        JOBS_NAME="recovery-test",
        READINESS_RECORD_AT=None,
    )
    queued.instance_path = str(tmp_path)
    old = utcnow() - timedelta(minutes=10)
    in_queue = waiting(engine, probe)
    enqueue(queued, in_queue)  # no consumer runs: it waits behind a long queue
    lost = waiting(engine, probe)
    with engine.begin() as connection:
        connection.execute(update(Job).values(created_at=old))

    assert requeue_lost(queued) == [lost]
    assert get_queue(queued).pending_count() == 2  # one message each, not three
    assert job(engine, lost).task_id is not None
    assert records.moment(job(engine, in_queue).heartbeat_at) is not None  # waits from now
    assert requeue_lost(queued) == []


# --- 1.5: a scheduled run that meets a running one ----------------------------------------


def test_a_scheduled_run_that_meets_a_running_one_is_skipped_not_failed(
    app: Flask, engine: Engine, probe: str
) -> None:
    PROBE["raise"] = ConflictError("Another Jira sync is running since 10:00 UTC by cron.")
    failures = REGISTRY.get_sample_value("tracker_job_failures_total", {"kind": probe}) or 0.0
    scheduled = job(engine, submit(app, probe, {}, cli_actor("s"), schedule_key="probe@1"))
    assert scheduled.state == "succeeded" and scheduled.failure is None
    assert scheduled.result == {
        "skipped": True,
        "summary": "Skipped: another Probe was running, so this scheduled run did nothing.",
    }
    after = REGISTRY.get_sample_value("tracker_job_failures_total", {"kind": probe}) or 0.0
    assert after == failures
    by_hand = job(engine, submit(app, probe, {}, cli_actor("s")))
    assert by_hand.state == "failed" and by_hand.failure is not None
    assert by_hand.failure.endswith("by cron. This job did nothing.")


# --- 1.6: late schedules ------------------------------------------------------------------


def test_a_daily_run_missed_by_a_restart_is_caught_up_within_hours_once(
    app: Flask, engine: Engine, probe: str
) -> None:
    nightly = Schedule("probe-nightly", probe, "Probe", daily_at="02:30")
    restarted = datetime(2026, 12, 2, 4, 10, tzinfo=UTC)
    job_id = fire_due(app, nightly, restarted)
    caught_up = job(engine, job_id)
    assert caught_up.schedule_key == "probe-nightly@2026-12-02T02:30"
    assert caught_up.result == {"summary": "probed", "slot": "2026-12-02T02:30:00+00:00"}
    assert fire_due(app, nightly, restarted + timedelta(minutes=1)) is None  # ran already
    # Down all night: more than three hours late, the run is left for the next night.
    assert fire_due(app, nightly, datetime(2026, 12, 3, 6, 0, tzinfo=UTC)) is None
    every = Schedule("probe-often", probe, "Probe", every_minutes=10)
    assert fire_due(app, every, datetime(2026, 12, 3, 6, 7, tzinfo=UTC)) is not None
    with Session(engine) as session:
        keys = session.exec(select(Job.schedule_key).order_by(col(Job.id))).all()
    assert keys == ["probe-nightly@2026-12-02T02:30", "probe-often@2026-12-03T06:00"]


def test_a_late_readiness_record_is_kept_for_the_day_of_its_run(
    app: Flask, engine: Engine, session: Session
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("l"))
        create_release(session=session, name="2099.01", release_date=None, actor=cli_actor("c"))
    readiness = Schedule("readiness", "readiness", "Readiness record", daily_at="23:50")
    job_id = fire_due(app, readiness, datetime(2026, 12, 2, 0, 40, tzinfo=UTC))
    done = job(engine, job_id)
    assert done.state == "succeeded", done.failure
    assert done.result is not None and done.result["day"] == "2026-12-01"
    with Session(engine) as check:
        (record,) = check.exec(select(ReadinessRecord)).all()
    assert record.day.isoformat() == "2026-12-01"


# --- the rest of the review ---------------------------------------------------------------


def test_a_job_submitted_without_a_request_id_carries_none_even_inside_a_request(
    app: Flask, engine: Engine, probe: str
) -> None:
    with bound_request_id("req-outer"):
        inherited = submit(app, probe, {}, cli_actor("t"))
        without = submit(app, probe, {}, cli_actor("t"), request_id=None)
    assert job(engine, inherited).request_id == "req-outer"
    assert job(engine, without).request_id is None


def test_a_heartbeat_not_shorter_than_the_stale_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="^TRACKER_JOB_HEARTBEAT_SECONDS \\(120\\) must be less"):
        Config.from_env({"TRACKER_JOB_HEARTBEAT_SECONDS": "120"})
    with pytest.raises(ValueError, match="TRACKER_JOB_STALE_SECONDS \\(10\\)"):
        Config.from_env({"TRACKER_JOB_STALE_SECONDS": "10"})
    values = Config.from_env(
        {"TRACKER_JOB_HEARTBEAT_SECONDS": "5", "TRACKER_JOB_STALE_SECONDS": "30"}
    )
    assert (values["JOB_HEARTBEAT_SECONDS"], values["JOB_STALE_SECONDS"]) == (5, 30)
    assert Config.from_env({"TRACKER_MAX_JOB_REPORT_SECONDS": "60"})["MAX_JOB_REPORT_SECONDS"] == 60
    assert Config.from_env({})["MAX_JOB_REPORT_SECONDS"] == 300
