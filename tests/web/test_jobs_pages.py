"""The job pages (/jobs, /jobs/<id>), GET /api/v1/jobs/<id>, and large uploads queued as jobs."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.evidence_helpers import case, load_small_catalog, new_token, report
from tests.helpers import csrf_token
from tracker.domain.access import cli_actor
from tracker.integrations.jira_records import JiraSettings
from tracker.jobs import records
from tracker.jobs.queue import submit
from tracker.jobs.runner import execute_job
from tracker.logs import bound_request_id
from tracker.models import Job, JobUpload, TestRun


def recorded(engine: Engine, kind: str = "sync", **values: object) -> int:
    """Record a job without running it, then set the fields a test needs."""
    job_id = records.create_job(
        engine, kind=kind, params={}, actor=cli_actor("nightly"), request_id="req-1"
    )
    assert job_id is not None
    with Session(engine) as session, session.begin():
        job = session.get(Job, job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)
        session.add(job)
    return job_id


def text_of(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_job_list_shows_recent_jobs_newest_first_and_filters_them(
    app: Flask, engine: Engine
) -> None:
    recorded(engine, "sync", state="failed", failure="Jira at x is unreachable.")
    recorded(engine, "push", state="succeeded", result={"summary": "3 remote link change(s)"})
    recorded(engine, "freeze", state="running", progress_text="Freezing 2026.12")
    viewer = signed_in_client(app, "viewer")
    page = text_of(viewer, "/jobs")
    assert '<a href="/jobs" aria-current="page">Jobs</a>' in page
    recent = page[page.index('id="recent"') :]
    assert recent.index('href="/jobs/3">#3') < recent.index('href="/jobs/2">#2')
    assert recent.index('href="/jobs/2">#2') < recent.index('href="/jobs/1">#1')
    assert "Jira at x is unreachable." in recent and "3 remote link change(s)" in recent
    assert '<span class="badge run-failed">failed</span>' in recent
    only_failed = text_of(viewer, "/jobs?state=failed")
    assert 'href="/jobs/1"' in only_failed and 'href="/jobs/2"' not in only_failed
    only_push = text_of(viewer, "/jobs?kind=push")
    assert 'href="/jobs/2"' in only_push and 'href="/jobs/1"' not in only_push
    assert "No job matches the filter." in text_of(viewer, "/jobs?kind=epic")


def test_an_unknown_filter_is_refused_with_what_is_allowed(client: FlaskClient) -> None:
    page = text_of(client, "/jobs?state=lost", status=400)
    assert "state must be one of queued, running, retrying, succeeded, failed, interrupted" in page


def test_the_schedules_show_their_last_and_next_run(app: Flask, engine: Engine) -> None:
    app.config["JIRA_SETTINGS"] = JiraSettings(url="https://jira.example.test", pat="p")
    app.config["JIRA_SYNC_EVERY"] = 15
    recorded(engine, "sync", state="succeeded", schedule_key="jira-sync@2026-12-01T10:15")
    page = text_of(signed_in_client(app, "viewer"), "/jobs")
    schedules = page[page.index('id="schedules"') : page.index('id="recent"')]
    rows = re.findall(r'<th scope="row">([^<]+)</th>\s*<td>([^<]+)</td>', schedules)
    assert rows == [
        ("Jira sync", "every 15 minute(s)"),
        ("Full Jira sync", "daily at 02:30 UTC"),
        ("Readiness record", "daily at 23:50 UTC"),
    ]
    assert '<a href="/jobs/1">#1</a> <span class="badge run-ok">succeeded</span>' in schedules
    assert schedules.count("Not run yet") == 2
    nexts = re.findall(r'<td class="nowrap">(\d{4}-\d\d-\d\d \d\d:\d\d)</td>', schedules)
    now = datetime.now(UTC).replace(tzinfo=None)
    sync_next = datetime.strptime(nexts[0], "%Y-%m-%d %H:%M")
    assert now < sync_next <= now + timedelta(minutes=15) and sync_next.minute % 15 == 0
    assert nexts[1].endswith("02:30") and nexts[2].endswith("23:50")


def test_a_job_page_shows_progress_and_reloads_until_the_job_ends(
    client: FlaskClient, engine: Engine
) -> None:
    job_id = recorded(
        engine,
        "sync",
        state="running",
        progress_text="Reading issues from Jira",
        progress_done=200,
        progress_total=450,
        worker="host-a:4242",
        attempts=1,
    )
    page = text_of(client, f"/jobs/{job_id}")
    assert '<meta http-equiv="refresh" content="3">' in page
    assert '<p id="job-progress">Reading issues from Jira: 200 of 450</p>' in page
    assert '<progress max="100" value="44"' in page
    assert "host-a:4242" in page and "<code>req-1</code>" in page
    assert f"<code>GET /api/v1/jobs/{job_id}</code> answers the same as JSON" in page


def test_a_job_page_escapes_what_it_shows_and_an_unknown_job_is_a_404(
    client: FlaskClient, engine: Engine
) -> None:
    job_id = recorded(
        engine,
        state="failed",
        failure="Jira said: <script>alert(1)</script>",
        result={"summary": "<b>bold</b>", "note": "<img src=x>"},
    )
    page = text_of(client, f"/jobs/{job_id}")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "<img src=x>" not in page
    assert 'http-equiv="refresh"' not in page
    assert "There is no job #999." in text_of(client, "/jobs/999", status=404)


def test_the_job_api_answers_the_state_with_rfc3339_times(
    app: Flask, client: FlaskClient, engine: Engine, session: Session
) -> None:
    with bound_request_id("req-api-7"):
        job_id = submit(app, "readiness", {}, cli_actor("tester"))
    body = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["id"] == job_id and body["kind"] == "readiness"
    assert body["state"] == "succeeded" and body["finished"] is True and body["failure"] is None
    assert body["result"]["summary"] == "0 open release(s) recorded, 0 ready."
    assert body["request_id"] == "req-api-7" and body["actor"] == "tester"
    assert body["attempts"] == 1 and body["title"] == "Daily readiness record"
    for name in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body[name]), name
    assert body["url"] == f"/jobs/{job_id}" and body["api_url"] == f"/api/v1/jobs/{job_id}"
    token = new_token(session, "reader")
    anonymous = app.test_client()
    assert anonymous.get(f"/api/v1/jobs/{job_id}").status_code == 401
    by_token = anonymous.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 200 and by_token.get_json()["id"] == job_id
    missing = client.get("/api/v1/jobs/999")
    assert missing.status_code == 404


# --- large uploads ------------------------------------------------------------------------


@pytest.fixture
def small_threshold(app: Flask) -> Flask:
    app.config["LARGE_REPORT_BYTES"] = 2048
    return app


def upload(client: FlaskClient, body: bytes, token: str, query: str = "") -> object:
    return client.post(
        "/api/v1/test-runs" + query,
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/xml",
    )


def large_report() -> bytes:
    cases = [case(f"test_{number:04}", "ALPHA-1.1") for number in range(40)]
    return report(*cases, suite="nightly")


def test_an_upload_above_the_threshold_is_queued_and_answered_202_with_the_job(
    small_threshold: Flask, session: Session, engine: Engine
) -> None:
    load_small_catalog(session)
    token = new_token(session)
    body = large_report()
    assert len(body) > 2048
    client = small_threshold.test_client()
    response = upload(client, body, token, "?branch=main&environment=ci")
    assert response.status_code == 202, response.get_data(as_text=True)  # type: ignore[attr-defined]
    job = json.loads(response.get_data(as_text=True))  # type: ignore[attr-defined]
    assert response.headers["Location"] == job["api_url"]  # type: ignore[attr-defined]
    assert job["kind"] == "ingest" and job["actor"] == "token ci"
    # The test configuration runs a job where it is queued: it has stored the run already.
    assert job["state"] == "succeeded", job["failure"]
    run_id = job["result"]["test_run"]
    session.rollback()
    run = session.get(TestRun, run_id)
    assert run is not None and run.total == 40 and run.branch == "main"
    assert run.environment == "ci" and run.uploaded_by == "token ci"
    assert session.exec(select(JobUpload)).all() == []  # the kept report is gone
    again = upload(client, body, token)
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert json.loads(again.get_data(as_text=True))["duplicate"] is True  # type: ignore[attr-defined]


def test_a_broken_large_report_ends_in_a_failed_job_that_says_where(
    small_threshold: Flask, session: Session, engine: Engine
) -> None:
    load_small_catalog(session)
    token = new_token(session)
    broken = large_report().replace(b"</testsuite>", b"<testcase")
    response = upload(small_threshold.test_client(), broken, token)
    assert response.status_code == 202  # type: ignore[attr-defined]
    job = json.loads(response.get_data(as_text=True))  # type: ignore[attr-defined]
    assert job["state"] == "failed"
    assert "(line " in job["failure"] and job["failure"].endswith("Nothing was stored.")
    session.rollback()
    assert session.exec(select(TestRun)).all() == []
    assert session.exec(select(JobUpload)).all() == []


def test_an_upload_below_the_threshold_stays_synchronous(
    small_threshold: Flask, session: Session
) -> None:
    load_small_catalog(session)
    token = new_token(session)
    response = upload(small_threshold.test_client(), report(case("test_one", "ALPHA-1.1")), token)
    assert response.status_code == 201  # type: ignore[attr-defined]
    session.rollback()
    assert session.exec(select(Job)).all() == []


def test_a_large_upload_when_the_queue_is_down_is_a_503_that_keeps_nothing(
    small_threshold: Flask, session: Session
) -> None:
    small_threshold.config.update(JOBS_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0")
    load_small_catalog(session)
    token = new_token(session)
    response = upload(small_threshold.test_client(), large_report(), token)
    assert response.status_code == 503  # type: ignore[attr-defined]
    error = json.loads(response.get_data(as_text=True))["error"]  # type: ignore[attr-defined]
    assert error["code"] == "queue_unavailable"
    assert error["message"].startswith(
        "The job queue (Redis at 127.0.0.1:1/0) did not take the job"
    )
    assert error["message"].endswith("start the job again. Nothing was stored.")
    session.rollback()
    (job,) = session.exec(select(Job)).all()
    assert job.state == "failed" and job.failure is not None
    assert session.exec(select(JobUpload)).all() == []
    assert session.exec(select(TestRun)).all() == []


def test_a_button_when_the_queue_is_down_says_so_on_the_page_it_came_from(
    app: Flask, session: Session
) -> None:
    app.config.update(
        JOBS_IMMEDIATE=False,
        REDIS_URL="redis://127.0.0.1:1/0",
        JIRA_SETTINGS=JiraSettings(url="https://jira.example.test", pat="p"),
    )
    client = signed_in_client(app, "engineer")
    response = client.post("/jira/sync", data={"csrf_token": csrf_token(client, "/jira")})
    assert response.status_code == 303 and response.headers["Location"] == "/jira"
    page = client.get("/jira").get_data(as_text=True)
    assert "The job queue (Redis at 127.0.0.1:1/0) did not take the job (ConnectionError)" in page
    session.rollback()
    assert [job.state for job in session.exec(select(Job)).all()] == ["failed"]


# --- what a job's run may keep, and who sees where jobs run ---------------------------------


@contextmanager
def failing_statements(engine: Engine, prefix: str) -> Iterator[None]:
    """Make every statement starting with `prefix` fail as a database that went away does."""

    def fail(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(prefix):
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def test_a_large_upload_the_database_does_not_take_is_a_503_that_keeps_nothing(
    small_threshold: Flask, session: Session, engine: Engine
) -> None:
    load_small_catalog(session)
    token = new_token(session)
    body = large_report()
    with failing_statements(engine, "INSERT INTO JOBUPLOAD"):
        response = upload(small_threshold.test_client(), body, token)
    assert response.status_code == 503  # type: ignore[attr-defined]
    error = json.loads(response.get_data(as_text=True))["error"]  # type: ignore[attr-defined]
    assert error["code"] == "database_unavailable"
    assert error["message"] == (
        "The database did not take the report (OperationalError); nothing was stored and no "
        "job was queued. Send it again in a minute; if this persists, ask the tracker's "
        "administrator to check the database."
    )
    session.rollback()
    assert session.exec(select(Job)).all() == []
    assert session.exec(select(JobUpload)).all() == []


def test_an_ingest_job_keeps_the_report_while_the_database_is_away_and_then_stores_it(
    small_threshold: Flask, session: Session, engine: Engine
) -> None:
    load_small_catalog(session)
    token = new_token(session)
    with failing_statements(engine, "INSERT INTO TESTRUN"):
        response = upload(small_threshold.test_client(), large_report(), token)
    assert response.status_code == 202  # type: ignore[attr-defined]
    job_id = json.loads(response.get_data(as_text=True))["id"]  # type: ignore[attr-defined]
    session.rollback()
    waiting = session.get(Job, job_id)
    assert waiting is not None and waiting.state == "retrying", waiting.failure
    assert waiting.failure is not None and waiting.failure.startswith(
        "The database did not answer (OperationalError); the report is kept"
    )
    assert session.exec(select(JobUpload)).all() != []
    execute_job(small_threshold, job_id)  # the retry, with the database back
    session.rollback()
    done = session.get(Job, job_id)
    assert done is not None and done.state == "succeeded", done.failure
    assert done.attempts == 2 and isinstance((done.result or {}).get("test_run"), int)
    assert session.exec(select(JobUpload)).all() == []


def test_an_ingest_job_reads_its_report_within_its_own_time_limit(
    small_threshold: Flask, session: Session
) -> None:
    small_threshold.config["MAX_REPORT_SECONDS"] = 0  # the request's limit is not the job's
    small_threshold.config["MAX_JOB_REPORT_SECONDS"] = 1e-9
    load_small_catalog(session)
    token = new_token(session)
    body = large_report().replace(b"<testsuite", b"<!--" + b"x" * 200_000 + b"--><testsuite", 1)
    response = upload(small_threshold.test_client(), body, token)
    job = json.loads(response.get_data(as_text=True))  # type: ignore[attr-defined]
    assert job["state"] == "failed"
    assert job["failure"].startswith("Reading the report took longer than the 1e-09 seconds")
    session.rollback()
    assert session.exec(select(JobUpload)).all() == []  # a bad report is not kept


def test_only_admins_see_where_the_queue_and_its_workers_run(
    app: Flask, client: FlaskClient, engine: Engine, session: Session
) -> None:
    app.config.update(JOBS_IMMEDIATE=False, REDIS_URL="redis://:secret@redis.internal:6380/1")
    job_id = recorded(engine, "sync", state="running", worker="host-a:4242", attempts=1)
    viewer = signed_in_client(app, "viewer")
    for page in (text_of(viewer, "/jobs"), text_of(viewer, f"/jobs/{job_id}")):
        assert "host-a:4242" not in page and "redis.internal" not in page
    token = new_token(session, "reader")
    by_token = app.test_client().get(
        f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert by_token.get_json()["worker"] is None
    assert "Queue: Redis at redis.internal:6380/1." in text_of(client, "/jobs")
    assert "host-a:4242" in text_of(client, f"/jobs/{job_id}")
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["worker"] == "host-a:4242"
