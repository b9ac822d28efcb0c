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
    updated: str = "2026-11-20T10:15:30.000+0000",
) -> bytes:
    return json.dumps(payload(event, key, category, labels, updated)).encode()


def payload(
    event: str = "jira:issue_updated",
    key: str = "PRIV-1",
    category: str = "indeterminate",
    labels: tuple[str, ...] = ("obligation-ALPHA-1.1",),
    updated: str = "2026-11-20T10:15:30.000+0000",
) -> dict[str, Any]:
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
            "updated": updated,
            "project": {"key": "PRIV"},
        },
    }
    return {"webhookEvent": event, "timestamp": 1764000000000, "issue": issue}


def signature(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def deliver(
    client: FlaskClient,
    raw: bytes,
    identifier: str | None = "d-1",
    signed: str | None = None,
    content_type: str = "application/json",
) -> Any:
    headers = {"Content-Type": content_type}
    if identifier is not None:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
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
        "stale": False,
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


def jira_page_deliveries(client: FlaskClient) -> str:
    text = client.get("/jira").get_data(as_text=True)
    start = text.index('id="webhook-deliveries">') + len('id="webhook-deliveries">')
    return text[start : text.index("</dd>", start)]


def test_an_older_delivery_changes_nothing_and_is_counted_as_stale(
    hooked: FlaskClient, session: Session
) -> None:
    newer = body(category="done", updated="2026-11-21T09:00:00.000+0000")
    assert deliver(hooked, newer, identifier="d-new").get_json()["stale"] is False
    older = body(category="new", labels=(), updated="2026-11-20T10:15:30.000+0100")
    response = deliver(hooked, older, identifier="d-old")

    assert response.status_code == 200
    assert response.get_json() == {
        "event": "jira:issue_updated",
        "issue": "PRIV-1",
        "duplicate": False,
        "stale": True,
        "message": "PRIV-1 was not changed: this delivery (updated 2026-11-20 09:15:30 UTC) is "
        "older than the stored copy (updated 2026-11-21 09:00:00 UTC).",
    }
    session.rollback()
    item = session.get(WorkItem, "PRIV-1")
    assert item is not None and (item.status_category, item.labels) == (
        "done",
        ["obligation-ALPHA-1.1"],
    )
    assert matrix_status(hooked, "ALPHA-1.1") == "IMPLEMENTED"  # the link the label made stays
    assert "1 applied, 1 stale (older than the stored copy" in jira_page_deliveries(hooked)


def test_a_delivery_as_new_as_the_stored_copy_is_applied(
    hooked: FlaskClient, session: Session
) -> None:
    assert deliver(hooked, body(category="indeterminate"), identifier="d-1").status_code == 200
    again = deliver(hooked, body(category="done"), identifier="d-2")
    assert again.get_json()["stale"] is False
    assert matrix_status(hooked, "ALPHA-1.1") == "IMPLEMENTED"


def test_without_an_identifier_the_same_body_is_a_duplicate_and_another_body_is_not(
    hooked: FlaskClient, session: Session
) -> None:
    first = deliver(hooked, body(), identifier=None)
    assert first.status_code == 200 and first.get_json()["duplicate"] is False
    again = deliver(hooked, body(), identifier=None)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert again.get_json()["message"] == "The same delivery was already processed."
    other = deliver(hooked, body(category="done"), identifier=None)
    assert other.get_json()["duplicate"] is False
    assert matrix_status(hooked, "ALPHA-1.1") == "IMPLEMENTED"
    identifiers = [row.identifier for row in session.exec(select(WebhookDelivery)).all()]
    assert len(identifiers) == 2 and all(i.startswith("body-sha256:") for i in identifiers)


def test_an_identifier_of_any_length_is_remembered_by_its_hash(
    hooked: FlaskClient, session: Session
) -> None:
    identifier = "retry-" + "7" * 5000
    first = deliver(hooked, body(), identifier=identifier)
    assert first.status_code == 200 and first.get_json()["duplicate"] is False
    again = deliver(hooked, body(), identifier=identifier)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert len(again.get_json()["message"]) < 200
    (stored,) = session.exec(select(WebhookDelivery)).all()
    assert stored.identifier == "sha256:" + hashlib.sha256(identifier.encode()).hexdigest()


def _with(change: Any) -> bytes:
    document = payload()
    change(document["issue"])
    return json.dumps(document).encode()


def _fields(**values: Any) -> bytes:
    return _with(lambda issue: issue["fields"].update(values))


def _nested(depth: int) -> bytes:
    return b'{"webhookEvent": "jira:issue_updated", "issue": ' + b"[" * depth + b"]" * depth + b"}"


HOSTILE: dict[str, tuple[bytes, str]] = {
    "fields as text": (_with(lambda i: i.update(fields="Done")), "fields must be a JSON object"),
    "status as text": (_fields(status="Done"), "fields.status must be a JSON object, not text"),
    "status category as a list": (
        _fields(status={"name": "Done", "statusCategory": ["done"]}),
        "statusCategory must be a JSON object, not a list",
    ),
    "issue as text": (
        json.dumps({"webhookEvent": "jira:issue_updated", "issue": "PRIV-1"}).encode(),
        "must carry the issue as a JSON object",
    ),
    "key over 64 characters": (
        _with(lambda i: i.update(key="P" * 63 + "-12")),
        "at most 64 characters",
    ),
    "key that is a path": (_with(lambda i: i.update(key="PRIV-1/../x")), "must look like PRIV-12"),
    "id over 32 characters": (_with(lambda i: i.update(id="1" * 33)), "at most 32 characters"),
    "issue type over 64 characters": (
        _fields(issuetype={"name": "E" * 65}),
        "the issue type is longer than 64 characters",
    ),
    "status name over 64 characters": (
        _fields(status={"name": "S" * 65}),
        "the status is longer than 64 characters",
    ),
    "NUL in the summary": (_fields(summary="Erasure\x00pipeline"), "NUL"),
    "NUL in the key": (_with(lambda i: i.update(key="PRIV-1\x00")), "NUL"),
    "control character in a label": (_fields(labels=["obligation-\x07"]), "control character"),
    "unpaired surrogate in the summary": (_fields(summary="\ud800"), "not valid text"),
    "timestamp out of range": (_fields(updated="9999-12-31T23:59:59-23:59"), "between 1970"),
    "timestamp far in the future": (
        _fields(updated="2999-01-01T00:00:00.000+0000"),
        "check the Jira server's clock",
    ),
    "timestamp that is not a time": (_fields(updated="yesterday"), "between 1970"),
    "no timestamp": (_fields(updated=None), "no time of its last update"),
    "labels as text": (_fields(labels="obligation-ALPHA-1.1"), "must be a JSON list, not text"),
    "fix version as text": (_fields(fixVersions=["2026.12"]), "a fix version must be a JSON"),
    "too many labels": (_fields(labels=[f"l{n}" for n in range(501)]), "more than 500"),
    "event as an object": (
        json.dumps({"webhookEvent": {"name": "jira:issue_updated"}}).encode(),
        "webhookEvent must be the event's name",
    ),
    "nested 100,000 deep": (_nested(100_000), "levels deep"),
    "nested 70 deep": (_nested(70), "levels deep"),
    "a number of 5,000 digits": (
        b'{"webhookEvent": "jira:issue_updated", "n": 1' + b"0" * 5000 + b"}",
        "not JSON",
    ),
    "not UTF-8": (b'{"webhookEvent": "\xff"}', "not JSON"),
    "a list, not an object": (b"[]", "must be a JSON object"),
    "a deletion without a key": (
        json.dumps({"webhookEvent": "jira:issue_deleted", "issue": {"id": "1"}}).encode(),
        "has no key",
    ),
}


# As Jira sends them (JSON, which every JSON body's check sees first), and as text, which only
# the webhook's own reading of the payload sees.
@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_payload_is_refused_with_400_and_nothing_is_stored(
    hooked: FlaskClient, engine: Engine, case: str, content_type: str
) -> None:
    raw, explanation = HOSTILE[case]
    before = snapshot(engine)
    response = deliver(hooked, raw, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert explanation in error["message"]
    assert snapshot(engine) == before


# --- what a delivery's unused fields hold is not the tracker's business ---------------------------


def test_an_ignored_event_with_a_nul_in_a_field_the_tracker_does_not_use_is_200_ignored(
    hooked: FlaskClient, engine: Engine
) -> None:
    delivery = payload(event="comment_created")
    delivery["comment"] = {"body": "pasted from a terminal: \x00\ud800"}
    before = snapshot(engine)
    response = deliver(hooked, json.dumps(delivery).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["message"] == "Event comment_created is not used; ignored."
    assert [row.outcome for row in _deliveries(engine)] == ["ignored"]
    remembered = str(WebhookDelivery.__tablename__)
    after = snapshot(engine)
    assert {name: rows for name, rows in after.items() if name != remembered} == {
        name: rows for name, rows in before.items() if name != remembered
    }


def test_an_issue_update_with_a_nul_in_its_description_is_applied(
    hooked: FlaskClient, session: Session
) -> None:
    delivery = payload()
    delivery["issue"]["fields"]["description"] = "first line\x00second"
    response = deliver(hooked, json.dumps(delivery).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    session.rollback()
    stored = session.get(WorkItem, "PRIV-1")
    assert stored is not None and stored.summary == "Erasure pipeline"


def test_an_issue_update_with_a_nul_in_its_summary_is_a_400_naming_the_field(
    hooked: FlaskClient, engine: Engine
) -> None:
    delivery = payload()
    delivery["issue"]["fields"]["summary"] = "Erasure\x00pipeline"
    before = snapshot(engine)
    response = deliver(hooked, json.dumps(delivery).encode())
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "fields.summary" in message and "control character" in message
    assert snapshot(engine) == before


def test_a_nul_in_a_delivery_does_not_come_before_the_signature_check(
    hooked: FlaskClient, engine: Engine
) -> None:
    raw = json.dumps(payload() | {"comment": {"body": "\x00"}}).encode()
    response = deliver(hooked, raw, signed="sha256=" + "0" * 64)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_signature"


def test_a_nul_in_a_delivery_does_not_come_before_webhooks_being_disabled(
    hooked: FlaskClient, app: Flask
) -> None:
    app.config["JIRA_SETTINGS"] = None
    raw = json.dumps(payload() | {"comment": {"body": "\x00"}}).encode()
    response = deliver(hooked, raw)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "webhooks_disabled"


def _deliveries(engine: Engine) -> list[WebhookDelivery]:
    with Session(engine) as reading:
        return list(reading.exec(select(WebhookDelivery)).all())
