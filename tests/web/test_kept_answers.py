"""Finished answers kept per viewer: given again only while what they show is still true."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.auth_helpers import client_as
from tests.evidence_helpers import case, count_statements, ingest, report
from tests.helpers import SMALL_CATALOG, clear_of_time_bucket_end, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.services.audit import record_event
from tracker.services.catalog import load_catalog
from tracker.services.links import decide_applicability
from tracker.web.answer_store import MOST_BYTES, AnswerStore, KeptAnswer

REDIS_URL = "redis://127.0.0.1:6379/4"


def answer(body: bytes = b"<p>page</p>", until: int = 2_000, **changes: object) -> KeptAnswer:
    fields: dict[str, object] = {
        "generation": "7-abc",
        "names": frozenset({"ALPHA-1"}),
        "marker": "2:9",
        "until": until,
        "headers": (("Content-Type", "text/html; charset=utf-8"),),
        "body": body,
    }
    fields.update(changes)
    return KeptAnswer(**fields)  # type: ignore[arg-type]


def test_an_answer_reads_back_as_it_was_stored_and_anything_else_is_a_miss() -> None:
    for kept in (answer(), answer(names=None), answer(body=b"line one\nline two\n")):
        assert KeptAnswer.decode(kept.encode()) == kept
    for blob in (b"", b"no header line", b"{}\nbody", b"[1, 2]\nbody", b"\xff\xfe\nbody"):
        assert KeptAnswer.decode(blob) is None


def test_the_store_forgets_what_expired_and_keeps_within_its_bounds() -> None:
    store = AnswerStore(local_bytes=100)
    store.put("one", answer(b"x" * 60), now=1_000)
    assert store.get("one", now=1_999) is not None
    assert store.get("one", now=2_000) is None  # it stopped being true
    store.put("one", answer(b"x" * 60), now=1_000)
    store.put("two", answer(b"y" * 60), now=1_000)  # 120 bytes: the oldest goes
    assert store.get("one", now=1_000) is None and store.get("two", now=1_000) is not None
    store.put("big", answer(b"z" * (MOST_BYTES + 1)), now=1_000)
    assert store.get("big", now=1_000) is None
    store.put("late", answer(until=999), now=1_000)
    assert store.get("late", now=1_000) is None


def test_workers_share_kept_answers_through_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("tracker:answer:*"):
        client.delete(key)
    one, two = AnswerStore(client), AnswerStore(redis.Redis.from_url(REDIS_URL))
    now = int(__import__("time").time())
    one.put("page", answer(until=now + 30), now=now)
    assert two.get("page", now=now) == answer(until=now + 30)
    assert 0 < int(client.ttl("tracker:answer:page")) <= 30  # Redis forgets it when it expires
    client.set("tracker:answer:bad", b"not an answer")
    assert two.get("bad", now=now) is None


@pytest.fixture
def loaded(session: Session) -> Session:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    return session


def _a_write_to_the_matrix(session: Session) -> None:
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id="ALPHA-1.1",
            not_applicable=True,
            justification="No data of this kind is processed at all.",
            actor=cli_actor("legal"),
        )


def test_a_kept_dashboard_is_given_again_until_a_write(client, loaded, engine: Engine) -> None:
    clear_of_time_bucket_end(5)
    first = client.get("/")
    with count_statements(engine) as again:
        second = client.get("/")
    assert second.status_code == 200 and second.data == first.data
    # The sign-in check alone, which reads the data generation with it: nothing else is read.
    assert len(again) == 1 and "datageneration" in again[0], again
    _a_write_to_the_matrix(loaded)
    after = client.get("/")
    assert after.data != first.data
    assert _counts(after.data) != _counts(first.data)


def test_a_kept_api_answer_costs_the_token_check_alone(app, loaded, engine: Engine) -> None:
    from tracker.domain.access import Scope
    from tracker.services.tokens import create_token

    with transaction(loaded):
        secret = create_token(
            session=loaded, name="ci", actor=cli_actor("admin"), scopes=[Scope.READ]
        ).secret
    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    clear_of_time_bucket_end(5)
    first = api.get("/api/v1/matrix", headers=headers)
    with count_statements(engine) as again:
        second = api.get("/api/v1/matrix", headers=headers)
    assert second.status_code == 200 and second.data == first.data
    assert len(again) == 1 and "datageneration" in again[0], again
    _a_write_to_the_matrix(loaded)
    assert api.get("/api/v1/matrix", headers=headers).data != first.data


def test_each_viewer_is_given_only_their_own_kept_page(app, loaded, engine: Engine) -> None:
    legal = client_as(app, engine, "legal", email="legal@example.com")
    other_legal = client_as(app, engine, "legal", email="counsel@example.com")
    viewer = client_as(app, engine, "viewer", email="viewer@example.com")
    clear_of_time_bucket_end(5)
    for _ in range(2):  # the second round is given from what was kept
        legal_page = legal.get("/obligations/ALPHA-1.1").get_data(as_text=True)
        other_page = other_legal.get("/obligations/ALPHA-1.1").get_data(as_text=True)
        viewer_page = viewer.get("/obligations/ALPHA-1.1").get_data(as_text=True)
        assert "legal@example.com" in legal_page and "counsel@example.com" not in legal_page
        assert "counsel@example.com" in other_page and "legal@example.com" not in other_page
        assert _csrf(legal_page) != _csrf(other_page)
        assert "/obligations/ALPHA-1.1/applicability" in legal_page
        assert "/obligations/ALPHA-1.1/applicability" not in viewer_page


def test_a_kept_obligation_page_follows_its_history_and_its_own_reports(
    client, loaded, engine: Engine
) -> None:
    ingest(loaded, report(case("test_first", "ALPHA-1.1")), suite="api")
    clear_of_time_bucket_end(10)
    first = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    # An audit event that moves no data generation still shows at once.
    with transaction(loaded):
        record_event(
            session=loaded,
            actor=cli_actor("auditor"),
            action="obligation.noted",
            entity_type="obligation",
            entity_id="ALPHA-1.1",
            after={"note": "looked at it"},
        )
    noted = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert "Obligation noted" in noted and "Obligation noted" not in first
    # A report about another obligation leaves the kept page; one about it does not.
    ingest(loaded, report(case("test_other", "BETA-7", "failed")), suite="other")
    with count_statements(engine) as kept:
        assert client.get("/obligations/ALPHA-1.1").get_data(as_text=True) == noted
    assert len([s for s in kept if "datagenerationchange" not in s]) <= 3, kept
    ingest(loaded, report(case("test_first", "ALPHA-1.1", "failed")), suite="api")
    failed = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert 'class="outcome-fail"' in failed and 'class="outcome-fail"' not in noted


def test_a_page_showing_a_message_is_not_kept(client, loaded) -> None:
    client.get("/")
    with client.session_transaction() as cookie_session:
        cookie_session["_flashes"] = [("success", "Saved your change.")]
    assert "Saved your change." in client.get("/").get_data(as_text=True)
    assert "Saved your change." not in client.get("/").get_data(as_text=True)


def _counts(body: bytes) -> list[str]:
    return re.findall(rb'title="([^"]*obligations?)"', body)  # type: ignore[return-value]


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text) or re.search(
        r'name="csrf_token" value="([^"]+)"', text
    )
    assert found is not None
    return found.group(1)
