"""The JSON API under /api/v1: lists, details, the matrix, and consistent error objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.domain.matrix import MatrixFilter, apply_filter, to_json
from tracker.models import WorkItem
from tracker.services.catalog import load_catalog
from tracker.services.links import decide_applicability, link_test, link_work_item
from tracker.services.matrix import build_matrix
from tracker.web.auth import public


def load(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("test"))


def get_json(client, url: str, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.get_data(as_text=True))


def test_obligation_list_has_id_instrument_citation_title_status_severity_lifecycle(
    client, session
):
    load(session)
    body = get_json(client, "/api/v1/obligations")
    assert body["total"] == 5
    assert body["limit"] == 100
    assert body["offset"] == 0
    assert [item["id"] for item in body["items"]] == [
        "ALPHA-1.1",
        "ALPHA-1.2",
        "ALPHA-2",
        "BETA-7",
        "BETA-9",
    ]
    assert body["items"][0] == {
        "id": "ALPHA-1.1",
        "instrument": "ALPHA",
        "citation": "Art. 1(1)",
        "title": "Right to erasure",
        "status": "GAP",
        "severity": "high",
        "lifecycle": "active",
        "url": "/api/v1/obligations/ALPHA-1.1",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("instrument=BETA", ["BETA-7", "BETA-9"]),
        ("status=NOT_APPLICABLE", ["ALPHA-2"]),
        ("tag=deletion&sort=id&order=desc", ["BETA-7", "ALPHA-1.2", "ALPHA-1.1"]),
        ("q=opt-out", ["BETA-9"]),
        ("limit=2", ["ALPHA-1.1", "ALPHA-1.2"]),
        ("limit=2&offset=3", ["BETA-7", "BETA-9"]),
        ("offset=10", []),
    ],
)
def test_obligation_list_filters_like_the_matrix_and_pages(client, session, query, expected):
    load(session)
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id="ALPHA-2",
            not_applicable=True,
            justification="No breach duty for the test instrument.",
            actor=cli_actor("legal"),
        )
    body = get_json(client, f"/api/v1/obligations?{query}")
    assert [item["id"] for item in body["items"]] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=DONE", "Unknown status 'DONE'. Use one of: FAILING, SUSPECT, GAP,"),
        ("limit=0", "limit must be a whole number from 1 to 1000."),
        ("limit=5000", "limit must be a whole number from 1 to 1000."),
        ("limit=ten", "limit must be a whole number from 1 to 1000."),
        ("offset=-1", "offset must be a whole number 0 or more."),
        ("sort=colour", "Cannot sort by 'colour'."),
    ],
)
def test_bad_filter_value_is_a_400_error_object(client, session, query, message):
    load(session)
    body = get_json(client, f"/api/v1/obligations?{query}", status=400)
    assert body["error"]["status"] == 400
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"].startswith(message)


def test_obligation_detail_has_catalog_fields_mappings_versions_links_and_status(client, session):
    load(session)
    with transaction(session):
        session.add(WorkItem(key="PRIV-1", summary="Erase", status="Done", status_category="done"))
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
        link_test(
            session=session,
            obligation_id="ALPHA-1.1",
            test_id="api/E/ok",
            actor=cli_actor("qa"),
            before_first_run=True,
        )
    body = get_json(client, "/api/v1/obligations/ALPHA-1.1")
    assert body["id"] == "ALPHA-1.1"
    assert body["instrument"]["id"] == "ALPHA"
    assert body["citation"] == "Art. 1(1)"
    assert body["summary"].startswith("Delete a person's data")
    assert body["official_url"] == "https://example.org/alpha#1.1"
    assert body["severity"] == "high"
    assert body["lifecycle"] == "active"
    assert body["parameters"] == [
        {"name": "response_deadline", "value": 30.0, "unit": "days", "note": None}
    ]
    assert body["tags"] == ["deletion"]
    assert body["parent"] == "ALPHA-1"
    assert body["source"]["file"].endswith("alpha.yaml")
    assert body["mappings"] == [
        {
            "other": "BETA-7",
            "other_title": "Right to delete",
            "relationship": "intersects-with",
            "direction": "outgoing",
            "notes": "Beta only covers collected data.",
        }
    ]
    assert [version["version"] for version in body["versions"]] == [1]
    assert body["links"]["work_items"][0]["key"] == "PRIV-1"
    assert body["links"]["work_items"][0]["suspect"] is False
    assert body["links"]["tests"][0]["test_id"] == "api/E/ok"
    assert body["links"]["tests"][0]["latest_outcome"] is None
    assert body["status"]["status"] == "IMPLEMENTED"
    assert body["status"]["implementation"] == "done"
    assert body["status"]["verification"] == "not run"
    assert body["status"]["suspect"] is False
    assert "PRIV-1 is Done" in body["status"]["explanation"]


def test_mapping_target_sees_the_mapping_inverted(client, session):
    load(session)
    body = get_json(client, "/api/v1/obligations/BETA-7")
    assert body["mappings"][0]["other"] == "ALPHA-1.1"
    assert body["mappings"][0]["direction"] == "incoming"


def test_unknown_obligation_is_a_404_error_object(client, session):
    load(session)
    body = get_json(client, "/api/v1/obligations/X", status=404)
    assert body == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "No obligation 'X' in the catalog.",
        }
    }


def test_matrix_is_exactly_the_json_export_of_the_filtered_rows(client, session):
    load(session)
    body = get_json(client, "/api/v1/matrix?instrument=ALPHA&sort=severity")
    assert set(body) == {"generated_at", "rows", "evidence_scope", "notes"}
    data = build_matrix(session=session)
    rows = apply_filter(data.rows, MatrixFilter(instrument="ALPHA", sort="severity"))
    expected = to_json(rows, data.generated_at)
    assert body["rows"] == expected["rows"]
    assert [row["id"] for row in body["rows"]] == ["ALPHA-2", "ALPHA-1.1", "ALPHA-1.2"]
    assert body["generated_at"].endswith("Z")
    # A real ISO 8601 time that Python reads back (not "...+00:00Z").
    from datetime import datetime

    assert datetime.fromisoformat(body["generated_at"]).utcoffset() is not None
    assert "+00:00" not in body["generated_at"]


def test_the_matrix_after_a_report_is_the_json_export_of_every_row(client, session):
    """After a report the cached matrix is brought up to date row by row: still every row."""
    from tests.evidence_helpers import case, ingest, report

    load(session)
    ingest(session, report(case("test_a", "ALPHA-1.1"), case("test_b", "BETA-7")))
    before = get_json(client, "/api/v1/matrix")
    ingest(session, report(case("test_a", "ALPHA-1.1", "failed"), case("test_b", "BETA-7")))
    after = get_json(client, "/api/v1/matrix")
    expected = to_json(
        build_matrix(session=session).rows, build_matrix(session=session).generated_at
    )
    assert after["rows"] == expected["rows"]
    failing = {row["id"]: row for row in after["rows"]}["ALPHA-1.1"]
    assert failing["tests"]["failed"] == 1
    assert {row["id"]: row for row in before["rows"]}["ALPHA-1.1"]["tests"]["failed"] == 0
    page = client.get("/matrix").get_data(as_text=True)
    assert page.count("<tr>") >= len(after["rows"]) and "1 fail" in page


def test_json_keeps_non_ascii_text_as_utf8(client, session):
    load(session)
    response = client.get("/api/v1/matrix?instrument=BETA")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "§ 7".encode() in response.data


def test_unknown_api_route_is_a_404_error_object(client):
    body = get_json(client, "/api/v1/nothing-here", status=404)
    assert body["error"]["status"] == 404
    assert body["error"]["code"] == "not_found"


def test_wrong_method_is_a_405_error_object(client):
    response = client.post("/api/v1/obligations")
    assert response.status_code == 405
    body = json.loads(response.get_data(as_text=True))
    assert body["error"] == {
        "status": 405,
        "code": "method_not_allowed",
        "message": "POST is not allowed on /api/v1/obligations.",
    }


def test_too_large_request_is_a_413_error_object(app):
    from flask import request

    app.add_url_rule(
        "/api/v1/test-upload", "test_upload", public(lambda: request.get_data()), methods=["PUT"]
    )
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = app.test_client().put("/api/v1/test-upload", data=b"x" * 1000)
    assert response.status_code == 413
    body = json.loads(response.get_data(as_text=True))
    assert body["error"]["code"] == "payload_too_large"
    assert "Send a smaller file" in body["error"]["message"]


def test_unexpected_failure_is_a_500_error_object_without_details(app):
    def broken() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/v1/test-broken", "test_broken", public(broken))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/v1/test-broken")
    assert response.status_code == 500
    body = json.loads(response.get_data(as_text=True))
    assert body["error"]["status"] == 500
    assert body["error"]["code"] == "internal_error"
    assert "hunter2" not in response.get_data(as_text=True)
