"""Security of the pages: CSRF on every form, escaping of hostile text, headers, CSV formulas."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from tests.helpers import SMALL_CATALOG, csrf_token, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.models import Obligation, WorkItem
from tracker.services.catalog import load_catalog
from tracker.services.links import link_test, link_work_item

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT} {IMAGE}"

POST_ROUTES = [
    ("/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-5"}),
    ("/obligations/ALPHA-1.1/links/work-items/PRIV-1/remove", {}),
    ("/obligations/ALPHA-1.1/links/tests", {"test_id": "api/a/new"}),
    ("/obligations/ALPHA-1.1/links/tests/remove", {"test_id": "api/a/b"}),
    ("/obligations/ALPHA-1.1/review", {}),
    (
        "/obligations/ALPHA-1.1/applicability",
        {"decision": "not_applicable", "justification": "This does not apply to us."},
    ),
]


def load(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("test"))


def snapshot(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def add_hostile_data(session: Session) -> None:
    """Put hostile text where people and Jira write: a summary, a Jira summary, a test id."""
    with transaction(session):
        obligation = session.get(Obligation, "ALPHA-1.1")
        assert obligation is not None
        obligation.summary = f"Summary {HOSTILE}"
        obligation.title = f'=HYPERLINK("http://evil") {HOSTILE}'
        session.add(obligation)
        session.add(
            WorkItem(
                key="PRIV-1",
                summary=f"Jira says {HOSTILE}",
                status=f"Status {HOSTILE}",
                status_category="indeterminate",
                url="javascript:alert(1)",
            )
        )
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor(HOSTILE)
        )
        link_test(
            session=session,
            before_first_run=True,
            obligation_id="ALPHA-1.1",
            test_id=f"suite/Class/test {HOSTILE}",
            actor=cli_actor("qa"),
        )


def assert_escaped(text: str) -> None:
    assert "<script" not in text
    assert "<img" not in text
    assert "onerror=alert(1)>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text


@pytest.mark.parametrize(
    "url", ["/obligations/ALPHA-1.1", "/matrix", "/matrix?q=PRIV-1", "/obligations/ALPHA-1"]
)
def test_hostile_text_is_shown_as_text(client, session, url):
    load(session)
    add_hostile_data(session)
    response = client.get(url)
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True))


def test_hostile_text_in_a_rejected_form_is_shown_as_text(client, session):
    load(session)
    token = csrf_token(client, "/obligations/ALPHA-1.1")
    response = client.post(
        "/obligations/ALPHA-1.1/links/work-items", data={"csrf_token": token, "key": HOSTILE}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "<script>alert" not in text
    assert "<img" not in text


def test_hostile_text_in_the_address_is_shown_as_text(client, session):
    load(session)
    response = client.get("/obligations/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)
    response = client.get("/matrix?status=%3Cscript%3E")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


def test_a_jira_link_is_only_made_for_http_addresses(client, session):
    load(session)
    add_hostile_data(session)
    for url in ("/obligations/ALPHA-1.1", "/matrix"):
        assert "javascript:" not in client.get(url).get_data(as_text=True)


def test_every_post_form_carries_a_csrf_token(client, session, tmp_path):
    load(session)
    add_hostile_data(session)
    with transaction(session):
        obligation = session.get(Obligation, "ALPHA-1.1")
        obligation.version = 2  # type: ignore[union-attr] - links now need review
        session.add(obligation)
    for url in ("/obligations/ALPHA-1.1", "/obligations/BETA-9"):
        text = client.get(url).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*>.*?</form>", text, flags=re.DOTALL)
        posts = [form for form in forms if 'method="post"' in form]
        assert len(posts) >= (6 if url.endswith("1.1") else 3)
        for form in posts:
            assert re.search(r'<input name="csrf_token" type="hidden" value="[^"]+">', form), form


@pytest.mark.parametrize(("url", "data"), POST_ROUTES)
def test_a_post_without_csrf_token_is_a_400_and_writes_nothing(client, session, engine, url, data):
    load(session)
    with transaction(session):
        session.add(WorkItem(key="PRIV-1", summary="x", status="To Do", status_category="new"))
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
        link_test(
            session=session,
            obligation_id="ALPHA-1.1",
            test_id="api/a/b",
            actor=cli_actor("qa"),
            before_first_run=True,
        )
    before = snapshot(engine)
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    forged = client.post(url, data={**data, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    "url",
    ["/", "/matrix", "/matrix.csv", "/api/v1/matrix", "/nowhere", "/assets/tracker.css"],
)
def test_responses_carry_security_headers(client, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", ["/", "/matrix", "/obligations/ALPHA-1.1", "/nowhere"])
def test_pages_have_no_inline_script_or_style_and_nothing_from_elsewhere(client, session, url):
    load(session)
    text = client.get(url).get_data(as_text=True)
    assert "<script" not in text
    assert "style=" not in text
    assert "<style" not in text
    assert not re.search(r'(src|href)="(https?:)?//(?!example\.org)', text), "external asset"
    assert "test-secret-key" not in text


def test_csv_export_defuses_formula_cells(client, session):
    load(session)
    add_hostile_data(session)
    text = client.get("/matrix.csv?q=ALPHA-1.1").get_data(as_text=True)
    record = next(csv.DictReader(io.StringIO(text)))
    assert record["title"].startswith("'=HYPERLINK(")
