"""The work-item page and its JSON: a Jira issue, the obligations it carries, the last push."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.evidence_helpers import (
    assert_escaped,
    case,
    count_statements,
    ingest,
    load_small_catalog,
    report,
)
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.errors import JiraError, NotFoundError
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord
from tracker.models import Obligation
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira
from tracker.services.links import link_work_item
from tracker.services.work_item_page import work_item_detail
from tracker.services.work_items import mark_missing

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
JIRA = "https://jira.example.test"


def issue(key: str, summary: str, labels: tuple[str, ...] = ()) -> IssueRecord:
    return IssueRecord(
        key=key,
        id=key.rpartition("-")[2],
        summary=summary,
        issue_type="Epic",
        status="Done",
        status_category="done",
        fix_versions=("2026.12",),
        labels=labels,
        assignee="Ana Lima",
        url=f"{JIRA}/browse/{key}",
        updated=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        project_key=key.partition("-")[0],
    )


@pytest.fixture
def jira(engine: Engine, session: Session) -> FakeJiraGateway:
    """PRIV-1 carries ALPHA-1.1 by label and ALPHA-1.2 by a tracker link; PRIV-2 carries none.

    ALPHA-1.1 was pushed to PRIV-1; pushing ALPHA-1.2 then failed (rate limit). ALPHA-1.2's
    test fails on main.
    """
    load_small_catalog(session)
    ingest(session, report(case("test_b", obligations="ALPHA-1.2", outcome="failed")))
    fake = FakeJiraGateway(
        issues=[
            issue("PRIV-1", HOSTILE, ("obligation-ALPHA-1.1", "obligation-NOPE-1", "team-a")),
            issue("PRIV-2", "Cookie banner"),
        ]
    )
    actor = cli_actor("test")
    assert sync_jira(actor=actor, engine=engine, gateway=fake, jql="x").status.startswith(
        "succeeded"
    )
    assert push_links(actor=actor, engine=engine, gateway=fake, public_url="https://t").done == 1
    with transaction(session):
        link_work_item(session=session, obligation_id="ALPHA-1.2", key="PRIV-1", actor=actor)
    fake.fail("upsert_remote_link", JiraError("Jira rate limit reached.", status=429))
    assert push_links(actor=actor, engine=engine, gateway=fake, public_url="https://t").failed
    session.rollback()
    return fake


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return str(response.get_data(as_text=True))


def test_page_shows_the_issue_its_obligations_their_status_and_where_each_link_came_from(
    client: Any, jira: FakeJiraGateway
) -> None:
    text = page(client, "/work-items/PRIV-1")
    assert_escaped(text)
    assert f'href="{JIRA}/browse/PRIV-1" target="_blank"' in text
    assert 'href="/obligations/ALPHA-1.1"' in text and 'href="/obligations/ALPHA-1.2"' in text
    assert "Label obligation-ALPHA-1.1 in Jira" in text
    assert "Linked in the tracker" in text and "by test on" in text
    # The done epic implements both; ALPHA-1.2's test fails on main.
    assert text.count('<span class="badge st-implemented">Implemented</span>') == 1
    assert '<span class="badge st-failing">Failing</span>' in text
    for fact in ("Epic", "Done", "2026.12", "Ana Lima", "2026-11-20 10:00 UTC", "team-a"):
        assert fact in text
    assert "obligation-NOPE-1</code> names no obligation in the catalog" in text


def test_a_label_of_a_retired_obligation_says_so_as_the_orphans_page_does(
    client: Any, jira: FakeJiraGateway, engine: Engine, session: Session
) -> None:
    with transaction(session):
        retired = session.get(Obligation, "BETA-7")
        assert retired is not None
        retired.retired_at = datetime(2026, 11, 1, tzinfo=UTC)
        session.add(retired)
    jira.add_issue(issue("PRIV-3", "Old work", ("obligation-beta-7", "obligation-NOPE-2")))
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=jira, jql="x")
    text = page(client, "/work-items/PRIV-3")
    assert (
        "<code>obligation-beta-7</code>: BETA-7 was retired from the catalog: remove the label "
        "in Jira, or label the issue with the obligation that replaces it."
    ) in text
    assert '<a class="tag" href="/obligations/BETA-7">obligation-beta-7</a>' in text
    assert "<code>obligation-NOPE-2</code> names no obligation in the catalog" in text
    assert "obligation-beta-7</code> names no obligation" not in text
    data = client.get("/api/v1/work-items/PRIV-3").get_json()
    assert data["unknown_obligation_labels"] == ["obligation-NOPE-2"]
    assert data["retired_obligation_labels"] == ["obligation-beta-7"]
    orphans = page(client, "/evidence/orphans")  # says the same of it
    assert "beta-7 was retired from the catalog: remove the label in Jira" in orphans


def test_a_label_made_link_names_the_label_as_it_is_on_the_issue(
    client: Any, jira: FakeJiraGateway, engine: Engine
) -> None:
    jira.add_issue(issue("PRIV-4", "Mixed case", ("Obligation-alpha-2",)))
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=jira, jql="x")
    assert "Label Obligation-alpha-2 in Jira" in page(client, "/work-items/PRIV-4")
    data = client.get("/api/v1/work-items/PRIV-4").get_json()
    assert [(item["id"], item["label"]) for item in data["obligations"]] == [
        ("ALPHA-2", "Obligation-alpha-2")
    ]


def test_control_characters_of_a_key_are_not_echoed_in_the_message(session: Session) -> None:
    with pytest.raises(NotFoundError) as raised:
        work_item_detail(session=session, key="AB\x85\x1bCD")
    assert "'AB??CD' is not a Jira key" in str(raised.value)


def test_page_shows_the_status_in_the_scope_asked_for(client: Any, jira: FakeJiraGateway) -> None:
    text = page(client, "/work-items/PRIV-1?branch=feature-x")
    assert "Failing" not in text  # no run on that branch: the failing test does not count
    assert "branch feature-x" in text


def test_page_shows_what_was_pushed_what_is_pending_and_the_last_push_problem(
    client: Any, jira: FakeJiraGateway
) -> None:
    text = page(client, "/work-items/PRIV-1")
    assert "Last pushed to PRIV-1: <strong>" in text
    assert "ALPHA-1.1 (Art. 1(1)): IMPLEMENTED" in text
    assert "The next push adds a remote link for ALPHA-1.2." in text
    assert "It failed for PRIV-1: Jira rate limit reached." in text


def test_api_gives_the_same_facts_as_json(client: Any, jira: FakeJiraGateway) -> None:
    response = client.get("/api/v1/work-items/priv-1")
    assert response.status_code == 200
    data = response.get_json()
    assert (data["key"], data["summary"], data["status_category"]) == ("PRIV-1", HOSTILE, "done")
    assert data["url"] == f"{JIRA}/browse/PRIV-1" and data["missing"] is False
    assert data["synced_at"] and data["jira_updated"].startswith("2026-11-20T10:00:00")
    assert data["unknown_obligation_labels"] == ["obligation-NOPE-1"]
    carried = {item["id"]: item for item in data["obligations"]}
    assert set(carried) == {"ALPHA-1.1", "ALPHA-1.2"}
    assert (carried["ALPHA-1.1"]["origin"], carried["ALPHA-1.1"]["label"]) == (
        "jira",
        "obligation-ALPHA-1.1",
    )
    assert (carried["ALPHA-1.2"]["origin"], carried["ALPHA-1.2"]["label"]) == ("manual", None)
    assert carried["ALPHA-1.2"]["status"] == "FAILING"
    assert carried["ALPHA-1.1"]["url"] == "/api/v1/obligations/ALPHA-1.1"
    push = data["push"]
    assert [link["obligation"] for link in push["remote_links"]] == ["ALPHA-1.1"]
    assert push["remote_links"][0]["title"] == "ALPHA-1.1 (Art. 1(1)): IMPLEMENTED"
    assert push["not_pushed"] == ["ALPHA-1.2"] and push["to_remove"] == []
    assert push["latest_run"]["problem"] == "Jira rate limit reached."
    scoped = client.get("/api/v1/work-items/PRIV-1?branch=feature-x").get_json()
    assert {item["status"] for item in scoped["obligations"]} == {"IMPLEMENTED"}


def test_an_unlinked_work_item_says_it_carries_nothing_and_how_to_link_it(
    client: Any, jira: FakeJiraGateway
) -> None:
    text = page(client, "/work-items/PRIV-2")
    assert "Cookie banner" in text
    assert "No obligation is linked to PRIV-2" in text
    assert "<code>obligation-GDPR-17.1</code>" in text
    assert "Nothing has been pushed to PRIV-2 yet." in text
    data = client.get("/api/v1/work-items/PRIV-2").get_json()
    assert data["obligations"] == [] and data["push"]["remote_links"] == []
    assert data["push"]["not_pushed"] == []


def test_an_unknown_key_is_a_404_that_says_what_to_do(client: Any, jira: FakeJiraGateway) -> None:
    text = page(client, "/work-items/PRIV-999", 404)
    assert "The tracker knows no work item PRIV-999" in text
    assert "run a sync from the Jira page" in text
    response = client.get("/api/v1/work-items/PRIV-999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert "PRIV-999" in response.get_json()["error"]["message"]


def test_text_that_is_no_jira_key_is_a_404_shown_escaped(
    client: Any, jira: FakeJiraGateway
) -> None:
    text = page(client, "/work-items/%3Cimg%20src=x%20onerror=alert(1)%3E", 404)
    assert "<img src=x" not in text
    assert "&#39;&lt;img src=x onerror=alert(1)&gt;&#39; is not a Jira key" in text
    assert "keys look like PRIV-42" in text
    assert client.get("/work-items/PRIV-1%00").status_code in (400, 404)
    response = client.get("/api/v1/work-items/" + "A" * 5000)
    assert response.status_code == 404
    assert len(response.get_json()["error"]["message"]) < 400


def test_a_linked_key_never_synced_says_so_and_that_nothing_is_pushed_to_it(
    client: Any, jira: FakeJiraGateway, session: Session
) -> None:
    with transaction(session):
        link_work_item(
            session=session, obligation_id="BETA-7", key="PRIV-77", actor=cli_actor("eng")
        )
    text = page(client, "/work-items/PRIV-77")
    assert "Not synced yet" in text
    assert "Nothing is pushed to it until a Jira sync has found it." in text
    assert 'href="/obligations/BETA-7"' in text
    assert "open PRIV-77 in Jira" not in text.lower()  # no address is known for it


def test_a_work_item_missing_in_jira_says_so_and_what_to_do(
    client: Any, jira: FakeJiraGateway, session: Session
) -> None:
    with transaction(session):
        mark_missing(session, ["PRIV-1"], "deleted in Jira")
    text = page(client, "/work-items/PRIV-1")
    assert "Missing in Jira since" in text
    assert "link the obligations to the issue's new key" in text
    assert "Nothing is pushed to it while it is missing in Jira" in text
    assert client.get("/api/v1/work-items/PRIV-1").get_json()["missing"] is True


def test_pages_that_list_work_items_link_to_their_page_and_to_jira(
    client: Any, jira: FakeJiraGateway, session: Session
) -> None:
    for path in ("/obligations/ALPHA-1.1", "/matrix"):
        text = page(client, path)
        assert 'href="/work-items/PRIV-1"' in text, path
        assert f'href="{JIRA}/browse/PRIV-1" target="_blank"' in text, path
    with transaction(session):
        mark_missing(session, ["PRIV-1"], "deleted in Jira")
    assert 'href="/work-items/PRIV-1"' in page(client, "/jira")


def test_the_page_reads_a_fixed_number_of_queries_whatever_it_carries(
    client: Any, jira: FakeJiraGateway, session: Session, engine: Engine
) -> None:
    client.get("/work-items/PRIV-2")  # sign-in bookkeeping and first-request work out of the way
    with count_statements(engine) as few:
        page(client, "/work-items/PRIV-1")
    with transaction(session):
        for obligation_id in ("ALPHA-2", "BETA-7", "BETA-9"):
            link_work_item(
                session=session, obligation_id=obligation_id, key="PRIV-1", actor=cli_actor("e")
            )
    with count_statements(engine) as more:
        page(client, "/work-items/PRIV-1")
    assert len(more) == len(few)
