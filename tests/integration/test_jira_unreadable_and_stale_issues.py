"""A sync survives an issue it cannot read, and neither a sync nor a webhook goes back in time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor, system_actor
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_paging import DataCenterCursor, datacenter_page
from tracker.integrations.jira_records import IssueRecord, JiraSettings
from tracker.models import WorkItem, WorkItemLink
from tracker.services.catalog import load_catalog
from tracker.services.jira_sync import sync_jira
from tracker.services.work_items import ObligationIndex, apply_issues

BASE = "https://jira.example.test"
API = f"{BASE}/rest/api/2"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def loaded(session: Session) -> Session:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    return session


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{API}/serverInfo",
            json={"baseUrl": BASE, "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud"},
        )
        mock.get(f"{API}/myself", json={"displayName": "Sync bot", "timeZone": "UTC"})
        mock.get(f"{API}/field", json=[{"id": "summary", "name": "Summary", "schema": {}}])
        mock.get(f"{API}/project/PRIV/versions", json=[])
        yield mock


def gateway() -> RestJiraGateway:
    return RestJiraGateway(JiraSettings(url=BASE, email="bot@example.test", api_token="t0k"))


def issue_json(key: str, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "summary": f"Work for {key}",
        "issuetype": {"name": "Epic"},
        "status": {"name": "Done", "statusCategory": {"key": "done"}},
        "fixVersions": [],
        "labels": ["obligation-ALPHA-1.1"],
        "assignee": None,
        "updated": "2026-11-20T10:15:30.000+0000",
        "project": {"key": "PRIV"},
    }
    values.update(fields)
    return {"id": "1" + key.rsplit("-", 1)[1].zfill(4), "key": key, "fields": values}


def record(key: str, category: str, minutes: int, labels: tuple[str, ...] = ()) -> IssueRecord:
    return IssueRecord(
        key=key,
        id="10001",
        summary=f"Work {key}",
        issue_type="Epic",
        status={"new": "To Do", "done": "Done"}[category],
        status_category=category,  # type: ignore[arg-type]
        fix_versions=(),
        labels=labels,
        assignee=None,
        url=f"{BASE}/browse/{key}",
        updated=T0 + timedelta(minutes=minutes),
        project_key="PRIV",
    )


def active_links(session: Session) -> set[tuple[str, str]]:
    session.rollback()
    rows = session.exec(select(WorkItemLink).where(col(WorkItemLink.removed_at).is_(None))).all()
    return {(link.obligation_id, link.work_item_key) for link in rows}


def test_a_sync_leaves_out_an_issue_it_cannot_read_and_says_which_and_why(
    engine: Engine, loaded: Session, rsps: responses.RequestsMock
) -> None:
    hostile = issue_json("PRIV-2", status="Done")
    rsps.get(
        f"{API}/search/jql",
        json={"issues": [issue_json("PRIV-1"), hostile, issue_json("PRIV-3")], "isLast": True},
    )

    report = sync_jira(engine=engine, gateway=gateway(), jql="x", actor=cli_actor("test"))

    assert report.status == "succeeded with problems"
    assert report.created == 2
    (problem,) = report.problems
    assert problem.startswith("An issue from Jira was left out because it cannot be read: ")
    assert "Issue PRIV-2: fields.status must be a JSON object, not text." in problem
    loaded.rollback()
    assert {item.key for item in loaded.exec(select(WorkItem)).all()} == {"PRIV-1", "PRIV-3"}


def test_long_summaries_are_cut_and_said_to_be_so(
    engine: Engine, loaded: Session, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{API}/search/jql",
        json={"issues": [issue_json("PRIV-1", summary="word " * 1000)], "isLast": True},
    )
    report = sync_jira(engine=engine, gateway=gateway(), jql="x", actor=cli_actor("test"))
    assert report.status == "succeeded"
    loaded.rollback()
    item = loaded.get(WorkItem, "PRIV-1")
    assert item is not None and len(item.summary) == 1000 and item.summary.endswith("…")


def test_a_linked_issue_that_cannot_be_read_is_neither_found_nor_missing(
    rsps: responses.RequestsMock,
) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        keys = re.findall(r'"([^"]+)"', parse_qs(urlsplit(request.url).query)["jql"][0])
        issues = [
            issue_json(key, updated="9999-12-31T23:59:59-23:59")
            if key == "PRIV-2"
            else issue_json(key)
            for key in keys
        ]
        return 200, {}, json.dumps({"issues": issues, "isLast": True})

    rsps.add_callback(
        responses.GET, f"{API}/search/jql", callback=answer, content_type="application/json"
    )
    found, missing = gateway().get_issues(["PRIV-1", "PRIV-2"])
    assert [issue.key for issue in found] == ["PRIV-1"]
    assert missing == []


def test_a_sync_keeps_a_linked_issue_it_cannot_read_rather_than_call_it_missing(
    engine: Engine, loaded: Session, rsps: responses.RequestsMock
) -> None:
    linked = record("PRIV-2", "done", 0, labels=("obligation-ALPHA-1.1",))
    with transaction(loaded):
        apply_issues(loaded, [linked], ObligationIndex(loaded), cli_actor("test"), in_scope=False)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        jql = parse_qs(urlsplit(request.url).query)["jql"][0]
        issues = [issue_json("PRIV-2", issuetype="Epic")] if "PRIV-2" in jql else []
        return 200, {}, json.dumps({"issues": issues, "isLast": True})

    rsps.add_callback(
        responses.GET, f"{API}/search/jql", callback=answer, content_type="application/json"
    )
    report = sync_jira(engine=engine, gateway=gateway(), jql="x", actor=cli_actor("test"))

    assert report.missing == 0
    loaded.rollback()
    item = loaded.get(WorkItem, "PRIV-2")
    assert item is not None and not item.missing and item.status_category == "done"
    assert active_links(loaded) == {("ALPHA-1.1", "PRIV-2")}


def test_data_center_paging_counts_the_issues_it_could_not_read() -> None:
    page = datacenter_page(
        DataCenterCursor(),
        [record("PRIV-1", "done", 0)],
        total=3,
        page_size=2,
        lower=None,
        read=2,
        problems=("PRIV-2 cannot be read",),
    )
    assert page.problems == ("PRIV-2 cannot be read",)
    assert page.next_token is not None
    assert DataCenterCursor.decode(page.next_token).start == 2


def test_a_sync_page_read_before_a_newer_webhook_does_not_undo_it(
    engine: Engine, loaded: Session
) -> None:
    newer = record("PRIV-1", "done", 30, labels=("obligation-ALPHA-1.1",))
    with transaction(loaded):
        apply_issues(
            loaded, [newer], ObligationIndex(loaded), system_actor("jira webhook"), in_scope=None
        )
    fake = FakeJiraGateway(issues=[record("PRIV-1", "new", 0)])

    report = sync_jira(engine=engine, gateway=fake, jql="x", actor=cli_actor("test"))

    assert (report.status, report.updated, report.unchanged) == ("succeeded", 0, 1)
    assert active_links(loaded) == {("ALPHA-1.1", "PRIV-1")}
    item = loaded.get(WorkItem, "PRIV-1")
    assert item is not None and item.status_category == "done"


def test_an_issue_as_new_as_the_stored_copy_is_applied_and_a_newer_one_too(
    engine: Engine, loaded: Session
) -> None:
    index = ObligationIndex(loaded)
    actor = system_actor("jira webhook")
    with transaction(loaded):
        apply_issues(loaded, [record("PRIV-1", "new", 5)], index, actor)
    with transaction(loaded):
        same_time = apply_issues(loaded, [record("PRIV-1", "done", 5)], index, actor)
    with transaction(loaded):
        older = apply_issues(loaded, [record("PRIV-1", "new", 4)], index, actor)
    assert (same_time.updated, same_time.stale) == (1, 0)
    assert (older.updated, older.stale) == (0, 1)
    loaded.rollback()
    assert loaded.get(WorkItem, "PRIV-1").status_category == "done"  # type: ignore[union-attr]
