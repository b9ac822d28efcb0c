"""The run page and the upload API with retried tests, cut texts and hostile reports."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from sqlmodel import select

from tests.evidence_helpers import HOSTILE, case, load_small_catalog, new_token, report, snapshot
from tracker.models import TestRun

URL = "/api/v1/test-runs"


@pytest.fixture
def token(session) -> str:  # type: ignore[no-untyped-def]
    load_small_catalog(session)
    return new_token(session)


def upload(client, token: str, data: bytes, query: str = "", gzipped: bool = False):  # type: ignore[no-untyped-def]
    return client.post(
        URL + query,
        data=gzip.compress(data) if gzipped else data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/gzip" if gzipped else "application/xml",
    )


def body_of(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(response.get_data(as_text=True))


def test_the_run_page_lists_each_attempt_of_a_retried_test(client, token):
    data = report(
        case("test_erasure", "ALPHA-1.1", "failed", message=f"timeout {HOSTILE}"),
        case("test_erasure", "ALPHA-1.1"),
    )
    response = upload(client, token, data)
    assert response.status_code == 201
    body = body_of(response)
    assert body["counts"]["total"] == 1 and body["counts"]["flaky"] == 1
    page = client.get(body["url"]).get_data(as_text=True)
    assert "2 attempts in this run" in page
    assert "Attempt 1" in page and "Attempt 2" in page
    assert 'title="Failed first, passed on a rerun">Flaky' in page
    # The failed attempt's message is shown, escaped.
    assert "timeout &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_the_run_page_says_when_a_failure_text_was_cut(client, token):
    text = "x" * 300_000
    body = body_of(
        upload(
            client, token, report(case("test_big", outcome="failed", message=text)), gzipped=True
        )
    )
    page = client.get(body["url"]).get_data(as_text=True)
    assert "Cut at 64 KiB of 586 KiB: the tracker keeps the start only." in page
    assert "1 failure texts were longer than the limit" in body["summary"]


def test_the_api_gives_each_attempt_and_the_full_size_of_a_cut_text(client, token):
    data = report(
        case("test_erasure", outcome="failed", message="x" * 70_000),
        case("test_erasure", outcome="error", message="setup"),
    )
    run = body_of(upload(client, token, data))
    detail = body_of(client.get(run["api_url"]))
    (result,) = detail["results"]
    assert result["outcome"] == "error" and result["message"] == "setup\nsetup"
    first, second = result["attempts"]
    assert (first["number"], first["outcome"], second["outcome"]) == (1, "failed", "error")
    assert len(first["message"]) == 32 * 1024 and second["message"] == "setup\nsetup"
    assert result["message_size"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0" encoding="UTF-7"?><testsuite name="s"/>',
            'declares encoding="UTF-7", which the tracker does not read',
        ),
        (
            b'<testsuite name="s">\n<testcase name="' + b"n" * 1001 + b'"/></testsuite>',
            "1,0",
        ),
        (b'<testsuite name="s"><testcase name="a&#0;b"/></testsuite>', "not allowed in XML"),
        (b'<testsuite name="s">' + b"<a>" * 300, "levels deep"),
    ],
    ids=["UTF-7", "long test id", "NUL", "deep nesting"],
)
def test_hostile_reports_are_refused_with_a_message_and_nothing_stored(
    client, engine, token, data, message
):
    before = snapshot(engine)
    response = upload(client, token, data)
    assert response.status_code == 400
    error = body_of(response)["error"]
    assert message in error["message"] and "Nothing was stored" in error["message"]
    assert snapshot(engine) == before


def test_a_small_gzip_holding_a_huge_attribute_is_refused_at_once(client, engine, token):
    data = b'<testsuite name="s"><testcase name="' + b"a" * (150 * 1024 * 1024) + b'"/></testsuite>'
    compressed = gzip.compress(data, compresslevel=9)
    del data
    assert len(compressed) < 200 * 1024
    started = time.perf_counter()
    response = client.post(
        URL,
        data=compressed,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/gzip",
    )
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    assert "longer than 1 MiB" in body_of(response)["error"]["message"]


def test_an_out_of_range_timestamp_is_noted_in_the_upload_answer(client, session, token):
    data = report(case("test_erasure")).replace(
        b"tests='1'", b"tests='1' timestamp='9999-12-31T23:59:59-23:59'"
    )
    response = upload(client, token, data)
    assert response.status_code == 201
    assert (
        "is not between 1970 and the time the report was received" in body_of(response)["summary"]
    )
    session.rollback()
    (run,) = session.exec(select(TestRun)).all()
    assert run.started_at == run.created_at


def test_a_run_field_with_a_control_character_is_refused(client, engine, token):
    before = snapshot(engine)
    response = upload(client, token, report(case("t")), query="?commit=abc%00def")
    assert response.status_code == 400
    assert "commit" in body_of(response)["error"]["message"]
    assert snapshot(engine) == before
