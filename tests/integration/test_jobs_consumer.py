"""The embedded consumer end to end: Huey's SQLite storage in the instance folder, real threads,
the sandbox Jira over loopback HTTP. The button answers at once; the job finishes on its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from huey.signals import SIGNAL_COMPLETE, SIGNAL_RETRYING
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.helpers import SMALL_CATALOG, csrf_token, transaction
from tests.integration.jira_checks import AUTH, EMAIL, TOKEN, assert_converged
from tests.integration.test_jira_sync_interrupted import ISSUES, JQL, seeded_state
from tracker import create_app
from tracker.catalog import read_catalog
from tracker.config import TestConfig
from tracker.domain.access import cli_actor
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.jobs.consumer import start_embedded_consumer
from tracker.jobs.queue import get_queue, jobs_file, submit
from tracker.models import Job, SyncRun
from tracker.sandbox import Fault, SandboxServer
from tracker.services.catalog import load_catalog

WAIT = 60  # seconds: a bound for a job that must end, never a pause


class Finished:
    """Counts the queue's finished task runs (and retries), so a test waits on an event."""

    def __init__(self, app: Flask) -> None:
        self._condition = threading.Condition()
        self.completed = 0
        self.retried = 0
        self.on_retry: list[Any] = []
        queue = get_queue(app)
        queue.signal(SIGNAL_COMPLETE)(self._complete)
        queue.signal(SIGNAL_RETRYING)(self._retrying)

    def _complete(self, _signal: str, task: Any) -> None:
        if type(task).__name__ == "run_job":
            with self._condition:
                self.completed += 1
                self._condition.notify_all()

    def _retrying(self, _signal: str, _task: Any) -> None:
        with self._condition:
            self.retried += 1
        for action in self.on_retry:
            action()

    def wait_for(self, count: int) -> None:
        with self._condition:
            assert self._condition.wait_for(lambda: self.completed >= count, timeout=WAIT), (
                f"{self.completed} of {count} jobs finished within {WAIT} s"
            )


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_state(), mode="cloud", auth=AUTH) as server:
        yield server


@pytest.fixture
def embedded(
    engine: Engine, database_url: str, tmp_path: Path, sandbox: SandboxServer, session: Session
) -> Iterator[tuple[Flask, Finished]]:
    """The app with its queue in the instance folder and two consumer threads running it."""
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    app = create_app(
        TestConfig,
        DATABASE_URL=database_url,
        ENGINE=engine,
        JOBS_IMMEDIATE=False,
        JOBS_NAME="embedded-test",
        JOB_RETRY_DELAY=1,
        JIRA_SYNC_EVERY=0,
        JIRA_FULL_SYNC_AT=None,
        READINESS_RECORD_AT=None,
        JIRA_SETTINGS=JiraSettings(
            url=sandbox.url, email=EMAIL, api_token=TOKEN, jql=JQL, timeout=20
        ),
        # One library retry of a 503 (with Retry-After 0), then the job's own retry.
        JIRA_GATEWAY_FACTORY=lambda settings: RestJiraGateway(settings, max_retries=1),
    )
    app.instance_path = str(tmp_path)
    finished = Finished(app)
    consumer = start_embedded_consumer(app, workers=2)
    assert consumer is not None
    yield app, finished
    consumer.stop(graceful=True)


def job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        found = session.get(Job, job_id)
    assert found is not None
    return found


def test_sync_now_answers_at_once_while_the_slow_sync_runs_on_the_embedded_consumer(
    embedded: tuple[Flask, Finished], engine: Engine, sandbox: SandboxServer
) -> None:
    app, finished = embedded
    assert jobs_file(app).exists()  # Huey's SQLite storage, in the instance folder
    sandbox.state.faults.add(Fault(delay_seconds=1.0, path_contains="/search"))
    client = signed_in_client(app)
    token = csrf_token(client, "/jira")

    started = time.monotonic()
    response = client.post("/jira/sync", data={"csrf_token": token})
    answered = time.monotonic() - started

    assert response.status_code == 303 and response.headers["Location"] == "/jobs/1"
    assert answered < 1.0, f"the button waited {answered:.2f} s"  # each Jira page takes 1 s
    waiting = client.get("/jobs/1").get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting  # the page of a job still going reloads itself
    finished.wait_for(1)
    done = job(engine, 1)
    assert done.state == "succeeded", done.failure
    assert time.monotonic() - started >= 5  # five pages of 100, one second each
    assert done.result is not None and done.result["summary"].startswith(
        f"5 page(s): {ISSUES} created"
    )
    assert done.progress_done == ISSUES and done.progress_total == ISSUES
    assert done.worker is not None and done.attempts == 1
    assert_converged(sandbox.state, engine)
    api = client.get("/api/v1/jobs/1").get_json()
    assert api["state"] == "succeeded" and api["finished"] is True
    assert api["progress"] == {"text": "Reading issues from Jira", "done": ISSUES, "total": ISSUES}
    assert api["created_at"].endswith("Z") and api["url"] == "/jobs/1"


def test_a_jira_outage_is_retried_after_a_delay_and_the_job_then_succeeds(
    embedded: tuple[Flask, Finished], engine: Engine, sandbox: SandboxServer
) -> None:
    app, finished = embedded
    # Jira answers 503 until the first attempt has failed and the job waits for its retry.
    sandbox.state.faults.add(Fault(status=503, retry_after=0, path_contains="/search"))
    finished.on_retry.append(sandbox.state.faults.clear)
    job_id = submit(app, "sync", {}, cli_actor("tester"))
    assert job_id is not None
    finished.wait_for(1)  # the failed attempt is a retry (not complete); the second completes
    done = job(engine, job_id)
    assert done.state == "succeeded", done.failure
    assert done.attempts == 2 and finished.retried == 1
    with Session(engine) as check:
        statuses = [run.status for run in check.exec(select(SyncRun)).all()]
    assert statuses == ["failed", "succeeded with problems"]
    assert_converged(sandbox.state, engine)
