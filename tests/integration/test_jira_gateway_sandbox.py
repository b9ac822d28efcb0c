"""RestJiraGateway and the real jira client against the local Jira sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from tracker.errors import JiraError
from tracker.integrations import jira_gateway, jira_paging
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_records import JiraSettings, RemoteLinkSpec
from tracker.sandbox import Fault, SandboxAuth, SandboxServer, SandboxState

EMAIL = "sync-bot@example.test"
TOKEN = "sandbox-api-token-7Hq2"
PAT = "sandbox-pat-K9x4"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ISSUES = 250
WINDOW = 120  # the sandbox's max_result_window in these tests, so keyset windows are used


@dataclass
class Running:
    """A sandbox with seeded data and a gateway pointed at it."""

    server: SandboxServer
    gateway: RestJiraGateway
    settings: JiraSettings
    mode: str


def seeded_state() -> SandboxState:
    # A zone behind UTC: JQL literals written in UTC would skip the newest issues.
    state = SandboxState(time_zone="America/New_York", clock=lambda: T0 + timedelta(hours=6))
    state.add_project("PRIV", "Privacy")
    state.add_version("PRIV", "2026.1", released=True, release_date=date(2026, 3, 31))
    state.add_version("PRIV", "2026.2")
    categories = ("new", "indeterminate", "done")
    for number in range(ISSUES):
        # Four issues share each minute, so window restarts must skip repeats.
        stamp = T0 + timedelta(minutes=number // 4, seconds=number % 4 * 7)
        state.add_issue(
            "PRIV",
            f"Epic {number + 1}",
            status=categories[number % 3],
            fix_versions=["2026.1"] if number % 2 else [],
            labels=["privacy"] if number % 5 == 0 else [],
            assignee="Ada Lovelace" if number % 7 == 0 else None,
            created=stamp,
            updated=stamp,
            notify=False,
        )
    return state


@pytest.fixture(params=["cloud", "datacenter"])
def running(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    mode = request.param
    monkeypatch.setattr(jira_paging, "MAX_OFFSET", WINDOW)
    monkeypatch.setattr(jira_gateway, "PAGE_SIZE", 50)
    # Retries sleep in the library; tests must not.
    monkeypatch.setattr("jira.resilientsession.time.sleep", lambda seconds: None)
    auth = SandboxAuth(email=EMAIL, token=TOKEN, pat=PAT)
    with SandboxServer(seeded_state(), mode=mode, auth=auth, max_result_window=WINDOW) as server:
        if mode == "cloud":
            settings = JiraSettings(url=server.url, email=EMAIL, api_token=TOKEN, timeout=10)
        else:
            settings = JiraSettings(url=server.url, pat=PAT, timeout=10)
        gateway = RestJiraGateway(settings)
        try:
            yield Running(server, gateway, settings, mode)
        finally:
            gateway.close()


def test_deployment_and_title(running: Running) -> None:
    assert running.gateway.deployment() == running.mode
    assert running.gateway.server_title() == "Jira Sandbox"


def test_iter_search_returns_every_issue_once_in_update_order(running: Running) -> None:
    pages = list(running.gateway.iter_search("project = PRIV", updated_since=None))

    issues = [issue for page in pages for issue in page.issues]
    assert len(issues) == ISSUES
    assert len({issue.key for issue in issues}) == ISSUES
    assert [issue.updated for issue in issues] == sorted(issue.updated for issue in issues)
    assert pages[-1].is_last and len(pages) >= 3
    first = next(issue for issue in issues if issue.key == "PRIV-1")
    assert first.issue_type == "Epic"
    assert first.status_category == "new"
    assert first.labels == ("privacy",)
    assert first.assignee == "Ada Lovelace"
    assert first.updated == T0
    assert first.url == f"{running.server.url}/browse/PRIV-1"
    assert next(i for i in issues if i.key == "PRIV-2").fix_versions == ("2026.1",)


def test_search_uses_the_deployments_endpoint_within_the_result_window(running: Running) -> None:
    running.server.state.reset_stats()
    list(running.gateway.iter_search("project = PRIV", updated_since=None))

    searches = [
        (record.path, parse_qs(record.query))
        for record in running.server.state.requests.records()
        if "/search" in record.path
    ]
    if running.mode == "cloud":
        assert {path for path, _ in searches} == {"/rest/api/2/search/jql"}
        return
    assert {path for path, _ in searches} == {"/rest/api/2/search"}
    assert all(int(query["startAt"][0]) + 50 <= WINDOW for _, query in searches)
    windows = [query["jql"][0] for _, query in searches if 'updated >= "' in query["jql"][0]]
    assert windows  # past the window the walk went on by keyset on updated


def test_search_from_a_watermark_reads_the_account_time_zone(running: Running) -> None:
    since = T0 + timedelta(minutes=60)  # issues 240..249 were updated at or after this

    pages = list(running.gateway.iter_search("project = PRIV", updated_since=since))

    keys = [issue.key for page in pages for issue in page.issues]
    assert keys == [f"PRIV-{number + 1}" for number in range(240, ISSUES)]


def test_get_issues_reports_a_missing_key(running: Running) -> None:
    found, missing = running.gateway.get_issues(["PRIV-1", "PRIV-2", "PRIV-9999"])

    assert [issue.key for issue in found] == ["PRIV-1", "PRIV-2"]
    assert missing == ["PRIV-9999"]


def test_project_versions(running: Running) -> None:
    versions = running.gateway.project_versions("PRIV")

    assert [(v.name, v.released, v.release_date) for v in versions] == [
        ("2026.1", True, date(2026, 3, 31)),
        ("2026.2", False, None),
    ]


def test_remote_link_upsert_twice_keeps_one_link_then_delete(running: Running) -> None:
    gateway = running.gateway
    spec = RemoteLinkSpec(
        global_id="privacy-tracker:GDPR-17.1",
        url="https://tracker.example.test/obligations/GDPR-17.1",
        title="GDPR-17.1 Right to erasure",
        summary="Erase personal data on request",
    )

    gateway.upsert_remote_link("PRIV-3", spec)
    gateway.upsert_remote_link("PRIV-3", RemoteLinkSpec(**{**spec.__dict__, "resolved": True}))

    (link,) = gateway.remote_links("PRIV-3")
    assert link.global_id == "privacy-tracker:GDPR-17.1"
    assert link.title == "GDPR-17.1 Right to erasure"
    assert link.resolved is True
    gateway.delete_remote_link("PRIV-3", "privacy-tracker:GDPR-17.1")
    gateway.delete_remote_link("PRIV-3", "privacy-tracker:GDPR-17.1")  # already gone is fine
    assert gateway.remote_links("PRIV-3") == []


def test_create_epic_and_find_it_by_label(running: Running) -> None:
    gateway = running.gateway

    key = gateway.create_epic(
        "PRIV", "CCPA-1798.105 Right to delete", "No work yet.", ["privacy-obligation"]
    )
    gateway.add_label("PRIV-4", "privacy-obligation")

    created = running.server.state.issue(key)
    assert created is not None and created.issuetype == "Epic"
    assert sorted(gateway.find_issue_keys_with_label("privacy-obligation")) == sorted(
        ["PRIV-4", key]
    )
    assert set(running.server.state.issue("PRIV-4").labels) == {"privacy-obligation"}  # type: ignore[union-attr]


def test_missing_issue_and_wrong_credentials_are_actionable(running: Running) -> None:
    with pytest.raises(JiraError, match="Jira issue PRIV-9999 does not exist"):
        running.gateway.remote_links("PRIV-9999")

    wrong = JiraSettings(url=running.server.url, email=EMAIL, api_token="not-the-token")
    with pytest.raises(JiraError, match="Jira rejected the credentials") as caught:
        RestJiraGateway(wrong).project_versions("PRIV")
    assert "not-the-token" not in str(caught.value)


def test_rate_limit_is_retried_after_retry_after(running: Running) -> None:
    running.server.state.faults.add(
        Fault(status=429, retry_after=1, times=2, path_contains="/versions")
    )

    assert len(running.gateway.project_versions("PRIV")) == 2


def test_persistent_rate_limit_ends_in_a_retryable_error(running: Running) -> None:
    running.gateway.deployment()
    running.server.state.faults.add(Fault(status=429, retry_after=1, path_contains="/versions"))

    with pytest.raises(JiraError) as caught:
        running.gateway.project_versions("PRIV")

    assert caught.value.status == 429 and caught.value.retryable
