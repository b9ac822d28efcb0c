"""Who may ask is settled before what they sent is read: a refused request's body stays unread."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.evidence_helpers import case, load_small_catalog, new_token, report, snapshot

URL = "/api/v1/test-runs"
BOUNDARY = "tracker-test-boundary"


def multipart(file_name: str, content: bytes) -> bytes:
    """Return a multipart body with one report file."""
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="report"; filename="{file_name}"\r\n'
            "Content-Type: application/xml\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def upload(client: Any, body: bytes, headers: dict[str, str] | None = None) -> tuple[Any, int]:
    """Post the body as a stream; return the response and how many bytes the server read."""
    stream = io.BytesIO(body)
    response = client.post(
        URL,
        input_stream=stream,
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=headers or {},
    )
    return response, stream.tell()


def test_an_anonymous_multipart_upload_is_refused_401_without_its_body_being_read(
    anonymous: Any, session: Session, engine: Engine
) -> None:
    load_small_catalog(session)
    # Large enough that reading it would show; the limit of an upload is far above it.
    body = multipart("junit.xml", report(case("test_erasure", "ALPHA-1.1")) + b" " * 5_000_000)
    before = snapshot(engine)
    response, read = upload(anonymous, body)
    assert response.status_code == 401
    assert "API token" in response.get_json()["error"]["message"]
    assert read == 0, f"the server read {read:,} bytes of an upload it refused"
    assert snapshot(engine) == before


def test_the_same_upload_with_a_token_is_read_and_stored(anonymous: Any, session: Session) -> None:
    load_small_catalog(session)
    body = multipart("junit.xml", report(case("test_erasure", "ALPHA-1.1")))
    secret = new_token(session)
    response, read = upload(anonymous, body, {"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert read == len(body)


@pytest.mark.parametrize(
    ("label", "content_type", "body"),
    [
        (
            "a file name with a NUL",
            f"multipart/form-data; boundary={BOUNDARY}",
            multipart("junit\x00.xml", report(case("test_erasure"))),
        ),
        ("JSON nested 100,000 deep", "application/json", b"[" * 100_000 + b"]" * 100_000),
        ("JSON holding a NUL", "application/json", json.dumps({"suite": "a\x00b"}).encode()),
    ],
)
def test_an_anonymous_hostile_body_is_a_401_not_a_400(
    anonymous: Any, session: Session, label: str, content_type: str, body: bytes
) -> None:
    load_small_catalog(session)
    response = anonymous.post(URL, data=body, content_type=content_type)
    assert response.status_code == 401, f"{label}: {response.status_code}"
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_hostile_body_with_a_token_is_still_refused_400(anonymous: Any, session: Session) -> None:
    load_small_catalog(session)
    secret = new_token(session)
    response = anonymous.post(
        URL,
        data=b"[" * 100_000 + b"]" * 100_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.get_json()["error"]["message"]
