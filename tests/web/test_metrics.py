"""/metrics: Prometheus text with real values, served only to allowed addresses or the token."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tracker import create_app
from tracker.config import Config, TestConfig
from tracker.db import session_scope
from tracker.metrics import record_job
from tracker.models import SyncRun, utcnow
from tracker.services.matrix import build_matrix

ROOT = Path(__file__).resolve().parents[2]
STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "metrics-token-0123456789abcdef"  # noqa: S105 - a test value


def _samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _value(body: str, name: str, **labels: str) -> float | None:
    return _samples(body).get((name, frozenset(labels.items())))


def _scrape(app: Flask, **kwargs: Any) -> str:
    response = app.test_client().get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def _app(engine: Engine, database_url: str, **settings: Any) -> Flask:
    return create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, **settings)


# --- who may read them -------------------------------------------------------------------------


def test_metrics_are_served_to_loopback_by_default(app: Flask) -> None:
    body = _scrape(app)
    assert "tracker_request_duration_seconds" in body


def test_metrics_are_refused_to_another_address_without_revealing_any(app: Flask) -> None:
    response = app.test_client().get("/metrics", environ_base=STRANGER)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "tracker_" not in body
    assert "TRACKER_METRICS_TOKEN" in body  # says what to do


def test_metrics_are_refused_through_a_proxy_on_this_host(app: Flask) -> None:
    response = app.test_client().get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 403
    assert "tracker_" not in response.get_data(as_text=True)


def test_metrics_need_the_right_token_from_elsewhere(engine: Engine, database_url: str) -> None:
    app = _app(engine, database_url, METRICS_TOKEN=TOKEN, METRICS_ALLOW_NETWORKS=[])
    client = app.test_client()
    assert client.get("/metrics", environ_base=STRANGER).status_code == 403
    wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
    assert client.get("/metrics", environ_base=STRANGER, headers=wrong).status_code == 403
    basic = {"Authorization": f"Basic {TOKEN}"}
    assert client.get("/metrics", environ_base=STRANGER, headers=basic).status_code == 403
    # With an empty allow-list even loopback needs the token.
    assert client.get("/metrics").status_code == 403
    right = {"Authorization": f"Bearer {TOKEN}"}
    response = client.get("/metrics", environ_base=STRANGER, headers=right)
    assert response.status_code == 200
    assert "tracker_request_duration_seconds" in response.get_data(as_text=True)


def test_an_allow_list_replaces_loopback(engine: Engine, database_url: str) -> None:
    networks = Config.from_env({"TRACKER_METRICS_ALLOW": "10.0.0.0/8, 2001:db8::/32"})[
        "METRICS_ALLOW_NETWORKS"
    ]
    app = _app(engine, database_url, METRICS_ALLOW_NETWORKS=networks)
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::5"}).status_code == 200
    assert client.get("/metrics", environ_base=STRANGER).status_code == 403
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is not in the list


def test_metrics_settings_are_read_and_checked() -> None:
    settings = Config.from_env({"TRACKER_METRICS_TOKEN": f" {TOKEN} "})
    assert settings["METRICS_TOKEN"] == TOKEN
    assert settings["METRICS_ALLOW_NETWORKS"] is None  # loopback
    assert Config.from_env({"TRACKER_METRICS_ALLOW": "none"})["METRICS_ALLOW_NETWORKS"] == []
    with pytest.raises(ValueError, match="TRACKER_METRICS_ALLOW: 'prometheus.local' is not an"):
        Config.from_env({"TRACKER_METRICS_ALLOW": "prometheus.local"})


# --- what they say -----------------------------------------------------------------------------


def test_request_latency_is_counted_by_endpoint_not_by_path(client: Any, app: Flask) -> None:
    name = "tracker_request_duration_seconds_count"
    before = _value(_scrape(app), name, endpoint="matrix.index", method="GET", status="2xx") or 0
    for query in ("", "?status=GAP", "?instrument=ALPHA"):
        assert client.get(f"/matrix{query}").status_code == 200
    client.get("/no/such/page/12345")
    client.open("/matrix", method="BREW")
    body = _scrape(app)
    assert _value(body, name, endpoint="matrix.index", method="GET", status="2xx") == before + 3
    # No route matched (404, 405): one "none" endpoint; an unknown method is "other".
    assert (_value(body, name, endpoint="none", method="GET", status="4xx") or 0) >= 1
    assert (_value(body, name, endpoint="none", method="other", status="4xx") or 0) >= 1
    assert "BREW" not in body
    assert "/no/such/page" not in body
    assert "status=GAP" not in body


def test_statuses_per_instrument_match_the_matrix(app: Flask, session: Session) -> None:
    load_small_catalog(session)
    ingest(
        session,
        report(
            case("test_a", obligations="ALPHA-1.1"),
            case("test_b", obligations="ALPHA-1.2", outcome="failed"),
        ),
    )
    rows = build_matrix(session=session).rows
    expected = Counter((row.instrument, row.result.status.value) for row in rows)
    assert expected[("ALPHA", "FAILING")] == 1
    samples = _samples(_scrape(app))
    shown = {
        (labels["instrument"], labels["status"]): value
        for (name, label_set), value in samples.items()
        if name == "tracker_obligations"
        for labels in [dict(label_set)]
    }
    assert {key: value for key, value in shown.items() if value} == dict(expected)
    instruments = {instrument for instrument, _ in expected}
    assert shown[(sorted(instruments)[0], "VERIFIED")] == 0  # every status has a series
    assert samples[("tracker_metrics_source_up", frozenset({("source", "statuses")}))] == 1


def test_sync_lag_is_now_minus_the_watermark(app: Flask, engine: Engine) -> None:
    body = _scrape(app)
    assert _value(body, "tracker_jira_sync_lag_seconds") is None  # never synced
    finished = utcnow() - timedelta(minutes=5)
    with session_scope(engine) as db_session:
        db_session.add(
            SyncRun(
                kind="sync",
                status="succeeded",
                watermark_to=utcnow() - timedelta(hours=1),
                finished_at=finished,
            )
        )
        db_session.add(SyncRun(kind="sync", status="failed", watermark_to=utcnow()))
        db_session.add(
            SyncRun(kind="sync", status="succeeded", dry_run=True, watermark_to=utcnow())
        )
    body = _scrape(app)
    lag = _value(body, "tracker_jira_sync_lag_seconds")
    assert lag is not None and 3600 <= lag < 3660
    last = _value(body, "tracker_jira_last_sync_timestamp_seconds")
    assert last == pytest.approx(finished.timestamp(), abs=1)


def test_job_durations_failures_and_queue_depth_are_shown(app: Flask) -> None:
    before = _scrape(app)
    count = "tracker_job_duration_seconds_count"
    runs = _value(before, count, kind="test-kind") or 0
    failures = _value(before, "tracker_job_failures_total", kind="test-kind") or 0
    record_job("test-kind", 1.5, failed=False)
    record_job("test-kind", 0.2, failed=True)
    body = _scrape(app)
    assert _value(body, count, kind="test-kind") == runs + 2
    assert _value(body, "tracker_job_failures_total", kind="test-kind") == failures + 1
    assert _value(body, "tracker_queue_depth") == 0
    assert _value(body, "tracker_metrics_source_up", source="queue") == 1


def test_a_source_that_cannot_be_read_is_marked_down_not_an_error(
    engine: Engine, database_url: str
) -> None:
    queue_down = _app(engine, database_url, REDIS_URL="redis://127.0.0.1:1/4", JOBS_IMMEDIATE=False)
    body = _scrape(queue_down)
    assert _value(body, "tracker_metrics_source_up", source="queue") == 0
    assert _value(body, "tracker_queue_depth") is None
    assert _value(body, "tracker_metrics_source_up", source="statuses") == 1


SERVE_REQUESTS = """
import sys
from tracker import create_app
from tracker.config import TestConfig
app = create_app(TestConfig, DATABASE_URL=sys.argv[1])
client = app.test_client()
for _ in range(int(sys.argv[2])):
    assert client.get("/healthz").status_code == 200
if len(sys.argv) > 3:
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path, database_url: str) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    script = textwrap.dedent(SERVE_REQUESTS)

    def run(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script, database_url, *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    run("3")
    run("4")
    body = run("2", "scrape")
    name = "tracker_request_duration_seconds_count"
    assert _value(body, name, endpoint="health.healthz", method="GET", status="2xx") == 9
