"""Prometheus metrics of this process: one registry, the tracker's own series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

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


def record_job(kind: str, seconds: float, failed: bool) -> None:
    """Count one finished job of `kind`: its duration, and whether it failed."""
    JOB_SECONDS.labels(kind=kind).observe(seconds)
    if failed:
        JOB_FAILURES.labels(kind=kind).inc()
