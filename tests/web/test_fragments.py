"""Rendered matrix fragments: shared by every viewer, made once per cached matrix, never stale."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.auth_helpers import client_as
from tests.evidence_helpers import case, ingest, report
from tests.release_helpers import release_world
from tracker.generation import current_generation
from tracker.services import matrix_cache
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import build_matrix
from tracker.services.matrix_cache import MatrixKey, cached_matrix, time_bucket
from tracker.services.matrix_stores import RedisMatrixCache
from tracker.web import fragments
from tracker.web.fragments import FragmentCache

REDIS_URL = "redis://127.0.0.1:6379/4"
TABLE_ROWS = re.compile(rb"<tbody>(.*)</tbody>", re.S)


@pytest.fixture
def world(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()


def table_rows(body: bytes) -> bytes:
    found = TABLE_ROWS.search(body)
    assert found is not None, "the matrix page has no table"
    return found.group(1)


@pytest.mark.usefixtures("world")
def test_every_viewer_gets_the_same_rows_and_their_own_page_around_them(
    app, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    renders: list[int] = []
    original = fragments.FragmentCache.get_or_render

    def counting(self: FragmentCache, key: str, render, *, share=True):  # type: ignore[no-untyped-def]
        def counted() -> bytes:
            renders.append(1)
            return render()

        return original(self, key, counted, share=share)

    monkeypatch.setattr(fragments.FragmentCache, "get_or_render", counting)
    viewer = client_as(app, engine, "viewer", email="viewer@example.com")
    legal = client_as(app, engine, "legal", email="legal@example.com")
    one, two = viewer.get("/matrix"), legal.get("/matrix")
    assert one.status_code == two.status_code == 200
    assert table_rows(one.data) == table_rows(two.data)
    assert len(renders) == 1  # the second viewer's rows came from the cache
    # What is per viewer stays outside the fragment: names, tokens.
    rows = table_rows(one.data)
    for per_viewer in (b"csrf", b"viewer@example.com", b"legal@example.com", b"Sign out"):
        assert per_viewer not in rows
    assert b"viewer@example.com" in one.data or b"Viewer" in one.data


@pytest.mark.usefixtures("world")
def test_a_write_gives_the_matrix_page_new_rows(app, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as(app, engine, "viewer")
    before = table_rows(viewer.get("/matrix").data)
    with Session(engine) as session:
        ingest(session, report(case("test_erasure", "ALPHA-1.1", "failed")))
    after = table_rows(viewer.get("/matrix").data)
    assert after != before
    # Filters are part of the key: a filtered page is not served the unfiltered rows.
    filtered = table_rows(viewer.get("/matrix?status=FAILING").data)
    assert filtered != after and b"ALPHA-1.1" in filtered


@pytest.mark.usefixtures("world")
def test_the_api_matrix_is_shaped_once_per_cached_matrix_and_again_after_a_write(
    app, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as(app, engine, "viewer")
    first = viewer.get("/api/v1/matrix")
    again = viewer.get("/api/v1/matrix")
    assert first.data == again.data and first.is_json
    with Session(engine) as session:
        ingest(session, report(case("test_erasure", "ALPHA-1.1", "failed")))
    after = viewer.get("/api/v1/matrix").get_json()
    statuses = {row["id"]: row["status"] for row in after["rows"]}
    assert statuses["ALPHA-1.1"] == "FAILING"


def test_a_fragment_waits_for_the_worker_rendering_it() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("tracker:fragment*"):
        client.delete(key)
    one, two = FragmentCache(client), FragmentCache(redis.Redis.from_url(REDIS_URL))
    started, finish = threading.Event(), threading.Event()

    def slow() -> bytes:
        started.set()
        finish.wait(5)
        return b"<tr>rendered once</tr>"

    worker = threading.Thread(target=lambda: one.get_or_render("k", slow))
    worker.start()
    assert started.wait(5)
    answers: list[bytes] = []
    waiter = threading.Thread(
        target=lambda: answers.append(two.get_or_render("k", lambda: b"rendered twice"))
    )
    waiter.start()
    finish.set()
    worker.join(5)
    waiter.join(5)
    assert answers == [b"<tr>rendered once</tr>"]


@pytest.mark.usefixtures("world")
def test_a_worker_waits_for_the_matrix_another_is_computing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("tracker:matrix*"):
        client.delete(key)
    one, two = RedisMatrixCache(client), RedisMatrixCache(redis.Redis.from_url(REDIS_URL))
    now = datetime.now(UTC)
    scope = EvidenceScope()
    with Session(engine) as reading:
        generation = current_generation(reading.connection())
        key = MatrixKey(generation, time_bucket(now, 60), scope).text()
    assert one.claim(key)  # the first worker is computing
    assert not two.claim(key)
    computed: list[int] = []
    real = matrix_cache.build_matrix

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        computed.append(1)
        return real(**kwargs)

    monkeypatch.setattr(matrix_cache, "build_matrix", counted)
    answers = []

    def second_worker() -> None:
        with Session(engine) as reading:
            answers.append(cached_matrix(session=reading, cache=two, scope=scope, now=now))

    waiter = threading.Thread(target=second_worker)
    waiter.start()
    with Session(engine) as reading:
        data = build_matrix(session=reading, scope=scope, now=now)
    one.put(key, data, datetime.fromtimestamp((time_bucket(now, 60) + 1) * 60, UTC))
    one.release(key)
    waiter.join(10)
    assert computed == []  # the second worker used the first one's matrix
    assert [row.id for row in answers[0].rows] == [row.id for row in data.rows]
