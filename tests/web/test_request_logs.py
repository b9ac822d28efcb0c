"""Each request gets an id, echoed back and carried by its JSON log lines; no secret is logged."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from tests.auth_helpers import make_user
from tests.helpers import csrf_token
from tracker import create_app
from tracker.config import TestConfig
from tracker.logs import REQUEST_ID_HEADER, configure_logging, current_request_id
from tracker.web.auth import public

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_app(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> Iterator[Flask]:
    """The app with TRACKER_LOG_FORMAT=json, its lines going to the captured stderr."""
    root = logging.getLogger()
    levels = (root.level, logging.getLogger("werkzeug").level)
    yield create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, LOG_FORMAT="json")
    configure_logging("text")
    root.setLevel(levels[0])
    logging.getLogger("werkzeug").setLevel(levels[1])


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def _request_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "tracker.requests"]


def test_a_request_is_logged_as_one_json_line_with_the_id_the_response_shows(
    json_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    response = json_app.test_client().get(
        "/healthz?token=query-secret", headers={REQUEST_ID_HEADER: "deploy-check.1"}
    )
    assert response.headers[REQUEST_ID_HEADER] == "deploy-check.1"
    (line,) = _request_lines(_lines(capsys))
    assert line["request_id"] == "deploy-check.1"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"  # never the query string
    assert line["endpoint"] == "health.healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["remote_addr"] == "127.0.0.1"
    assert line["level"] == "INFO"
    assert line["time"].endswith("Z")
    assert current_request_id() is None  # unbound once the request is over


def test_an_unsafe_or_missing_request_id_is_replaced_by_a_new_one(
    json_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    client = json_app.test_client()
    answered = [
        client.get("/healthz", headers=headers).headers[REQUEST_ID_HEADER]
        for headers in ({}, {REQUEST_ID_HEADER: "x" * 65}, {REQUEST_ID_HEADER: "<b>x</b> y"})
    ]
    assert all(HEX_ID.fullmatch(value) for value in answered)
    assert len(set(answered)) == 3
    assert [line["request_id"] for line in _request_lines(_lines(capsys))] == answered


def test_an_error_inside_a_request_is_logged_with_its_request_id(
    json_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> str:
        raise RuntimeError("the view broke")

    json_app.add_url_rule("/broken", "broken", public(broken))
    json_app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500, as in production
    response = json_app.test_client().get("/broken")
    assert response.status_code == 500
    request_id = response.headers[REQUEST_ID_HEADER]
    lines = _lines(capsys)
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "RuntimeError: the view broke" in error["exception"]
    assert _request_lines(lines)[0]["status"] == 500


def test_tokens_passwords_and_cookies_never_reach_the_log(
    json_app: Flask, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    make_user(engine, "viewer", email="someone@example.com")
    client = json_app.test_client()
    bearer = {"Authorization": "Bearer tok-SECRET-bearer"}
    assert client.get("/api/v1/obligations", headers=bearer).status_code == 401
    client.set_cookie("session", "cookie-SECRET-value")
    client.get("/matrix?api_token=tok-SECRET-query")
    token = csrf_token(client, "/login")
    client.post(
        "/login",
        data={"csrf_token": token, "email": "someone@example.com", "password": "pw-SECRET-typed"},
    )
    client.get("/metrics", headers={"Authorization": "Bearer tok-SECRET-metrics"})
    output = capsys.readouterr().err
    assert output.count('"logger": "tracker.requests"') >= 5
    assert "SECRET" not in output


def test_text_format_prints_no_json_but_still_answers_the_request_id(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    response = app.test_client().get("/healthz", headers={REQUEST_ID_HEADER: "plain-1"})
    assert response.headers[REQUEST_ID_HEADER] == "plain-1"
    assert '"request_id"' not in capsys.readouterr().err
