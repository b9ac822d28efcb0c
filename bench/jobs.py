"""Benchmark: what a job costs, and how soon a queued job runs, on the SQLite queue and on Redis.

Run: python bench/jobs.py [--runs 30] [--redis redis://127.0.0.1:6379/1] [--json FILE]

For each queue: the time `submit` takes (record the job, put it on the queue: what a button
waits for), and the time from `submit` until the job record says succeeded, with a consumer of
two threads running in the same process. The job is the daily readiness record of a database
without releases, so the figures are the queue's own overhead, not a task's work. Medians and
the 95th percentile of --runs jobs after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from huey.signals import SIGNAL_COMPLETE
from sqlmodel import Session

from tracker import create_app, migrate
from tracker.config import Config
from tracker.db import get_engine
from tracker.domain.access import cli_actor
from tracker.jobs.consumer import start_embedded_consumer
from tracker.jobs.queue import get_queue, submit
from tracker.models import Job


def measure(folder: Path, runs: int, redis_url: str | None) -> dict[str, float]:
    """Queue runs + 1 jobs one after the other; return the submit and end-to-end figures."""
    overrides: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "READINESS_RECORD_AT": None,
        "JIRA_SYNC_EVERY": 0,
        "JIRA_FULL_SYNC_AT": None,
        "JOBS_NAME": f"bench-{uuid.uuid4().hex[:8]}",
    }
    if redis_url:
        overrides["REDIS_URL"] = redis_url
    app = create_app(Config, web=False, **overrides)
    app.instance_path = str(folder)
    migrate.upgrade(get_engine(app))
    done = threading.Semaphore(0)

    def finished(_signal: str, task: Any) -> None:
        if type(task).__name__ == "run_job":  # not the periodic recovery of abandoned jobs
            done.release()

    get_queue(app).signal(SIGNAL_COMPLETE)(finished)
    consumer = start_embedded_consumer(app, workers=2)
    assert consumer is not None  # noqa: S101 - not immediate mode
    submits, totals = [], []
    try:
        for _ in range(runs + 1):
            started = time.perf_counter()
            job_id = submit(app, "readiness", {}, cli_actor("bench"))
            queued = time.perf_counter()
            if not done.acquire(timeout=30):
                raise RuntimeError("a job did not finish within 30 s")
            ended = time.perf_counter()
            with Session(get_engine(app)) as session:
                job = session.get(Job, job_id)
                assert job is not None and job.state == "succeeded"  # noqa: S101
            submits.append(queued - started)
            totals.append(ended - started)
    finally:
        consumer.stop(graceful=True)
        if redis_url:
            get_queue(app).storage.flush_all()
    submits, totals = submits[1:], totals[1:]  # the first is a warm-up
    return {
        "submit_median_ms": statistics.median(submits) * 1000,
        "submit_p95_ms": _p95(submits) * 1000,
        "done_median_ms": statistics.median(totals) * 1000,
        "done_p95_ms": _p95(totals) * 1000,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    """Measure both queues and print (or write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    results = {}
    for name, url in (("sqlite", None), ("redis", options.redis)):
        with tempfile.TemporaryDirectory() as folder:
            results[name] = measure(Path(folder), options.runs, url)
    for name, figures in results.items():
        line = ", ".join(f"{key} {value:.1f}" for key, value in figures.items())
        print(f"{name}: {line}")  # noqa: T201 - a benchmark's report
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
