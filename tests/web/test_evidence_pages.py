"""The test-evidence pages: runs, one run, a test's and an obligation's history, orphans."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.evidence_helpers import (
    HOSTILE,
    SCRIPT,
    assert_escaped,
    case,
    count_statements,
    ingest,
    load_small_catalog,
    report,
)
from tests.helpers import empty_tables, transaction
from tracker.domain.access import cli_actor
from tracker.models import TestCase, TestRun
from tracker.services.links import link_test


def text_of(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def case_id(session: Session, test_id: str) -> int:
    session.rollback()
    found = session.exec(select(TestCase.id).where(TestCase.test_id == test_id)).one()
    assert found is not None
    return found


def ingest_mixed_run(session: Session) -> int:
    """Ingest one run: a pass, a failure, a skip and a test naming an unknown id."""
    return ingest(
        session,
        report(
            case("test_erasure", "ALPHA-1.1"),
            case("test_recipients", "ALPHA-1.2", "failed", message="AssertionError: no event"),
            case("test_later", outcome="skipped"),
            case("test_typo", "ALPHA-99, BETA-7"),
        ),
        commit="0123456789abcdef0123",
        branch="main",
        release="2026.11",
        environment="staging",
    ).run_id


def test_runs_list_shows_provenance_counts_and_unknown_ids(client, session):
    load_small_catalog(session)
    run_id = ingest_mixed_run(session)
    text = text_of(client, "/evidence/runs")
    assert f'<a href="/evidence/runs/{run_id}">#{run_id}</a>' in text
    assert '<code title="0123456789abcdef0123">0123456789ab</code>' in text
    for value in ("main", "2026.11", "staging", "pytest"):
        assert f"<td>{value}</td>" in text
    cells = re.findall(r'<td class="num">(?:<span class="outcome-fail">)?(\d+)', text)
    assert cells == ["4", "2", "1", "0", "1", "0"]  # tests, passed, failed, errors, skipped, flaky
    assert '<code class="unknown-id">ALPHA-99</code>' in text
    assert '<span class="badge st-failing">1 failing</span>' in text


def test_runs_list_without_runs_says_how_to_send_one(client, session):
    text = text_of(client, "/evidence/runs")
    assert "No test runs yet" in text
    assert "tracker results ingest" in text and "tracker tokens create --name ci" in text


def test_runs_list_is_paginated_newest_first(client, session):
    with transaction(session):
        for index in range(55):
            session.add(TestRun(suite=f"suite-{index:02d}", content_hash=uuid.uuid4().hex))
    first = text_of(client, "/evidence/runs")
    assert first.count('<tr>\n      <th scope="row"><a href="/evidence/runs/') == 50
    assert "suite-54" in first and "suite-04" not in first
    assert "1–50 of 55 runs" in first
    assert 'href="/evidence/runs?page=2" rel="next"' in first
    second = text_of(client, "/evidence/runs?page=2")
    assert "suite-04" in second and "suite-05" not in second
    assert 'href="/evidence/runs" rel="prev"' in second


def test_runs_list_filters_by_branch_release_and_environment(client, session):
    load_small_catalog(session)
    ingest(session, report(case("test_a")), branch="main", release="2026.11")
    ingest(session, report(case("test_b")), branch="feature/x", environment="staging")
    text = text_of(client, "/evidence/runs?branch=feature/x")
    assert "<td>feature/x</td>" in text and "<td>2026.11</td>" not in text
    assert "1–1 of 1 runs" in text
    assert "<td>2026.11</td>" in text_of(client, "/evidence/runs?release=2026.11")
    assert "No runs" in text_of(client, "/evidence/runs?environment=production")


def test_run_page_shows_results_failures_first_with_messages_links_and_ids(client, session):
    load_small_catalog(session)
    run_id = ingest_mixed_run(session)
    text = text_of(client, f"/evidence/runs/{run_id}")
    assert f"<h1>Run #{run_id}: pytest</h1>" in text
    assert "4 tests: 2 passed, 1 failed, 0 errors, 1 skipped, 0 flaky." in text
    assert "<dd>2026.11</dd>" in text and "<dd>staging</dd>" in text
    order = re.findall(r'<a href="/evidence/tests/\d+"><code>pytest/tests.test_privacy/(\w+)', text)
    assert order == ["test_recipients", "test_later", "test_erasure", "test_typo"]
    recipients = case_id(session, "pytest/tests.test_privacy/test_recipients")
    assert f'<a href="/evidence/tests/{recipients}">' in text
    assert "AssertionError: no event" in text
    assert '<a href="/obligations/ALPHA-1.2">ALPHA-1.2</a>' in text
    assert '<code class="unknown-id" title="Not in the catalog">ALPHA-99?</code>' in text
    assert '<ul class="plain"><li><code class="unknown-id">ALPHA-99</code></li></ul>' in text


def test_run_page_shows_flaky_results_and_invalid_ids(client, session):
    load_small_catalog(session)
    flaky = (
        "<testcase classname='c' name='test_retry'>"
        "<flakyFailure message='first try failed'/></testcase>"
    )
    run_id = ingest(session, report(flaky, case("test_bad_id", "gdpr-17(1)"))).run_id
    text = text_of(client, f"/evidence/runs/{run_id}")
    assert (
        '<span class="badge st-suspect" title="Failed first, passed on a rerun">Flaky</span>'
        in (text)
    )
    assert "<li><code>gdpr-17(1)</code></li>" in text


def test_unknown_run_and_test_are_404_pages(client, session):
    assert client.get("/evidence/runs/999").status_code == 404
    assert client.get("/evidence/tests/999").status_code == 404
    assert client.get("/obligations/NOPE-1/evidence").status_code == 404


def test_a_bad_page_number_is_a_400_that_says_what_to_use(client, session):
    response = client.get("/evidence/runs?page=zero")
    assert response.status_code == 400
    assert "page must be a whole number from 1" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "page", ["runs", "run", "test", "obligation", "orphans", "obligation_in_scope"]
)
def test_hostile_test_names_and_messages_are_shown_escaped(client, session, page):
    load_small_catalog(session)
    run_id = ingest(
        session,
        report(
            case(f"test {HOSTILE}", f"ALPHA-1.1, ALPHA-98, {SCRIPT}", "failed", message=HOSTILE),
            suite=f"suite {HOSTILE}",
        ),
        release=HOSTILE,
    ).run_id
    test = case_id(session, f"suite {HOSTILE}/tests.test_privacy/test {HOSTILE}")
    url = {
        "runs": "/evidence/runs",
        "run": f"/evidence/runs/{run_id}",
        "test": f"/evidence/tests/{test}",
        "obligation": "/obligations/ALPHA-1.1/evidence",
        "orphans": "/evidence/orphans",
        "obligation_in_scope": "/obligations/ALPHA-1.1/evidence?release=" + HOSTILE,
    }[page]
    text = text_of(client, url)
    assert_escaped(text)
    assert "style=" not in text


def test_obligation_page_links_to_its_evidence_history(client, session):
    load_small_catalog(session)
    text = text_of(client, "/obligations/ALPHA-1.1")
    assert '<a href="/obligations/ALPHA-1.1/evidence">Evidence history</a>' in text


def test_obligation_evidence_shows_history_and_a_chart_with_a_text_alternative(client, session):
    load_small_catalog(session)
    first = ingest(session, report(case("test_erasure", "ALPHA-1.1")), commit="c1").run_id
    ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1", "failed", message="row still there")),
        commit="c2",
    )
    last = ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1"), case("test_erasure_audit", "ALPHA-1.1")),
        commit="c3",
    ).run_id
    ingest(session, report(case("test_unrelated", "BETA-7"), suite="other"), commit="c4")
    text = text_of(client, "/obligations/ALPHA-1.1/evidence")
    assert "<h1>Evidence for ALPHA-1.1: Right to erasure</h1>" in text
    assert "Evidence scope:</strong> newest run of each suite on branch main." in text
    assert '<span class="badge vf-passing">Tests: Passing</span>' in text
    svg = re.search(r"<svg .*?</svg>", text, flags=re.DOTALL)
    assert svg, "no chart"
    chart = svg.group(0)
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in chart
    assert '<title id="chart-title">' in chart
    assert (
        '<desc id="chart-desc">3 runs, oldest on the left: 2 with every result passed, '
        f"1 with failures. Latest: run #{last} on "
    ) in chart
    assert "2 passed and 0 failed.</desc>" in chart
    assert chart.count('<rect class="chart-fail"') == 1
    assert chart.count('<rect class="chart-pass"') == 2
    assert f"<title>Run #{first} on " in chart
    rows = re.findall(r'<th scope="row"><a href="/evidence/runs/(\d+)">', text)
    assert [int(row) for row in rows] == [last, last - 1, first]  # newest first, not run c4
    assert "row still there" in text
    assert "<code>pytest/tests.test_privacy/test_erasure_audit</code>" in text


def test_obligation_evidence_honours_the_scope(client, session):
    load_small_catalog(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1")), release="2026.11")
    ingest(session, report(case("test_erasure", "ALPHA-1.1", "failed")), release="2026.12")
    text = text_of(client, "/obligations/ALPHA-1.1/evidence?release=2026.11")
    assert "newest run of each suite on release 2026.11" in text
    assert '<span class="badge vf-passing">Tests: Passing</span>' in text
    assert "<td>2026.12</td>" not in text
    failing = text_of(client, "/obligations/ALPHA-1.1/evidence?release=2026.12")
    assert '<span class="badge vf-failing">Tests: Failing</span>' in failing


def test_obligation_without_tests_says_how_to_link_one(client, session):
    load_small_catalog(session)
    text = text_of(client, "/obligations/ALPHA-2/evidence")
    assert '@pytest.mark.obligation("ALPHA-2")' in text
    assert "<svg" not in text


def test_test_page_shows_runs_outcomes_and_linked_obligations(client, session):
    load_small_catalog(session)
    first = ingest(session, report(case("test_erasure", "ALPHA-1.1, ALPHA-97")), commit="aaa")
    second = ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1, ALPHA-97", "error", message="db down")),
        commit="bbb",
        branch="feature/x",
    )
    test = case_id(session, "pytest/tests.test_privacy/test_erasure")
    text = text_of(client, f"/evidence/tests/{test}")
    assert "<code>pytest/tests.test_privacy/test_erasure</code></h1>" in text
    assert '<a href="/obligations/ALPHA-1.1/evidence">ALPHA-1.1</a> Right to erasure' in text
    assert '<code class="unknown-id">ALPHA-97</code>' in text
    runs = re.findall(r'<th scope="row"><a href="/evidence/runs/(\d+)">', text)
    assert [int(run) for run in runs] == [second.run_id, first.run_id]
    assert '<span class="outcome-fail">Error</span>' in text
    assert "db down" in text and "<td>feature/x</td>" in text
    assert '<desc id="chart-desc">2 runs, oldest on the left:' in text


def test_orphans_lists_unknown_claims_and_obligations_whose_tests_never_ran(client, session):
    load_small_catalog(session)
    run_id = ingest(
        session,
        report(case("test_typo", "ALPHA-99"), case("test_delete", "BETA-7")),
    ).run_id
    with transaction(session):
        for obligation_id, test_id in (
            ("BETA-9", "e2e/gpc/test_header"),
            ("BETA-9", "e2e/gpc/test_cookie"),
            ("BETA-7", "e2e/delete/test_never"),  # BETA-7 has another test that ran
        ):
            link_test(
                session=session,
                obligation_id=obligation_id,
                test_id=test_id,
                actor=cli_actor("qa"),
                before_first_run=True,
            )
    text = text_of(client, "/evidence/orphans")
    typo = case_id(session, "pytest/tests.test_privacy/test_typo")
    assert (
        '<tr><th scope="row"><code class="unknown-id">ALPHA-99</code></th>'
        f'<td><a href="/evidence/tests/{typo}"><code>pytest/tests.test_privacy/test_typo</code>'
        f'</a></td><td><a href="/evidence/runs/{run_id}">Run #{run_id}</a>'
    ) in text
    never = text.split('id="never-run"', 1)[1]
    assert '<a href="/obligations/BETA-9">BETA-9</a>' in never
    assert (
        "<code>e2e/gpc/test_cookie</code>" in never and "<code>e2e/gpc/test_header</code>" in never
    )
    assert "BETA-7" not in never
    assert "1 obligation with linked tests, none of which has a result in any run." in never


def test_orphans_report_when_all_is_well(client, session):
    load_small_catalog(session)
    ingest(session, report(case("test_delete", "BETA-7")))
    text = text_of(client, "/evidence/orphans")
    assert "None: every obligation id the tests name is in the catalog." in text
    assert "None: every obligation with linked tests has at least one result." in text


def test_navigation_has_a_test_evidence_item(client):
    text = text_of(client, "/evidence/runs")
    assert '<a href="/evidence/runs" aria-current="page">Test evidence</a>' in text


def _grow(session: Session, runs: int, tests: int) -> None:
    """Ingest runs of tests that all verify ALPHA-1.1, some failing, one with an unknown id."""
    for run in range(runs):
        cases = [
            case(
                f"test_{index}",
                "ALPHA-1.1, ALPHA-99" if index == 0 else "ALPHA-1.1",
                "failed" if (index + run) % 3 == 0 else "passed",
            )
            for index in range(tests)
        ]
        ingest(session, report(*cases), commit=f"c{run}")
    with transaction(session):
        for index in range(tests):
            link_test(
                session=session,
                before_first_run=True,
                obligation_id="BETA-9",
                test_id=f"never/x/t{index}",
                actor=cli_actor("qa"),
            )


@pytest.mark.parametrize(
    "url",
    [
        "/evidence/runs",
        "/evidence/runs/1",
        "/evidence/tests/1",
        "/obligations/ALPHA-1.1/evidence",
        "/evidence/orphans",
        "/matrix?release=2026.11&branch=main",
    ],
)
def test_evidence_page_query_count_does_not_grow_with_runs_and_results(app, engine, session, url):
    counts = []
    for runs, tests in ((2, 3), (12, 40)):
        empty_tables(engine)  # start from empty tables for each size
        load_small_catalog(session)
        _grow(session, runs, tests)
        session.rollback()
        first_run = session.exec(select(TestRun.id).order_by(TestRun.id)).first()
        first_case = session.exec(select(TestCase.id).order_by(TestCase.id)).first()
        target = url.replace("runs/1", f"runs/{first_run}").replace(
            "tests/1", f"tests/{first_case}"
        )
        client = signed_in_client(app)
        client.get(target)  # warm-up: connection pool, first-request setup
        with count_statements(engine) as statements:
            response = client.get(target)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{url}: {counts[0]} queries when small, {counts[1]} when big"
    assert counts[0] <= 14
