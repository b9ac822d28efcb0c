"""A `tracker worker` killed (SIGKILL) in the middle of a sync job on Redis loses nothing: the next
worker finds the job of the dead process, runs it again, and the data ends complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.helpers import SMALL_CATALOG, transaction
from tests.integration.jira_checks import AUTH, EMAIL, TOKEN, assert_converged
from tests.integration.test_jira_sync_interrupted import JQL, assert_pages_are_whole, seeded_state
from tracker import create_app
from tracker.catalog import read_catalog
from tracker.config import TestConfig
from tracker.domain.access import cli_actor
from tracker.jobs.queue import get_queue, submit
from tracker.models import Job, SyncLock, SyncRun
from tracker.sandbox import Fault, SandboxServer
from tracker.services.catalog import load_catalog

#: The queue's own Redis database; the name keeps this test's keys apart from any other.
REDIS_URL = "redis://127.0.0.1:6379/1"
WAIT = 90


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_state(), mode="cloud", auth=AUTH) as server:
        yield server


@pytest.fixture
def queue_name() -> str:
    return f"tracker-killed-worker-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def redis_app(engine: Engine, database_url: str, queue_name: str) -> Iterator[Flask]:
    """The web side: it only enqueues, on Redis."""
    app = create_app(
        TestConfig,
        DATABASE_URL=database_url,
        ENGINE=engine,
        JOBS_IMMEDIATE=False,
        REDIS_URL=REDIS_URL,
        JOBS_NAME=queue_name,
    )
    yield app
    get_queue(app).storage.flush_all()


def start_worker(
    sandbox: SandboxServer, database_url: str, queue_name: str, folder: Path, name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `tracker worker` as its own process, configured only by the environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=database_url,
        TRACKER_SECRET_KEY="killed-worker-test",
        TRACKER_INSTANCE_PATH=str(folder),
        TRACKER_REDIS_URL=REDIS_URL,
        TRACKER_JOBS_NAME=queue_name,
        TRACKER_JOB_HEARTBEAT_SECONDS="1",
        TRACKER_JIRA_URL=sandbox.url,
        TRACKER_JIRA_EMAIL=EMAIL,
        TRACKER_JIRA_API_TOKEN=TOKEN,
        TRACKER_JIRA_JQL=JQL,
        TRACKER_JIRA_TIMEOUT="20",
        # Only the job under test runs: no schedule fires during it.
        TRACKER_JIRA_SYNC_EVERY="off",
        TRACKER_JIRA_FULL_SYNC_AT="off",
        TRACKER_READINESS_RECORD_AT="off",
    )
    log = folder / f"{name}.log"
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "worker"]
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [*command, "--workers", "1"], env=env, cwd=folder, stdout=output, stderr=output
        )
    return process, log


def wait_until(
    what: str, check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    """Wait (bounded) until another process has made `check` true, failing if it died first."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            pytest.fail(f"the worker ended before {what}:\n{log.read_text()}")
        time.sleep(0.05)  # another process writes it: polling is the only way to see it
    pytest.fail(f"not within {WAIT} s: {what}\n{log.read_text()}")


def the_job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        found = session.get(Job, job_id)
    assert found is not None
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # a graceful stop of the consumer
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def test_a_sync_job_of_a_killed_worker_is_run_again_by_the_next_worker_and_completes(
    engine: Engine,
    session: Session,
    database_url: str,
    sandbox: SandboxServer,
    redis_app: Flask,
    queue_name: str,
    tmp_path: Path,
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    # Five pages of 100 issues, each answered slowly: time enough to kill the worker mid-sync.
    sandbox.state.faults.add(Fault(delay_seconds=0.75, path_contains="/search"))
    first, first_log = start_worker(sandbox, database_url, queue_name, tmp_path, "first")
    try:
        job_id = submit(redis_app, "sync", {}, cli_actor("tester"))
        assert job_id is not None

        def one_page_stored() -> bool:
            with Session(engine) as check:
                run = check.exec(select(SyncRun).where(SyncRun.status == "running")).first()
            return run is not None and run.pages >= 1

        wait_until("a page was stored", one_page_stored, first, first_log)
        running = the_job(engine, job_id)
        assert running.state == "running" and running.worker_pid == first.pid
        first.kill()  # SIGKILL: no handler runs, nothing is cleaned up
        first.wait(timeout=30)
    finally:
        stop(first)

    assert_pages_are_whole(engine)
    assert the_job(engine, job_id).state == "running"  # as the dead worker left it
    sandbox.state.faults.clear()

    second, second_log = start_worker(sandbox, database_url, queue_name, tmp_path, "second")
    try:
        wait_until(
            "the job ended",
            lambda: the_job(engine, job_id).state in ("succeeded", "failed", "interrupted"),
            second,
            second_log,
        )
    finally:
        stop(second)

    done = the_job(engine, job_id)
    assert done.state == "succeeded", (done.failure, second_log.read_text())
    assert done.attempts == 2 and done.worker_pid == second.pid
    assert done.result is not None and done.result["summary"].startswith("5 page(s):")
    assert_converged(sandbox.state, engine)
    with Session(engine) as check:
        runs = check.exec(select(SyncRun).order_by(SyncRun.id)).all()  # type: ignore[arg-type]
        assert [run.status for run in runs] == ["interrupted", "succeeded with problems"]
        assert "stopped before it finished" in runs[0].problems[-1]
        assert check.exec(select(SyncLock)).all() == []
