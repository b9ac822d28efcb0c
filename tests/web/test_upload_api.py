"""The upload API: POST /api/v1/test-runs with a CI token, and reading runs back."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from sqlmodel import select

from tests.evidence_helpers import case, load_small_catalog, new_token, report, snapshot
from tests.helpers import DATA, transaction
from tracker.domain.access import cli_actor
from tracker.models import ApiToken, TestResult, TestRun
from tracker.services.tokens import revoke_token

URL = "/api/v1/test-runs"
JUNIT = DATA / "junit"
MIXED = report(
    case("test_erasure", "ALPHA-1.1"),
    case("test_recipients", "ALPHA-1.2", "failed"),
    case("test_later", outcome="skipped"),
    case("test_typo", "ALPHA-99"),
)


@pytest.fixture
def token(session) -> str:  # type: ignore[no-untyped-def]
    load_small_catalog(session)
    return new_token(session)


def post(client, data: bytes, token: str | None, content_type: str = "application/xml", **kw):  # type: ignore[no-untyped-def]
    headers = dict(kw.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(URL, data=data, headers=headers, content_type=content_type, **kw)


def body_of(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(response.get_data(as_text=True))


def runs(session) -> list[TestRun]:  # type: ignore[no-untyped-def]
    session.rollback()
    return list(session.exec(select(TestRun)).all())


def test_raw_xml_upload_is_201_with_the_run_counts_and_unknown_ids(client, session, token):
    response = post(client, MIXED, token)
    assert response.status_code == 201
    body = body_of(response)
    assert body["counts"] == {
        "total": 4,
        "passed": 2,
        "failed": 1,
        "errors": 0,
        "skipped": 1,
        "flaky": 0,
    }
    assert body["unknown_ids"] == ["ALPHA-99"] and body["invalid_ids"] == []
    assert body["duplicate"] is False and body["suite"] == "pytest"
    assert body["url"] == f"/evidence/runs/{body['id']}"
    assert response.headers["Location"] == f"/api/v1/test-runs/{body['id']}"
    assert "ALPHA-99" in body["summary"]
    assert client.get(body["url"]).status_code == 200
    (run,) = runs(session)
    assert run.id == body["id"] and run.uploaded_by == "token ci" and run.token_id == 1


def test_run_metadata_comes_from_query_parameters(client, session, token):
    query = "?suite=api&commit=0123abcd&branch=release/2026.11&release=2026.11&environment=staging"
    response = client.post(
        URL + query,
        data=MIXED,
        headers={"Authorization": f"Bearer {token}"},
        content_type="text/xml",
    )
    assert response.status_code == 201
    (run,) = runs(session)
    assert (run.suite, run.commit, run.branch, run.release, run.environment) == (
        "api",
        "0123abcd",
        "release/2026.11",
        "2026.11",
        "staging",
    )


def test_multipart_upload_with_form_fields_is_201(client, session, token):
    response = client.post(
        URL,
        data={
            "report": (io.BytesIO(MIXED), "junit.xml"),
            "commit": "feedbeef",
            "branch": "main",
            "release": "2026.12",
            "environment": "ci",
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = body_of(response)
    assert body["counts"]["total"] == 4
    assert (body["commit"], body["branch"], body["release"], body["environment"]) == (
        "feedbeef",
        "main",
        "2026.12",
        "ci",
    )
    assert body["source_name"] == "junit.xml"


def test_multipart_field_may_be_called_file(client, session, token):
    response = client.post(
        URL,
        data={"file": (io.BytesIO(MIXED), "junit.xml")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201


def test_multipart_without_a_report_field_says_which_field_to_use(client, session, token):
    response = client.post(
        URL,
        data={"other": (io.BytesIO(MIXED), "junit.xml")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "'report'" in body_of(response)["error"]["message"]
    assert runs(session) == []


@pytest.mark.parametrize(
    ("content_type", "headers"),
    [
        ("application/octet-stream", {}),
        ("application/gzip", {}),
        ("application/xml", {"Content-Encoding": "gzip"}),
    ],
)
def test_gzip_upload_is_201(client, session, token, content_type, headers):
    response = post(client, gzip.compress(MIXED), token, content_type, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert body_of(response)["counts"]["total"] == 4


def test_gzip_multipart_upload_is_201(client, session, token):
    response = client.post(
        URL,
        data={"report": (io.BytesIO(gzip.compress(MIXED)), "junit.xml.gz")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert body_of(response)["counts"]["failed"] == 1


def test_content_encoding_gzip_on_a_plain_body_is_a_400(client, session, token):
    response = post(client, MIXED, token, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert "not gzip data" in body_of(response)["error"]["message"]


@pytest.mark.parametrize(
    ("authorization", "invalid"),
    [
        (None, False),
        ("Bearer", False),
        ("Basic dXNlcjpwYXNz", False),
        ("Bearer trk_not-a-real-token", True),
        ("Bearer something-else", True),
    ],
)
def test_missing_or_wrong_token_is_401_says_how_to_get_one_and_writes_nothing(
    client, session, engine, token, authorization, invalid
):
    before = snapshot(engine)
    headers = {"Authorization": authorization} if authorization else {}
    response = post(client, MIXED, None, headers=headers)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid
    error = body_of(response)["error"]
    assert error["status"] == 401 and error["code"] == "unauthorized"
    assert "tracker tokens create --name ci" in error["message"]
    assert snapshot(engine) == before


def test_revoked_token_is_refused_and_writes_nothing(client, session, engine, token):
    with transaction(session):
        token_id = session.exec(select(ApiToken.id)).one()
        revoke_token(session=session, token_id=token_id, actor=cli_actor("admin"))  # type: ignore[arg-type]
    before = snapshot(engine)
    response = post(client, MIXED, token)
    assert response.status_code == 401
    assert "revoked" in body_of(response)["error"]["message"]
    assert snapshot(engine) == before


def test_a_successful_upload_records_the_tokens_use(client, session, token):
    post(client, MIXED, token)
    session.rollback()
    assert session.exec(select(ApiToken)).one().last_used_at is not None


def test_malformed_xml_is_400_with_line_and_column_and_writes_nothing(
    client, session, engine, token
):
    before = snapshot(engine)
    response = post(client, (JUNIT / "malformed.xml").read_bytes(), token)
    assert response.status_code == 400
    error = body_of(response)["error"]
    assert error["code"] == "invalid_report"
    assert error["line"] == 5 and isinstance(error["column"], int) and error["column"] > 1
    assert "line 5" in error["message"] and "Nothing was stored" in error["message"]
    assert snapshot(engine) == before


@pytest.mark.parametrize("sample", ["dtd.xml", "billion_laughs.xml", "xxe.xml"])
def test_dtds_and_entities_are_refused_and_nothing_is_written(
    client, session, engine, token, sample
):
    before = snapshot(engine)
    response = post(client, (JUNIT / sample).read_bytes(), token)
    assert response.status_code == 400
    error = body_of(response)["error"]
    assert "DTD" in error["message"]
    assert error["line"] == 2
    assert snapshot(engine) == before


def test_a_body_over_the_size_limit_is_413_and_writes_nothing(app, session, engine, token):
    app.config["MAX_UPLOAD_BYTES"] = app.config["MAX_CONTENT_LENGTH"] = 2000
    client = app.test_client()
    before = snapshot(engine)
    big = report(*(case(f"test_{index}", "ALPHA-1.1") for index in range(40)))
    assert len(big) > 2000
    response = post(client, big, token)
    assert response.status_code == 413
    assert body_of(response)["error"]["code"] == "payload_too_large"
    multipart = client.post(
        URL,
        data={"report": (io.BytesIO(big), "junit.xml")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 413
    assert snapshot(engine) == before


def test_gzip_that_decompresses_beyond_the_limit_is_413_and_writes_nothing(
    app, session, engine, token
):
    app.config["MAX_UPLOAD_BYTES"] = app.config["MAX_CONTENT_LENGTH"] = 20_000
    padding = "<!-- " + "x" * 200_000 + " -->"
    bomb = gzip.compress(MIXED.replace(b"<testsuites>", f"<testsuites>{padding}".encode()))
    assert len(bomb) < 20_000
    before = snapshot(engine)
    response = post(app.test_client(), bomb, token, "application/octet-stream")
    assert response.status_code == 413
    error = body_of(response)["error"]
    assert error["code"] == "payload_too_large"
    assert "after decompression" in error["message"]
    assert snapshot(engine) == before


def test_the_same_report_twice_is_recorded_once(client, session, token):
    first = post(client, MIXED, token)
    second = post(client, MIXED, token)
    assert first.status_code == 201
    assert second.status_code == 200
    body = body_of(second)
    assert body["duplicate"] is True and body["id"] == body_of(first)["id"]
    assert body["counts"]["total"] == 4
    assert len(runs(session)) == 1
    assert len(session.exec(select(TestResult)).all()) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("commit=" + "a" * 65, "commit"),
        ("branch=" + "b" * 201, "branch"),
        ("release=x%00y", "release"),
    ],
)
def test_bad_run_metadata_is_a_400_that_names_the_field(
    client, session, engine, token, query, field
):
    before = snapshot(engine)
    response = client.post(
        f"{URL}?{query}",
        data=MIXED,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/xml",
    )
    assert response.status_code == 400
    assert body_of(response)["error"]["message"].startswith(field)
    assert snapshot(engine) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_other_content_types_are_415_and_say_what_to_send(client, session, token, content_type):
    response = post(client, MIXED, token, content_type)
    assert response.status_code == 415
    error = body_of(response)["error"]
    assert error["code"] == "unsupported_media_type"
    assert "application/xml" in error["message"] and "multipart/form-data" in error["message"]


def test_an_empty_body_is_a_400(client, session, token):
    response = post(client, b"", token)
    assert response.status_code == 400
    assert "empty" in body_of(response)["error"]["message"]


def test_upload_needs_no_csrf_token_but_the_pages_still_do(client, session, token):
    assert post(client, MIXED, token).status_code == 201
    response = client.post("/obligations/ALPHA-1.1/review")
    assert response.status_code == 400


def test_runs_can_be_listed_and_read_back(client, session, token):
    first = body_of(post(client, MIXED, token))
    second = body_of(
        client.post(
            URL + "?branch=feature/x",
            data=report(case("test_erasure", "ALPHA-1.1", "failed", message="still there")),
            headers={"Authorization": f"Bearer {token}"},
            content_type="application/xml",
        )
    )
    listed = body_of(client.get(f"{URL}?limit=1"))
    assert listed["total"] == 2 and listed["limit"] == 1
    assert [item["id"] for item in listed["items"]] == [second["id"]]
    filtered = body_of(client.get(f"{URL}?branch=feature/x"))
    assert [item["id"] for item in filtered["items"]] == [second["id"]]
    detail = body_of(client.get(f"{URL}/{first['id']}"))
    assert detail["results_total"] == 4
    assert [result["outcome"] for result in detail["results"]] == [
        "failed",
        "skipped",
        "passed",
        "passed",
    ]
    assert detail["results"][0]["obligations"] == ["ALPHA-1.2"]
    assert detail["results"][3]["unknown_ids"] == ["ALPHA-99"]
    assert client.get(f"{URL}/999").status_code == 404
    assert body_of(client.get(f"{URL}?limit=0"))["error"]["code"] == "bad_request"


def test_the_server_mapping_file_links_uploaded_tests_that_cannot_be_annotated(
    app, client, session, token, tmp_path
):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        'mappings:\n  - tests: "pytest/tests.test_privacy/test_gpc_*"\n    obligations: [BETA-9]\n'
    )
    app.config["TEST_MAPPING_PATH"] = str(mapping)
    response = post(client, report(case("test_gpc_header")), token)
    assert response.status_code == 201
    assert body_of(response)["links_added"] == 1


def test_an_invalid_server_mapping_file_is_a_clear_500_and_writes_nothing(
    app, client, session, token, tmp_path
):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("mappings: [{tests: '*', obligations: ['not an id']}]\n")
    app.config["TEST_MAPPING_PATH"] = str(mapping)
    response = post(client, report(case("test_gpc_header")), token)
    assert response.status_code == 500
    assert "TRACKER_TEST_MAPPING" in body_of(response)["error"]["message"]
    assert runs(session) == []
