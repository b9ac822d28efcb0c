"""ETags and 304: pages and API answers revalidate for one viewer until something changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.auth_helpers import client_as
from tests.evidence_helpers import new_token
from tests.helpers import clear_of_time_bucket_end, csrf_token
from tests.release_helpers import release_world
from tracker.models import utcnow
from tracker.services import matrix_cache

READS = [
    "/",
    "/?release=2026.12",
    "/matrix",
    "/matrix?status=GAP&sort=title",
    "/matrix?release=2026.12",
    "/matrix.csv",
    "/matrix.json?instrument=ALPHA",
    "/matrix.md",
    "/api/v1/matrix",
    "/api/v1/obligations?limit=2",
    "/api/v1/obligations/ALPHA-1.1",
]


@pytest.fixture
def world(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("url", READS)
def test_a_read_answers_304_to_its_own_etag_without_computing_or_rendering(
    client, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    clear_of_time_bucket_end(3)
    first = client.get(url)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert {"Cookie", "Authorization"} <= set(first.headers["Vary"].replace(" ", "").split(","))

    def refuse(**_: object) -> None:
        raise AssertionError("a 304 must not compute the matrix")

    monkeypatch.setattr(matrix_cache, "build_matrix", refuse)
    rendered: list[str] = []

    def note(_app: object, template: object, **_extra: object) -> None:
        rendered.append(str(template))

    with template_rendered.connected_to(note):
        again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert rendered == []


@pytest.mark.usefixtures("world")
def test_a_write_through_the_web_makes_the_next_revalidation_show_it(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/matrix?status=NOT_APPLICABLE")
    tag = page.headers["ETag"]
    assert "ALPHA-2" not in page.get_data(as_text=True)
    answer = client.post(
        "/obligations/ALPHA-2/applicability",
        data={
            "csrf_token": csrf_token(client, "/obligations/ALPHA-2"),
            "decision": "not_applicable",
            "justification": "We hold no data that this duty is about, anywhere at all.",
        },
    )
    assert answer.status_code in (302, 303)
    shown = client.get("/matrix?status=NOT_APPLICABLE", headers={"If-None-Match": tag})
    assert shown.status_code == 200
    assert "ALPHA-2" in shown.get_data(as_text=True)
    # The page carried a one-time message, so it had no tag; the next one has a new tag.
    assert "ETag" not in shown.headers
    again = client.get("/matrix?status=NOT_APPLICABLE", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["ETag"] != tag


@pytest.mark.usefixtures("world")
def test_an_upload_through_the_api_changes_the_api_etag(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    from tests.evidence_helpers import case, report

    tag = client.get("/api/v1/matrix").headers["ETag"]
    secret = new_token(session)
    upload = client.post(
        "/api/v1/test-runs",
        data=report(case("test_recipients", "ALPHA-1.2")),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/xml"},
    )
    assert upload.status_code in (201, 202), upload.get_data(as_text=True)
    again = client.get("/api/v1/matrix", headers={"If-None-Match": tag})
    assert again.status_code == 200
    statuses = {row["id"]: row["status"] for row in again.get_json()["rows"]}
    assert statuses["ALPHA-1.2"] == "VERIFIED"


@pytest.mark.usefixtures("world")
def test_the_etag_is_per_viewer_and_per_query(app, engine: Engine, client) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as(app, engine, "viewer", email="vera@example.com")
    mine = client.get("/matrix").headers["ETag"]
    theirs = viewer.get("/matrix").headers["ETag"]
    assert mine != theirs
    assert viewer.get("/matrix", headers={"If-None-Match": mine}).status_code == 200
    assert client.get("/matrix?sort=title").headers["ETag"] != mine
    assert client.get("/matrix.json").headers["ETag"] != mine


@pytest.mark.usefixtures("world")
def test_a_token_gets_its_own_etag(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    secret = new_token(session)
    clear_of_time_bucket_end(3)
    signed_in = client.get("/api/v1/matrix").headers["ETag"]
    headers = {"Authorization": f"Bearer {secret}"}
    with_token = client.get("/api/v1/matrix", headers=headers)
    assert with_token.status_code == 200 and with_token.headers["ETag"] != signed_in
    headers["If-None-Match"] = with_token.headers["ETag"]
    assert client.get("/api/v1/matrix", headers=headers).status_code == 304


@pytest.mark.usefixtures("world")
def test_a_new_time_bucket_gives_a_new_etag(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from tracker.web import caching

    tag = client.get("/matrix").headers["ETag"]
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(caching, "utcnow", lambda: later)
    again = client.get("/matrix", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["ETag"] != tag


@pytest.mark.usefixtures("world")
def test_someone_not_signed_in_gets_no_304_for_a_stolen_etag(client, anonymous) -> None:  # type: ignore[no-untyped-def]
    tag = client.get("/matrix").headers["ETag"]
    answer = anonymous.get("/matrix", headers={"If-None-Match": tag})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    api = anonymous.get("/api/v1/matrix", headers={"If-None-Match": tag})
    assert api.status_code == 401


@pytest.mark.usefixtures("world")
def test_an_error_answer_carries_no_etag(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/matrix?status=NOPE")
    assert answer.status_code == 400
    assert "ETag" not in answer.headers


@pytest.mark.usefixtures("world")
def test_a_copy_is_not_confirmed_once_a_status_in_it_has_aged(  # type: ignore[no-untyped-def]
    app, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.web import caching

    # A long time bucket: only the ageing of a status (here in 5 s) may end the copy's truth.
    app.config["MATRIX_CACHE_SECONDS"] = 10**7
    start = utcnow()
    monkeypatch.setattr(caching, "utcnow", lambda: start)
    monkeypatch.setattr(
        matrix_cache, "next_status_change", lambda _facts, now: now + timedelta(seconds=5)
    )
    tag = client.get("/matrix").headers["ETag"]
    assert client.get("/matrix", headers={"If-None-Match": tag}).status_code == 304

    later = start + timedelta(seconds=6)
    monkeypatch.setattr(caching, "utcnow", lambda: later)
    again = client.get("/matrix", headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert again.headers["ETag"] != tag


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("header", ['W/"", "a"', 'W/""', '"x.²"', '"x.99999999999999999999"', "*"])
def test_a_malformed_if_none_match_gets_the_page(client, header: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/matrix", headers={"If-None-Match": header})
    assert answer.status_code == 200
    assert answer.is_json
