"""In a 1,280 px window the wide tables (Jira runs, test runs, an obligation's evidence) show
every column without scrolling sideways, and the page itself never scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.browsing import LiveServer, PageWatch, sign_in
from tests.evidence_helpers import case, ingest, link_done_work_item, load_small_catalog, report
from tracker.domain.access import Role
from tracker.models import SyncRun, utcnow

VIEWER = "wide@example.com"
LONG_TEST = "test_erasure_reaches_every_store_including_the_search_index_and_the_nightly_backups"


@pytest.fixture(scope="module", autouse=True)
def product(live_server: LiveServer) -> None:
    """Three runs with long test ids and unknown ids, and Jira runs with long problems."""
    with Session(live_server.engine, expire_on_commit=False) as session:
        load_small_catalog(session)
        link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
        for days_ago, outcome in ((3, "passed"), (2, "failed"), (1, "passed")):
            ingest(
                session,
                report(
                    case(LONG_TEST, obligations="ALPHA-1.1 ALPHA-77.3 BETA-99.1", outcome=outcome),
                    case(LONG_TEST + "_second_store", obligations="ALPHA-1.1", outcome=outcome),
                    suite="privacy-end-to-end-tests",
                    days_ago=days_ago,
                ),
                branch="release/2026.12-hotfix",
                commit="4f2c9e1a7b3d9c0e",
                environment="staging-eu-west-1",
                release="2026.12",
            )
        now = utcnow()
        for index in range(3):
            session.add(
                SyncRun(
                    kind="sync",
                    status="succeeded with problems",
                    full=True,
                    actor="Sync now by wide@example.com (engineer)",
                    started_at=now - timedelta(minutes=index + 1),
                    finished_at=now - timedelta(minutes=index),
                    pages=3,
                    created=41,
                    updated=1200,
                    unchanged=35000,
                    links_added=28,
                    problems=[
                        "PRIV-18 has the label 'obligation-GDPR-99.9', but no obligation "
                        "'GDPR-99.9' is in the catalog: fix the label in Jira."
                    ],
                )
            )
        session.commit()
    live_server.user(Role.VIEWER, VIEWER)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/jira", "Jira"),
        ("/evidence/runs", "Test runs"),
        ("/obligations/ALPHA-1.1/evidence", "Evidence for ALPHA-1.1: Right to erasure"),
    ],
)
def test_a_wide_table_fits_1280_px_with_every_column(
    page: Page, watch: PageWatch, live_server: LiveServer, path: str, heading: str
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, VIEWER, path=path)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    tables = page.locator("table.runs")
    expect(tables).to_have_count(1)
    fit = tables.first.evaluate(
        """table => {
            const wrap = table.closest('.table-wrap');
            const right = wrap.getBoundingClientRect().right;
            const cells = [...table.querySelectorAll('thead th')];
            return {
                table: table.scrollWidth, wrap: wrap.clientWidth,
                hidden: cells.filter(c => c.getBoundingClientRect().right > right + 1)
                             .map(c => c.textContent.trim()),
                page: document.documentElement.scrollWidth,
            };
        }"""
    )
    assert fit["hidden"] == [], f"columns cut off at 1280 px: {fit['hidden']}"
    assert fit["table"] <= fit["wrap"], fit
    assert fit["page"] <= 1280, "the page scrolls sideways"
