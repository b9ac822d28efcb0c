"""POST /webhooks/jira: signed deliveries change work items and statuses; others change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from tests.auth_helpers import signed_in_client
from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.integrations.jira_records import JiraSettings
from tracker.models import AuditEvent, WebhookDelivery, WorkItem
from tracker.services.catalog import load_catalog

SECRET = "whsec-test-5e0c1b"
CATEGORIES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


@pytest.fixture
def hooked(app: Flask, session: Session) -> FlaskClient:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    app.config["JIRA_SETTINGS"] = JiraSettings(
        url="https://jira.example.test", pat="pat-x", webhook_secret=SECRET
    )
    return signed_in_client(app)


def body(
    event: str = "jira:issue_updated",
    key: str = "PRIV-1",
    category: str = "indeterminate",
    labels: tuple[str, ...] = ("obligation-ALPHA-1.1",),
) -> bytes:
    issue = {
        "id": "10001",
        "key": key,
        "fields": {
            "summary": "Erasure pipeline",
            "issuetype": {"name": "Epic"},
            "status": {"name": CATEGORIES[category], "statusCategory": {"key": category}},
            "fixVersions": [{"name": "2026.12"}],
            "labels": list(labels),
            "assignee": None,
            "updated": "2026-11-20T10:15:30.000+0000",
            "project": {"key": "PRIV"},
        },
    }
    return json.dumps({"webhookEvent": event, "timestamp": 1764000000000, "issue": issue}).encode()


def signature(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def deliver(
    client: FlaskClient, raw: bytes, identifier: str = "d-1", signed: str | None = None
) -> Any:
    headers = {"X-Atlassian-Webhook-Identifier": identifier, "Content-Type": "application/json"}
    headers["X-Hub-Signature"] = signature(raw) if signed is None else signed
    if not headers["X-Hub-Signature"]:
        del headers["X-Hub-Signature"]
    return client.post("/webhooks/jira", data=raw, headers=headers)


def matrix_status(client: FlaskClient, obligation_id: str) -> str:
    rows = client.get("/api/v1/matrix").get_json()["rows"]
    return str(next(row["status"] for row in rows if row["id"] == obligation_id))


def snapshot(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def test_a_signed_delivery_updates_the_work_item_and_the_obligation_status(
    hooked: FlaskClient, session: Session
) -> None:
    assert matrix_status(hooked, "ALPHA-1.1") == "GAP"
    response = deliver(hooked, body(category="indeterminate"))
    assert response.status_code == 200
    assert response.get_json() == {
        "event": "jira:issue_updated",
        "issue": "PRIV-1",
        "duplicate": False,
        "message": "PRIV-1 stored (1 created, 0 updated); links +1/-0.",
    }
    assert matrix_status(hooked, "ALPHA-1.1") == "IN_PROGRESS"

    assert deliver(hooked, body(category="done"), identifier="d-2").status_code == 200
    assert matrix_status(hooked, "ALPHA-1.1") == "IMPLEMENTED"
    item = session.get(WorkItem, "PRIV-1")
    assert item is not None and (item.status, item.status_category) == ("Done", "done")

    deleted = deliver(hooked, body("jira:issue_deleted"), identifier="d-3")
    assert deleted.get_json()["message"] == "PRIV-1 marked missing."
    session.rollback()
    assert session.get(WorkItem, "PRIV-1").missing  # type: ignore[union-attr]
    assert matrix_status(hooked, "ALPHA-1.1") != "IMPLEMENTED"  # missing work is not done


@pytest.mark.parametrize(
    "case", ["missing", "wrong secret", "tampered body", "not sha256", "empty digest"]
)
def test_a_bad_or_missing_signature_is_refused_with_401_and_nothing_is_written(
    hooked: FlaskClient, engine: Engine, case: str
) -> None:
    raw = body()
    signed = {
        "missing": "",
        "wrong secret": signature(raw, "another-secret"),
        "tampered body": signature(raw.replace(b"Erasure", b"Erased")),
        "not sha256": "sha1=" + hashlib.sha1(raw).hexdigest(),  # noqa: S324 - the test's point
        "empty digest": "sha256=",
    }[case]
    before = snapshot(engine)
    response = deliver(hooked, raw, signed=signed)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "bad_signature" and "Nothing was stored." in error["message"]
    assert SECRET not in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_a_repeated_delivery_is_applied_once(hooked: FlaskClient, session: Session) -> None:
    raw = body()
    assert deliver(hooked, raw).get_json()["duplicate"] is False
    again = deliver(hooked, raw)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert "already processed" in again.get_json()["message"]
    assert len(session.exec(select(WebhookDelivery)).all()) == 1
    added = session.exec(select(AuditEvent).where(AuditEvent.action == "link.added")).all()
    assert len(added) == 1


def test_without_a_webhook_secret_deliveries_are_refused_with_503(
    app: Flask, hooked: FlaskClient, engine: Engine
) -> None:
    before = snapshot(engine)
    for settings in (None, JiraSettings(url="https://jira.example.test", pat="pat-x")):
        app.config["JIRA_SETTINGS"] = settings
        response = deliver(hooked, body())
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "webhooks_disabled"
        assert error["message"].startswith(
            "Jira webhooks are disabled until TRACKER_JIRA_WEBHOOK_SECRET is set"
        )
    assert snapshot(engine) == before


def test_a_signed_delivery_that_is_not_json_is_refused_with_400(
    hooked: FlaskClient, engine: Engine
) -> None:
    before = snapshot(engine)
    response = deliver(hooked, b"{not json")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("The delivery is not JSON")
    assert snapshot(engine) == before


def test_a_delivery_over_one_megabyte_is_refused_with_413(hooked: FlaskClient) -> None:
    raw = b" " * (1024 * 1024 + 1)
    response = deliver(hooked, raw)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_an_event_the_tracker_does_not_use_is_acknowledged_and_ignored(
    hooked: FlaskClient, session: Session
) -> None:
    response = deliver(hooked, body("comment_created"))
    assert response.status_code == 200
    assert response.get_json()["message"] == "Event comment_created is not used; ignored."
    assert session.exec(select(WorkItem)).all() == []
