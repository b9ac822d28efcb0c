"""`tracker serve` needs nothing more: it serves the pages (gunicorn) and runs the queued jobs
itself, on the SQLite queue in the instance folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker import create_app
from tracker.config import TestConfig
from tracker.domain.access import cli_actor
from tracker.jobs.queue import submit
from tracker.models import Job

WAIT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_tracker_serve_serves_the_pages_and_runs_the_jobs_queued_for_it(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=database_url,
        TRACKER_SECRET_KEY="serve-test",
        TRACKER_INSTANCE_PATH=str(tmp_path),
        TRACKER_READINESS_RECORD_AT="off",
    )
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "serve"]
    with open(log, "wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [*command, "--port", str(port), "--workers", "1"],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + WAIT
        while not answers(f"http://127.0.0.1:{port}/login"):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # another process starts: polling is the only way to see it

        # Queued from here, into the instance folder's queue that the server consumes.
        app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, JOBS_IMMEDIATE=False)
        app.instance_path = str(tmp_path)
        job_id = submit(app, "readiness", {}, cli_actor("tester"))
        assert job_id is not None

        def state() -> str:
            with Session(engine) as session:
                job = session.get(Job, job_id)
            assert job is not None
            return job.state

        while state() not in ("succeeded", "failed"):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert state() == "succeeded", log.read_text()
        with Session(engine) as session:
            done = session.get(Job, job_id)
        assert done is not None and done.worker_pid == server.pid  # run by `tracker serve`
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
            pytest.fail(f"tracker serve did not stop on Ctrl-C:\n{log.read_text()}")
    assert not answers(f"http://127.0.0.1:{port}/login")  # gunicorn stopped with it
