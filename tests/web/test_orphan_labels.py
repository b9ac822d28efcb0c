"""The orphans page lists Jira labels obligation-X where X is no obligation of the catalog."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlmodel import Session

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor, system_actor
from tracker.integrations.jira_records import IssueRecord
from tracker.models import Obligation
from tracker.services.catalog import load_catalog
from tracker.services.work_items import ObligationIndex, apply_issues, mark_missing


def issue(key: str, *labels: str, summary: str = "") -> IssueRecord:
    return IssueRecord(
        key=key,
        id=key.rsplit("-", 1)[1],
        summary=summary or f"Work {key}",
        issue_type="Epic",
        status="To Do",
        status_category="new",
        fix_versions=(),
        labels=labels,
        assignee=None,
        url=f"https://jira.example.test/browse/{key}",
        updated=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        project_key=key.split("-")[0],
    )


def store(session: Session, *records: IssueRecord) -> None:
    with transaction(session):
        apply_issues(session, records, ObligationIndex(session), system_actor("jira sync"))


def labels_section(client: FlaskClient) -> str:
    response = client.get("/evidence/orphans")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    start = text.index('id="unknown-labels"')
    return text[start : text.index("</section>", start)]


def load(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))


def test_unknown_and_retired_obligation_labels_are_listed_with_what_to_do(
    client: FlaskClient, session: Session
) -> None:
    load(session)
    with transaction(session):
        retired = session.get(Obligation, "BETA-7")
        assert retired is not None
        retired.retired_at = datetime(2026, 11, 1, tzinfo=UTC)
        session.add(retired)
    store(
        session,
        issue("PRIV-1", "obligation-ALPHA-1.1", "obligation-NOPE-1", "team-a"),
        issue("PRIV-2", "Obligation-beta-9", summary="<script>alert(1)</script>"),
        issue("PRIV-3", "obligation-BETA-7", summary="<b>old</b>"),
        issue("PRIV-4", "obligation-GONE-2"),
    )
    with transaction(session):
        mark_missing(session, ["PRIV-4"], "deleted in Jira")

    section = labels_section(client)

    assert "2 labels on 2 work items." in section
    assert (
        '<tr><th scope="row"><code class="unknown-id">obligation-NOPE-1</code></th>'
        '<td><a href="/work-items/PRIV-1">PRIV-1</a>'
    ) in section
    assert "Fix the label on PRIV-1 in Jira, or add NOPE-1 to the catalog." in section
    assert 'href="https://jira.example.test/browse/PRIV-1"' in section
    assert "BETA-7 was retired from the catalog: remove the label in Jira" in section
    assert "&lt;b&gt;old&lt;/b&gt;" in section
    # Known obligations (in any letter case), other labels and missing issues are not orphans.
    for absent in ("obligation-ALPHA-1.1", "beta-9", "team-a", "PRIV-2", "GONE-2"):
        assert absent not in section


def test_without_unknown_labels_the_page_says_all_is_well(
    client: FlaskClient, session: Session
) -> None:
    load(session)
    store(session, issue("PRIV-1", "obligation-ALPHA-1.1"))
    section = labels_section(client)
    assert "None: every obligation label on a Jira issue names an obligation" in section
