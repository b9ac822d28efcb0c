"""Choosing the evidence scope (release, branch, environment) on the matrix, exports and API."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.evidence_helpers import (
    case,
    ingest,
    link_done_work_item,
    load_small_catalog,
    report,
)
from tests.helpers import transaction
from tracker.models import JiraVersion


@pytest.fixture
def releases(session):  # type: ignore[no-untyped-def]
    """ALPHA-1.1's test passed for release 2026.11 and failed for 2026.12; its work is done."""
    load_small_catalog(session)
    link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
    ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1")),
        release="2026.11",
        branch="release/2026.11",
        commit="aaa111",
        environment="staging",
    )
    ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1", "failed", message="row still there")),
        release="2026.12",
        branch="release/2026.12",
        commit="bbb222",
        environment="production",
    )
    return session


def row_of(page: str, obligation_id: str) -> str:
    match = re.search(
        rf'<tr><th scope="row"><a href="/obligations/{re.escape(obligation_id)}">.*?</tr>',
        page,
        flags=re.DOTALL,
    )
    assert match, f"no row for {obligation_id}"
    return match.group(0)


def page_of(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_the_same_obligation_is_verified_in_one_release_and_failing_in_another(client, releases):
    verified = row_of(page_of(client, "/matrix?release=2026.11"), "ALPHA-1.1")
    assert '<span class="badge st-verified">Verified</span>' in verified
    assert '<span class="badge vf-passing">Passing</span>' in verified
    assert "at commit aaa111" in verified
    failing = row_of(page_of(client, "/matrix?release=2026.12"), "ALPHA-1.1")
    assert '<span class="badge st-failing">Failing</span>' in failing
    assert '<span class="badge vf-failing">Failing</span>' in failing
    assert "failed in run #" in failing and "at commit bbb222" in failing


def test_the_page_says_which_evidence_scope_is_shown(client, releases):
    page = page_of(client, "/matrix?release=2026.11&environment=staging")
    assert (
        '<p class="scope-line" id="evidence-scope"><strong>Evidence scope:</strong> '
        "newest run of each suite on release 2026.11, environment staging."
    ) in page
    assert "newest run of each suite on branch main." in page_of(client, "/matrix")


def test_branch_and_environment_choose_the_evidence_too(client, releases):
    by_branch = row_of(page_of(client, "/matrix?branch=release/2026.11"), "ALPHA-1.1")
    assert '<span class="badge st-verified">Verified</span>' in by_branch
    by_environment = row_of(
        page_of(client, "/matrix?branch=release/2026.12&environment=production"), "ALPHA-1.1"
    )
    assert '<span class="badge st-failing">Failing</span>' in by_environment
    elsewhere = row_of(
        page_of(client, "/matrix?branch=release/2026.12&environment=staging"), "ALPHA-1.1"
    )
    assert '<span class="badge vf-not-run">Not run</span>' in elsewhere


def test_a_linked_test_without_a_result_in_scope_shows_not_run(client, releases):
    # The default scope is the default branch, where these tests never ran.
    row = row_of(page_of(client, "/matrix"), "ALPHA-1.1")
    assert '<span class="badge vf-not-run">Not run</span>' in row
    assert '<span class="badge st-implemented">Implemented</span>' in row
    assert "0 pass · 0 fail · 1 not run" in row
    assert "Not run: pytest/tests.test_privacy/test_erasure has no result." in row


def test_old_passing_evidence_shows_stale_with_its_explanation(client, session):
    load_small_catalog(session)
    link_done_work_item(session, "BETA-9", "PRIV-9")  # BETA-9 results count for 7 days
    ingest(session, report(case("test_gpc", "BETA-9"), days_ago=10), branch="main", commit="old1")
    row = row_of(page_of(client, "/matrix"), "BETA-9")
    assert '<span class="badge vf-stale">Stale</span>' in row
    assert '<span class="badge st-implemented">Implemented</span>' in row
    assert "1 stale" in row
    assert "last passed 10 days ago in run #" in row
    assert "older than the 7-day freshness window" in row
    assert "at commit old1" in row


def test_an_unknown_release_is_fine_and_has_no_evidence(client, releases):
    row = row_of(page_of(client, "/matrix?release=1999.01"), "ALPHA-1.1")
    assert '<span class="badge vf-not-run">Not run</span>' in row
    body = json.loads(client.get("/api/v1/matrix?release=1999.01").get_data(as_text=True))
    alpha = next(item for item in body["rows"] if item["id"] == "ALPHA-1.1")
    assert alpha["verification"] == "not run"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("release=" + "r" * 201, "release is too long: use at most 200 characters."),
        ("branch=" + "b" * 201, "branch is too long"),
        ("environment=" + "e" * 201, "environment is too long"),
        ("release=2026%0A11", "release must not contain control characters."),
    ],
)
def test_overly_long_scope_values_are_a_400_everywhere(client, releases, query, message):
    for url in ("/matrix", "/matrix.csv", "/matrix.json", "/matrix.md", "/api/v1/matrix"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)
    api = json.loads(client.get(f"/api/v1/obligations?{query}").get_data(as_text=True))
    assert api["error"]["status"] == 400


def test_exports_honour_the_scope(client, releases):
    records = list(
        csv.DictReader(io.StringIO(page_of(client, "/matrix.csv?release=2026.12&q=ALPHA-1.1")))
    )
    assert [(record["id"], record["status"], record["verification"]) for record in records] == [
        ("ALPHA-1.1", "FAILING", "failing")
    ]
    exported = json.loads(page_of(client, "/matrix.json?release=2026.11&q=ALPHA-1.1"))
    assert [(row["id"], row["status"]) for row in exported["rows"]] == [("ALPHA-1.1", "VERIFIED")]
    markdown = page_of(client, "/matrix.md?release=2026.12")
    assert "Test evidence: newest run of each suite on release 2026.12." in markdown
    assert "| ALPHA-1.1 | Art. 1(1) | Right to erasure | FAILING |" in markdown


def test_the_api_honours_the_scope(client, releases):
    def status(url: str) -> str:
        body = json.loads(page_of(client, url))
        rows = body.get("rows") or body.get("items")
        return next(row["status"] for row in rows if row["id"] == "ALPHA-1.1")

    assert status("/api/v1/matrix?release=2026.11") == "VERIFIED"
    assert status("/api/v1/matrix?release=2026.12") == "FAILING"
    assert status("/api/v1/obligations?release=2026.11") == "VERIFIED"
    assert status("/api/v1/obligations?release=2026.12&status=FAILING") == "FAILING"
    detail = json.loads(page_of(client, "/api/v1/obligations/ALPHA-1.1?release=2026.11"))
    assert detail["status"]["verification"] == "passing"


def test_the_form_offers_known_releases_branches_and_environments(client, releases):
    with transaction(releases):
        releases.add(JiraVersion(id="10001", project_key="PRIV", name="2027.01"))
    page = page_of(client, "/matrix?release=2026.11&environment=staging")
    assert '<label for="scope-release">Release</label>' in page
    assert '<option value="2026.11" selected>2026.11</option>' in page
    assert '<option value="2026.12">2026.12</option>' in page
    assert '<option value="2027.01">2027.01</option>' in page  # a Jira fix version, no runs yet
    assert '<datalist id="known-branches"><option value="release/2026.11"></option>' in page
    assert '<option value="production"></option>' in page
    assert 'name="environment" value="staging"' in page
    assert 'placeholder="main (default)"' in page


def test_links_on_the_page_keep_the_scope(client, releases):
    page = page_of(client, "/matrix?release=2026.11&sort=title")
    for path in ("/matrix.csv", "/matrix.json", "/matrix.md"):
        assert f'href="{path}?sort=title&amp;release=2026.11"' in page
    assert 'href="/matrix?sort=title&amp;order=desc&amp;release=2026.11"' in page
