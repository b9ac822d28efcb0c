"""The matrix page: rows, filters, sorting, exports, and a query count independent of size."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.helpers import SMALL_CATALOG, empty_tables
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.models import (
    Instrument,
    Obligation,
    TestCase,
    TestLink,
    TestResult,
    TestRun,
    WorkItem,
    WorkItemLink,
    utcnow,
)
from tracker.services.catalog import load_catalog
from tracker.services.links import link_test, link_work_item


def load_small_catalog(session: Session) -> None:
    with session.begin():
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("test"))


def add_work_item(session: Session, key: str, **fields: object) -> None:
    values: dict[str, object] = {
        "summary": f"Epic {key}",
        "status": "In Progress",
        "status_category": "indeterminate",
    }
    values.update(fields)
    with session.begin():
        session.add(WorkItem(key=key, **values))


def add_run(session: Session, outcomes: dict[str, str], days_ago: int = 0) -> None:
    """Store one run of the default branch with these outcomes per test id."""
    with session.begin():
        run = TestRun(
            suite="suite",
            branch="main",
            content_hash=uuid.uuid4().hex,
            started_at=utcnow() - timedelta(days=days_ago),
        )
        session.add(run)
        session.flush()
        for test_id, outcome in outcomes.items():
            case = session.exec(select(TestCase).where(TestCase.test_id == test_id)).one()
            session.add(TestResult(run_id=run.id, test_case_id=case.id, outcome=outcome))


def link(session: Session, obligation_id: str, key: str | None = None, test: str | None = None):  # type: ignore[no-untyped-def]
    with session.begin():
        if key:
            link_work_item(
                session=session, obligation_id=obligation_id, key=key, actor=cli_actor("test")
            )
        if test:
            link_test(
                session=session,
                obligation_id=obligation_id,
                test_id=test,
                actor=cli_actor("test"),
                before_first_run=True,
            )


def make_obligations(session: Session, count: int, linked: bool = True) -> None:
    """Insert count assessable obligations, each with a work item and a test with a result."""
    now = utcnow()
    with session.begin():
        session.add(
            Instrument(
                id="BULK",
                title="Bulk test instrument",
                short_name="BULK",
                jurisdiction="EU",
                official_url="https://example.org/bulk",
                source_file="bulk.yaml",
            )
        )
        session.flush()
        run = TestRun(suite="bulk", branch="main", content_hash=f"bulk-{count}", started_at=now)
        session.add(run)
        for index in range(count):
            obligation_id = f"BULK-{index + 1}"
            session.add(
                Obligation(
                    id=obligation_id,
                    instrument_id="BULK",
                    citation=f"Art. {index + 1}",
                    title=f"Duty number {index + 1}",
                    summary="A duty of the bulk instrument, long enough to be a summary.",
                    official_url=f"https://example.org/bulk#{index + 1}",
                    severity=("critical", "high", "medium", "low")[index % 4],
                    fingerprint="f" * 64,
                    sort_key=f"BULK-{index + 1:08d}",
                    source_file="bulk.yaml",
                    tags=["bulk", f"group-{index % 3}"],
                )
            )
        session.flush()
        if not linked:
            return
        for index in range(count):
            obligation_id = f"BULK-{index + 1}"
            key = f"BULK-{index + 1}"
            category = ("new", "indeterminate", "done")[index % 3]
            session.add(
                WorkItem(
                    key=key,
                    summary=f"Epic for {obligation_id}",
                    status=category,
                    status_category=category,
                    url=f"https://jira.example.org/browse/{key}",
                )
            )
            case = TestCase(test_id=f"bulk/tests/test_{index}", suite="bulk", name=f"test_{index}")
            session.add(case)
            session.flush()
            session.add(
                WorkItemLink(
                    obligation_id=obligation_id,
                    work_item_key=key,
                    reviewed_fingerprint="f" * 64,
                    created_by="test",
                )
            )
            session.add(
                TestLink(
                    obligation_id=obligation_id,
                    test_case_id=case.id,  # type: ignore[arg-type]
                    reviewed_fingerprint="f" * 64,
                    created_by="test",
                )
            )
            session.add(
                TestResult(
                    run_id=run.id,  # type: ignore[arg-type]
                    test_case_id=case.id,  # type: ignore[arg-type]
                    outcome=("passed", "failed", "skipped")[index % 3],
                )
            )


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def rows_of(page: str) -> list[str]:
    """Return the obligation ids of the matrix rows in page order."""
    ids = []
    for chunk in page.split('<tr><th scope="row"><a href="/obligations/')[1:]:
        ids.append(chunk.split('"', 1)[0])
    return ids


def test_matrix_lists_every_assessable_obligation_with_its_status(client, session):
    load_small_catalog(session)
    page = client.get("/matrix").get_data(as_text=True)
    assert rows_of(page) == ["ALPHA-1.1", "ALPHA-1.2", "ALPHA-2", "BETA-7", "BETA-9"]
    assert "ALPHA-1<" not in page.replace("ALPHA-1.", "")  # the grouping node is not a row
    assert '<span class="badge st-gap">Gap</span>' in page
    assert "No Jira work item and no test is linked." in page
    assert "<details>" in page


def test_matrix_without_catalog_says_how_to_load_it(client):
    page = client.get("/matrix").get_data(as_text=True)
    assert "tracker catalog load" in page


def test_matrix_links_work_item_keys_to_jira_and_marks_missing_ones(client, session):
    load_small_catalog(session)
    add_work_item(session, "PRIV-1", url="https://jira.example.org/browse/PRIV-1", status="Done")
    add_work_item(session, "PRIV-2", missing=True)
    link(session, "ALPHA-1.1", key="PRIV-1")
    link(session, "ALPHA-1.1", key="PRIV-2")
    page = client.get("/matrix").get_data(as_text=True)
    assert 'href="https://jira.example.org/browse/PRIV-1"' in page
    assert '<a href="/work-items/PRIV-1" title="Epic PRIV-1">PRIV-1</a>' in page
    assert 'title="Open in Jira">↗</a> <span class="muted">Done</span>' in page
    assert '<span class="missing">missing in Jira</span>' in page


def test_matrix_counts_linked_tests_by_latest_result(client, session):
    load_small_catalog(session)
    link(session, "BETA-9", test="suite/a/pass")
    link(session, "BETA-9", test="suite/a/fail")
    link(session, "BETA-9", test="suite/a/never")
    add_run(session, {"suite/a/pass": "passed", "suite/a/fail": "failed"})
    page = client.get("/matrix?q=BETA-9").get_data(as_text=True)
    assert "1 pass · 1 fail · 1 not run" in page
    assert '<span class="badge st-failing">Failing</span>' in page


def test_matrix_shows_stale_tests(client, session):
    load_small_catalog(session)
    link(session, "BETA-9", test="suite/a/old")  # BETA-9 results count for 7 days
    add_run(session, {"suite/a/old": "passed"}, days_ago=10)
    page = client.get("/matrix?q=BETA-9").get_data(as_text=True)
    assert "1 stale" in page


def test_matrix_marks_links_that_need_review(client, session, engine):
    load_small_catalog(session)
    add_work_item(session, "PRIV-1")
    link(session, "ALPHA-2", key="PRIV-1")
    with session.begin():
        obligation = session.get(Obligation, "ALPHA-2")
        obligation.version = 2  # type: ignore[union-attr]
        session.add(obligation)
    page = client.get("/matrix?q=ALPHA-2").get_data(as_text=True)
    assert '<span class="badge st-suspect">Needs review</span>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("instrument=BETA", ["BETA-7", "BETA-9"]),
        ("tag=deletion", ["ALPHA-1.1", "ALPHA-1.2", "BETA-7"]),
        ("status=PLANNED", ["ALPHA-2"]),
        ("status=planned", ["ALPHA-2"]),
        ("q=erasure", ["ALPHA-1.1", "ALPHA-1.2"]),
        ("q=PRIV-9", ["ALPHA-2"]),
        ("instrument=ALPHA&tag=deletion&q=recipients", ["ALPHA-1.2"]),
        ("instrument=NOPE", []),
    ],
)
def test_matrix_filters_by_instrument_status_tag_and_text(client, session, query, expected):
    load_small_catalog(session)
    add_work_item(session, "PRIV-9", status="To Do", status_category="new")
    link(session, "ALPHA-2", key="PRIV-9")
    page = client.get(f"/matrix?{query}").get_data(as_text=True)
    assert rows_of(page) == expected


def test_matrix_filter_form_offers_known_instruments_statuses_and_tags(client, session):
    load_small_catalog(session)
    page = client.get("/matrix?instrument=BETA&status=GAP").get_data(as_text=True)
    assert '<label for="filter-instrument">Instrument</label>' in page
    assert '<option value="BETA" selected>BETA</option>' in page
    assert '<option value="GAP" selected>Gap</option>' in page
    assert '<option value="NOT_APPLICABLE">Not applicable</option>' in page
    assert '<option value="opt-out">opt-out</option>' in page
    assert "Clear filters" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=id", ["ALPHA-1.1", "ALPHA-1.2", "ALPHA-2", "BETA-7", "BETA-9"]),
        ("sort=id&order=desc", ["BETA-9", "BETA-7", "ALPHA-2", "ALPHA-1.2", "ALPHA-1.1"]),
        ("sort=title", ["ALPHA-2", "BETA-9", "BETA-7", "ALPHA-1.1", "ALPHA-1.2"]),
        ("sort=severity", ["ALPHA-2", "ALPHA-1.1", "BETA-7", "BETA-9", "ALPHA-1.2"]),
        ("sort=status", ["BETA-7", "ALPHA-1.1", "ALPHA-1.2", "ALPHA-2", "BETA-9"]),
        ("sort=instrument&order=desc", ["BETA-9", "BETA-7", "ALPHA-2", "ALPHA-1.2", "ALPHA-1.1"]),
    ],
)
def test_matrix_sorts_by_column_both_ways(client, session, query, expected):
    load_small_catalog(session)
    link(session, "BETA-7", test="suite/x/failing")  # FAILING sorts first by status
    add_run(session, {"suite/x/failing": "failed"})
    page = client.get(f"/matrix?{query}").get_data(as_text=True)
    assert rows_of(page) == expected


def test_matrix_column_headers_toggle_the_sort_order(client, session):
    load_small_catalog(session)
    page = client.get("/matrix?sort=title").get_data(as_text=True)
    assert '<th scope="col" aria-sort="ascending"><a href="/matrix?sort=title&amp;order=desc">' in (
        page
    )
    assert '<th scope="col" aria-sort="none"><a href="/matrix?sort=severity">' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=DONE", "Unknown status &#39;DONE&#39;. Use one of: FAILING, SUSPECT"),
        ("sort=colour", "Cannot sort by &#39;colour&#39;"),
        ("order=sideways", "order must be &#39;asc&#39; or &#39;desc&#39;"),
    ],
)
def test_matrix_bad_filter_value_is_a_400_that_says_what_to_use(client, session, query, message):
    load_small_catalog(session)
    response = client.get(f"/matrix?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_matrix_export_csv_has_exactly_the_filtered_rows(client, session):
    load_small_catalog(session)
    response = client.get("/matrix.csv?tag=deletion&sort=id&order=desc")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="traceability-matrix-')
    assert disposition.endswith('.csv"')
    records = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [record["id"] for record in records] == ["BETA-7", "ALPHA-1.2", "ALPHA-1.1"]
    assert records[0]["status"] == "GAP"


def test_matrix_export_json_has_exactly_the_filtered_rows(client, session):
    load_small_catalog(session)
    response = client.get("/matrix.json?instrument=BETA&sort=title")
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.json"')
    body = json.loads(response.get_data(as_text=True))
    assert set(body) == {"generated_at", "rows", "evidence_scope", "notes"}
    assert [row["id"] for row in body["rows"]] == ["BETA-9", "BETA-7"]
    assert body["rows"][1]["citation"] == "§ 7"


def test_matrix_export_markdown_has_exactly_the_filtered_rows(client, session):
    load_small_catalog(session)
    response = client.get("/matrix.md?status=GAP&instrument=ALPHA")
    assert response.status_code == 200
    assert response.content_type == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.md"')
    text = response.get_data(as_text=True)
    table_rows = [line for line in text.splitlines() if line.startswith("| ALPHA")]
    assert [line.split(" | ")[0] for line in table_rows] == [
        "| ALPHA-1.1",
        "| ALPHA-1.2",
        "| ALPHA-2",
    ]
    assert "3 obligations." in text


def test_matrix_export_links_carry_the_current_query(client, session):
    load_small_catalog(session)
    page = client.get("/matrix?tag=deletion&sort=title&order=desc").get_data(as_text=True)
    for path in ("/matrix.csv", "/matrix.json", "/matrix.md"):
        assert f'href="{path}?tag=deletion&amp;sort=title&amp;order=desc"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/matrix",
        "/matrix?status=FAILING&sort=status",
        "/",
        "/matrix.csv",
        "/api/v1/matrix",
        "/api/v1/obligations?limit=1000",
    ],
)
def test_matrix_query_count_does_not_depend_on_the_number_of_rows(app, engine, session, url):
    counts = []
    for size in (5, 50):
        empty_tables(engine)  # start from empty tables for each size
        make_obligations(session, size)
        client = signed_in_client(app)
        client.get(url)  # warm-up: connection pool, first-request setup
        with count_statements(engine) as statements:
            response = client.get(url)
        assert response.status_code == 200
        if url.startswith("/matrix"):
            assert response.get_data(as_text=True).count("BULK-") >= size
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{url}: {counts[0]} queries for 5 rows, {counts[1]} for 50"
    # 8 for the page, 1 for the signed-in session and its account, 2 for the dashboard's
    # release selector (fix versions and the tracker's own releases).
    assert counts[0] <= (11 if url == "/" else 9)


def test_matrix_renders_3000_obligations_in_one_page(client, session):
    # How fast is measured in bench/matrix.py; this proves all rows arrive in one page.
    make_obligations(session, 3000)
    response = client.get("/matrix")
    assert response.status_code == 200
    assert len(rows_of(response.get_data(as_text=True))) == 3000
