"""In a real browser, a viewer reads: dashboard, matrix and its filters, an obligation, its
evidence, and downloads the matrix as CSV, JSON and Markdown."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Download, Page, expect
from sqlmodel import Session

from tests.browser.browsing import LiveServer, PageWatch, sign_in
from tests.evidence_helpers import case, ingest, link_done_work_item, load_small_catalog, report
from tracker.domain.access import Role

VIEWER = "vic@example.com"
ERASURE_TEST = "pytest/tests.test_privacy/test_erasure_reaches_every_store"


@pytest.fixture(scope="module", autouse=True)
def product(live_server: LiveServer) -> None:
    """ALPHA-1.1 done and tested, ALPHA-1.2 failing, BETA-7 tested, BETA-9 a gap."""
    with Session(live_server.engine, expire_on_commit=False) as session:
        load_small_catalog(session)
        link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
        ingest(
            session,
            report(
                case("test_erasure_reaches_every_store", obligations="ALPHA-1.1"),
                case(
                    "test_recipients_get_a_deletion_event",
                    obligations="ALPHA-1.2",
                    outcome="failed",
                    message="no deletion event reached the CRM",
                ),
                case("test_delete_request_removes_collected_data", obligations="BETA-7"),
            ),
            branch="main",
            commit="4f2c9e1a7b3d",
            environment="ci",
        )
    live_server.user(Role.VIEWER, VIEWER)


def test_a_viewer_goes_from_the_dashboard_to_the_matrix_an_obligation_and_its_evidence(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    sign_in(page, live_server.url, VIEWER)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(VIEWER)
    expect(page.get_by_role("heading", name="All instruments: 5 obligations")).to_be_visible()
    # ALPHA's failing count (and its bar segment, the same link) leads to those in the matrix.
    counts = page.get_by_role("table", name="By instrument")
    counts.get_by_role("link", name="ALPHA, Failing: 1 of 3 obligations").first.click()
    expect(page).to_have_url(re.compile(r"/matrix\?.*instrument=ALPHA"))
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ALPHA-1.2")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Matrix").click()
    expect(page.get_by_role("heading", name="Traceability matrix")).to_be_visible()
    page.get_by_role("link", name="ALPHA-1.1", exact=True).click()
    expect(page.get_by_role("heading", name="ALPHA-1.1: Right to erasure")).to_be_visible()
    expect(page.get_by_role("region", name="Status")).to_contain_text("Verified")
    main = page.get_by_role("main")
    expect(main.get_by_role("button")).to_have_count(0)  # a viewer changes nothing
    work = page.get_by_role("region", name="Links").get_by_role("row", name=re.compile("^PRIV-1"))
    expect(work).to_contain_text("Epic PRIV-1")

    main.get_by_role("link", name="Evidence history").click()
    expect(page.get_by_role("heading", name=re.compile("^Evidence for ALPHA-1.1"))).to_be_visible()
    expect(page.get_by_role("region", name="Linked tests")).to_contain_text(ERASURE_TEST)
    history = page.get_by_role("region", name=re.compile("^History"))
    expect(history.get_by_role("row", name=re.compile("4f2c9e1"))).to_contain_text("Passed")
    history.get_by_role("link", name=ERASURE_TEST).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ERASURE_TEST)
    page.go_back()
    history.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"Run #\d+"))).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("4f2c9e1")


def test_a_viewer_filters_the_matrix_and_downloads_what_it_shows(
    page: Page, watch: PageWatch, live_server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, live_server.url, VIEWER, path="/matrix")
    filters = page.get_by_role("search", name="Filter the matrix")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(5)

    filters.get_by_label("Tag").select_option("deletion")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"tag=deletion"))
    expect(rows).to_have_count(3)
    filters.get_by_label("Instrument").select_option("BETA")
    filters.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("BETA-7")
    expect(page.get_by_text("1 of 5 obligations shown.")).to_be_visible()

    exports = page.get_by_text("Download this view:")
    with page.expect_download() as csv_download:
        exports.get_by_role("link", name="CSV").click()
    table = list(csv.DictReader(io.StringIO(_saved(csv_download.value, tmp_path))))
    assert [(row["id"], row["tests_total"], row["tests_passed"]) for row in table] == [
        ("BETA-7", "1", "1")
    ], table

    with page.expect_download() as json_download:
        exports.get_by_role("link", name="JSON").click()
    document = json.loads(_saved(json_download.value, tmp_path))
    assert [(row["id"], row["status"]) for row in document["rows"]] == [
        ("BETA-7", table[0]["status"])
    ]
    assert document["generated_at"].endswith("Z")
    assert datetime.fromisoformat(document["generated_at"]).utcoffset() is not None

    with page.expect_download() as markdown_download:
        exports.get_by_role("link", name="Markdown").click()
    markdown = _saved(markdown_download.value, tmp_path)
    table_lines = [line for line in markdown.splitlines() if line.startswith("|")]
    assert any("BETA-7" in line for line in table_lines), markdown
    assert not any("ALPHA-1.1" in line for line in table_lines), markdown

    # Text search, then the status filter with nothing left to show, then clearing it all.
    page.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(5)
    filters.get_by_label("Text").fill("recipients")
    filters.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ALPHA-1.2")
    filters.get_by_label("Status").select_option(label="Gap")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No obligation matches these filters.")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Clear the filters").click()
    expect(rows).to_have_count(5)


def _saved(download: Download, folder: Path) -> str:
    """Save a finished download and return its text."""
    assert download.failure() is None
    target = folder / download.suggested_filename
    download.save_as(target)
    return target.read_text(encoding="utf-8")
