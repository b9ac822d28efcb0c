"""Prometheus metrics: one registry for this process's series, and the facts read at scrape time.

Requests and jobs are counted where they happen (`observe_request`, `record_job`). Queue depth,
Jira sync lag and the statuses per instrument are global facts, read from the queue and the
database when /metrics is scraped (`exposition`), so every worker answers the same.

With several processes (gunicorn workers), set PROMETHEUS_MULTIPROC_DIR to an empty folder in
their environment before they start: prometheus-client then keeps each process's counts in
files there and a scrape of any worker adds up all of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

# No *_created series beside every counter and histogram: they double the page for nothing.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Methods counted by name; anything else is "other", so a client cannot add series at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The endpoint label of a request that matched no route (a 404 or 405 of routing).
UNMATCHED = "none"

JOB_SECONDS = Histogram(
    "tracker_job_duration_seconds",
    "How long background jobs ran, by kind.",
    ["kind"],
    registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
JOB_FAILURES = Counter(
    "tracker_job_failures_total",
    "Background jobs that ended in failure, by kind.",
    ["kind"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "tracker_request_duration_seconds",
    "How long web requests took, by endpoint (the route's name), method and status class.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
if MULTIPROCESS_VARIABLE not in os.environ:
    ProcessCollector(registry=REGISTRY)  # memory, CPU and open files; per process only


def record_job(kind: str, seconds: float, failed: bool) -> None:
    """Count one finished job of `kind`: its duration, and whether it failed."""
    JOB_SECONDS.labels(kind=kind).observe(seconds)
    if failed:
        JOB_FAILURES.labels(kind=kind).inc()


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one finished web request under its endpoint, method and status class (2xx ...)."""
    REQUEST_SECONDS.labels(
        endpoint=endpoint or UNMATCHED,
        method=method if method in KNOWN_METHODS else "other",
        status=f"{status // 100}xx",
    ).observe(seconds)


def exposition(app: Flask) -> tuple[bytes, str]:
    """Return the metrics in Prometheus text format and its content type."""
    return generate_latest(_Scrape(app)), CONTENT_TYPE_LATEST


class _Scrape:
    """The counted series (this process's, or every process's) and the scrape-time facts."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        directory = os.environ.get(MULTIPROCESS_VARIABLE)
        if directory:
            from prometheus_client.multiprocess import MultiProcessCollector

            merged = CollectorRegistry()
            MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
            yield from merged.collect()
        else:
            yield from REGISTRY.collect()
        up = GaugeMetricFamily(
            "tracker_metrics_source_up",
            "1 when the facts of this source could be read at this scrape, 0 when not (see logs).",
            labels=["source"],
        )
        sources: dict[str, Callable[[Flask], Iterable[Metric]]] = {
            "queue": _queue_metrics,
            "jira_sync": _sync_metrics,
            "statuses": _status_metrics,
        }
        for name, read in sources.items():
            try:
                families = list(read(self.app))
            except Exception:  # noqa: BLE001 - one source down must not hide the rest
                log.warning("Metrics: could not read the %s facts.", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def _queue_metrics(app: Flask) -> Iterable[Metric]:
    from tracker.jobs.queue import queue_depth

    depth = queue_depth(app)
    if depth < 0:
        raise RuntimeError("the queue's storage did not answer")
    yield GaugeMetricFamily("tracker_queue_depth", "Jobs waiting in the queue.", value=depth)


def _sync_metrics(app: Flask) -> Iterable[Metric]:
    from sqlmodel import Session, col, select

    from tracker.db import get_engine
    from tracker.models import SyncRun, as_utc, utcnow

    succeeded = (
        SyncRun.kind == "sync",
        col(SyncRun.status).startswith("succeeded"),
        SyncRun.dry_run == False,  # noqa: E712 - SQL expression
    )
    newest_first = col(SyncRun.id).desc()
    with Session(get_engine(app)) as session:
        watermark = session.exec(
            select(SyncRun.watermark_to)
            .where(*succeeded, col(SyncRun.watermark_to).is_not(None))
            .order_by(newest_first)
        ).first()
        finished = session.exec(
            select(SyncRun.finished_at).where(*succeeded).order_by(newest_first)
        ).first()
    now = utcnow()
    lag = GaugeMetricFamily(
        "tracker_jira_sync_lag_seconds",
        "Now minus the sync watermark (the newest Jira change the tracker has read); "
        "absent before the first sync.",
    )
    if isinstance(watermark, datetime):
        lag.add_metric([], max(0.0, (now - as_utc(watermark)).total_seconds()))
    last = GaugeMetricFamily(
        "tracker_jira_last_sync_timestamp_seconds",
        "When the last successful Jira sync finished (Unix time); absent before the first.",
    )
    if isinstance(finished, datetime):
        last.add_metric([], as_utc(finished).timestamp())
    return [lag, last]


def _status_metrics(app: Flask) -> Iterable[Metric]:
    from sqlmodel import Session

    from tracker.db import get_engine
    from tracker.domain.status import STATUS_ORDER
    from tracker.services.evidence import EvidenceScope
    from tracker.services.matrix_cache import cached_matrix
    from tracker.web.caching import matrix_cache

    scope = EvidenceScope(default_branch=app.config.get("DEFAULT_BRANCH", "main"))
    with Session(get_engine(app)) as session:
        # The dashboard's matrix: a scrape between two writes costs a cache read.
        rows = cached_matrix(
            session=session,
            cache=matrix_cache(app),
            scope=scope,
            bucket_seconds=int(app.config.get("MATRIX_CACHE_SECONDS", 60)),
        ).rows
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        for status in STATUS_ORDER:
            counts.setdefault((row.instrument, status.value), 0)
        key = (row.instrument, row.result.status.value)
        counts[key] += 1
    family = GaugeMetricFamily(
        "tracker_obligations",
        "Assessable obligations per instrument and overall status, as the matrix shows them "
        "(default branch).",
        labels=["instrument", "status"],
    )
    for (instrument, status_name), count in sorted(counts.items()):
        family.add_metric([instrument, status_name], count)
    return [family]
