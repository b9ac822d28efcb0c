"""A release or branch that no test run reported says so: matrix, dashboard, exports and API."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.evidence_helpers import case, ingest, link_done_work_item, load_small_catalog, report
from tests.helpers import transaction
from tracker.models import JiraVersion

UNKNOWN = (
    "There is no release 1999.01: no Jira fix version, tracker release or test run has that "
    "name. No test run reported for release 1999.01: verification shows not run."
)
PLANNED = "No test run reported for release 2027.01: verification shows not run."
BRANCH = "No test run reported for branch feature/x: verification shows not run."


@pytest.fixture
def scoped(session: Session) -> Session:
    """ALPHA-1.1 has a test that passed for release 2026.11; Jira plans a release 2027.01."""
    load_small_catalog(session)
    link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
    ingest(
        session,
        report(case("test_erasure", "ALPHA-1.1")),
        release="2026.11",
        branch="main",
        commit="aaa111",
    )
    with transaction(session):
        session.add(JiraVersion(id="10001", project_key="PRIV", name="2027.01"))
    return session


def page_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def notes_of(page: str) -> list[str]:
    block = re.search(
        r'<div class="alert alert-info" role="note" id="evidence-notes">(.*?)</div>', page
    )
    return re.findall(r"<p>(.*?)</p>", block.group(1)) if block else []


@pytest.mark.parametrize(
    ("query", "note"),
    [("release=1999.01", UNKNOWN), ("release=2027.01", PLANNED), ("branch=feature/x", BRANCH)],
)
def test_the_matrix_and_the_dashboard_say_that_no_run_is_in_the_scope(
    client: FlaskClient, scoped: Session, query: str, note: str
) -> None:
    matrix = page_of(client, f"/matrix?{query}")
    assert notes_of(matrix) == [note]
    row = re.search(r'<tr><th scope="row"><a href="/obligations/ALPHA-1.1">.*?</tr>', matrix, re.S)
    assert row is not None and note in row.group(0)  # the row's "why" says it too
    assert notes_of(page_of(client, f"/?{query}")) == [note]


def test_a_scope_with_runs_has_no_note(client: FlaskClient, scoped: Session) -> None:
    assert notes_of(page_of(client, "/matrix?release=2026.11")) == []
    assert notes_of(page_of(client, "/matrix")) == []  # the run is on main, the default
    assert notes_of(page_of(client, "/")) == []


def test_exports_and_the_api_say_it_too(client: FlaskClient, scoped: Session) -> None:
    exported = client.get("/matrix.json?release=1999.01")
    body = json.loads(exported.get_data(as_text=True))
    assert body["notes"] == [UNKNOWN]
    assert body["evidence_scope"] == "newest run of each suite on release 1999.01"
    row = next(item for item in body["rows"] if item["id"] == "ALPHA-1.1")
    assert row["verification"] == "not run"
    api = json.loads(client.get("/api/v1/matrix?release=1999.01").get_data(as_text=True))
    assert api["notes"] == [UNKNOWN]
    listing = json.loads(client.get("/api/v1/obligations?branch=feature/x").get_data(as_text=True))
    assert listing["notes"] == [BRANCH]
    assert (
        json.loads(client.get("/matrix.json?release=2026.11").get_data(as_text=True))["notes"] == []
    )

    spreadsheet = client.get("/matrix.csv?release=2027.01")
    assert spreadsheet.headers["X-Evidence-Note"] == PLANNED
    rows = {
        row["id"]: row for row in csv.DictReader(io.StringIO(spreadsheet.get_data(as_text=True)))
    }
    assert PLANNED in rows["ALPHA-1.1"]["explanation"]
    assert PLANNED not in rows["ALPHA-1.2"]["explanation"]  # no linked test: nothing to explain
    assert "X-Evidence-Note" not in client.get("/matrix.csv?release=2026.11").headers

    markdown = client.get("/matrix.md?branch=feature/x").get_data(as_text=True)
    assert "**No test run reported for branch feature/x: verification shows not run.**" in markdown
