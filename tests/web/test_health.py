"""/healthz and /readyz: open to probes, honest about each check, revealing nothing else."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.evidence_helpers import count_statements
from tracker import create_app, health, migrate
from tracker.config import TestConfig
from tracker.db import make_engine

#: What no probe answer may contain: hosts, ports, drivers, URLs.
DETAIL = ("127.0.0.1", "psycopg", "sqlite", "redis", "postgresql", "Error", "://")


def _app_on(url: str, **settings: Any) -> Flask:
    return create_app(TestConfig, DATABASE_URL=url, **settings)


def _fresh_sqlite(tmp_path: Path, name: str = "fresh.db") -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / name}"
    return url, make_engine(url)


def _assert_generic(body: str) -> None:
    for word in DETAIL:
        assert word not in body, f"{word!r} in {body}"


def test_healthz_answers_ok_without_signing_in_or_touching_the_database(
    app: Flask, engine: Engine
) -> None:
    with count_statements(engine) as statements:
        response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert statements == []


def test_healthz_answers_ok_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = _app_on("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_database_schema_and_queue_answer(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.get_json() == {
        "status": "ready",
        "checks": {
            "database": {"status": "ok"},
            "migrations": {"status": "ok"},
            "queue": {"status": "ok"},
        },
    }
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_says_the_database_is_unreachable_without_saying_where(tmp_path: Path) -> None:
    app = _app_on("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    document = response.get_json()
    assert document["status"] == "not ready"
    assert document["checks"]["database"] == {"status": "failing", "reason": "unreachable"}
    assert document["checks"]["migrations"]["status"] == "failing"
    assert "not checked" in document["checks"]["migrations"]["reason"]
    body = response.get_data(as_text=True)
    _assert_generic(body)
    assert "hunter2" not in body


@pytest.fixture
def silent_database() -> Iterator[int]:
    """A port that accepts connections and never answers (a database that hangs)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_readyz_gives_up_on_a_database_that_does_not_answer(
    tmp_path: Path, silent_database: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.5)
    app = _app_on(f"postgresql+psycopg://nobody@127.0.0.1:{silent_database}/none")
    client = app.test_client()
    started = time.monotonic()
    first = client.get("/readyz")
    took = time.monotonic() - started
    assert first.status_code == 503
    assert first.get_json()["checks"]["database"] == {"status": "failing", "reason": "timed out"}
    assert took < 3, took
    # The first probe's connection attempt still hangs: the next one answers at once.
    started = time.monotonic()
    second = client.get("/readyz")
    assert time.monotonic() - started < 0.4
    assert second.get_json()["checks"]["database"]["reason"] == "timed out"


def test_readyz_says_no_migrations_ran_on_an_empty_database(tmp_path: Path) -> None:
    url, _ = _fresh_sqlite(tmp_path)
    response = _app_on(url).test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == {"status": "ok"}
    assert checks["migrations"] == {
        "status": "failing",
        "reason": "no migrations applied: run `tracker db upgrade`",
    }


def test_readyz_says_migrations_are_behind_until_the_upgrade(tmp_path: Path) -> None:
    url, engine = _fresh_sqlite(tmp_path)
    migrate.upgrade(engine, "0005")
    client = _app_on(url).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == {
        "status": "failing",
        "reason": "behind this release: run `tracker db upgrade`",
    }
    assert "0005" not in response.get_data(as_text=True)
    migrate.upgrade(engine)
    assert client.get("/readyz").get_json()["checks"]["migrations"] == {"status": "ok"}


def test_readyz_says_the_database_is_ahead_of_an_older_release(tmp_path: Path) -> None:
    url, engine = _fresh_sqlite(tmp_path)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('7f3e9a1c2b4d')"))
    response = _app_on(url).test_client().get("/readyz")
    assert response.status_code == 503
    reason = response.get_json()["checks"]["migrations"]["reason"]
    assert reason.startswith("ahead of this release")
    assert "7f3e9a1c2b4d" not in response.get_data(as_text=True)


def test_readyz_says_the_queue_is_unreachable_without_saying_where(
    app: Flask, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    queue_down = _app_on(
        database_url,
        ENGINE=engine,
        REDIS_URL="redis://:s3cret@127.0.0.1:1/4",
        JOBS_IMMEDIATE=False,
    )
    response = queue_down.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == {"status": "ok"}
    assert checks["migrations"] == {"status": "ok"}
    assert checks["queue"] == {"status": "failing", "reason": "unreachable"}
    body = response.get_data(as_text=True)
    _assert_generic(body)
    assert "s3cret" not in body


def test_readyz_keeps_the_queues_own_words_for_the_log(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tracker.jobs import queue

    monkeypatch.setattr(
        queue, "queue_problem", lambda _app: "redis at queue.internal:6379 refused (v7.2)"
    )
    response = app.test_client().get("/readyz")
    assert response.get_json()["checks"]["queue"] == {"status": "failing", "reason": "unreachable"}
    assert "queue.internal" not in response.get_data(as_text=True)
    assert "queue.internal" in caplog.text  # the operator still learns what went wrong


def test_probes_need_no_sign_in_and_skip_the_input_check(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz?probe=%00%01").status_code == 200
    assert client.get("/readyz?x=" + "y" * 5000).status_code == 200
    assert client.post("/healthz").status_code == 405  # nothing there takes a form
