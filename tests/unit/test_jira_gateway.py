"""The REST Jira gateway against exact HTTP exchanges (responses), JiraSettings, and the fake."""

from __future__ import annotations

import base64
import inspect
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from tracker.errors import JiraError, ValidationError
from tracker.integrations import jira_gateway, jira_paging
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_gateway import (
    JiraGateway,
    RestJiraGateway,
    make_gateway,
    parse_jira_datetime,
    search_jql,
)
from tracker.integrations.jira_records import (
    IssueRecord,
    JiraSettings,
    RemoteLinkRecord,
    RemoteLinkSpec,
    VersionRecord,
)

BASE = "https://jira.example.test"
API = f"{BASE}/rest/api/2"
EMAIL = "sync-bot@example.test"
TOKEN = "cloud-api-token-Zq81xT0kS3cr3t"
PAT = "dc-personal-access-token-Pq77Mn2S3cr3t"
FIELDS = [
    "summary",
    "issuetype",
    "status",
    "fixVersions",
    "labels",
    "assignee",
    "updated",
    "project",
]
EPIC_JQL = "issuetype = Epic"
CREDENTIALS = (
    "Jira rejected the credentials: check TRACKER_JIRA_EMAIL and TRACKER_JIRA_API_TOKEN (Cloud) "
    "or TRACKER_JIRA_PAT (Data Center)."
)


# -- helpers -------------------------------------------------------------------------------


def cloud_settings() -> JiraSettings:
    return JiraSettings(url=BASE, email=EMAIL, api_token=TOKEN, webhook_secret="hook-secret-1")


def datacenter_settings() -> JiraSettings:
    return JiraSettings(url=BASE, pat=PAT)


def issue_json(
    key: str,
    updated: str = "2026-11-20T10:15:30.000+0000",
    *,
    status: str = "In Progress",
    category: str = "indeterminate",
    fix_versions: tuple[str, ...] = ("2026.1",),
    labels: tuple[str, ...] = ("privacy",),
    assignee: str | None = "Ada Lovelace",
) -> dict[str, Any]:
    number = key.rsplit("-", 1)[1]
    return {
        "id": f"1{number:0>4}",
        "key": key,
        "self": f"{API}/issue/1{number:0>4}",
        "fields": {
            "summary": f"Work for {key}",
            "issuetype": {"id": "10000", "name": "Epic"},
            "status": {"name": status, "statusCategory": {"id": 4, "key": category}},
            "fixVersions": [{"id": "1", "name": name} for name in fix_versions],
            "labels": list(labels),
            "assignee": {"displayName": assignee} if assignee else None,
            "updated": updated,
            "project": {"id": "10000", "key": key.rsplit("-", 1)[0]},
        },
    }


def register_server(
    rsps: responses.RequestsMock,
    deployment: str = "Cloud",
    *,
    time_zone: str = "UTC",
    epic_name_field: bool = False,
) -> None:
    rsps.get(
        f"{API}/serverInfo",
        json={
            "baseUrl": BASE,
            "version": "1001.0.0",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": deployment,
            "serverTitle": "Example Jira",
        },
    )
    rsps.get(f"{API}/myself", json={"displayName": "Sync bot", "timeZone": time_zone})
    fields: list[dict[str, Any]] = [
        {"id": "summary", "name": "Summary", "clauseNames": ["summary"], "schema": {}},
        {"id": "updated", "name": "Updated", "clauseNames": ["updated", "updatedDate"]},
    ]
    if epic_name_field:
        fields.append(
            {
                "id": "customfield_10011",
                "name": "Epic Name",
                "custom": True,
                "clauseNames": ["cf[10011]", "Epic Name"],
                "schema": {
                    "type": "string",
                    "custom": "com.pyxis.greenhopper.jira:gh-epic-label",
                    "customId": 10011,
                },
            }
        )
    rsps.get(f"{API}/field", json=fields)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the library's retry sleeps instead of sleeping; pin its jitter to 1.0."""
    recorded: list[float] = []
    monkeypatch.setattr("jira.resilientsession.time.sleep", recorded.append)
    monkeypatch.setattr("jira.resilientsession.random.uniform", lambda low, high: 1.0)
    return recorded


def query_of(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def search_calls(rsps: responses.RequestsMock, path: str) -> list[dict[str, list[str]]]:
    return [
        query_of(call.request)
        for call in rsps.calls
        if urlsplit(call.request.url).path == f"/rest/api/2/{path}"
    ]


# -- construction ---------------------------------------------------------------------------


def test_constructing_the_gateway_does_no_network_io(rsps: responses.RequestsMock) -> None:
    gateway = make_gateway(cloud_settings())

    assert isinstance(gateway, RestJiraGateway)
    assert len(rsps.calls) == 0
    assert TOKEN not in repr(gateway)


def test_deployment_follows_server_info(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    assert RestJiraGateway(cloud_settings()).deployment() == "cloud"

    rsps.replace(
        responses.GET,
        f"{API}/serverInfo",
        json={"versionNumbers": [9, 12, 0], "deploymentType": "Server"},
    )
    assert RestJiraGateway(datacenter_settings()).deployment() == "datacenter"


def test_cloud_uses_basic_auth_and_datacenter_a_bearer_pat(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    RestJiraGateway(cloud_settings()).server_title()
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    assert rsps.calls[0].request.headers["Authorization"] == f"Basic {basic}"

    RestJiraGateway(datacenter_settings()).server_title()
    assert rsps.calls[-1].request.headers["Authorization"] == f"Bearer {PAT}"


def test_server_title_reads_server_info(rsps: responses.RequestsMock) -> None:
    register_server(rsps)
    assert RestJiraGateway(cloud_settings()).server_title() == "Example Jira"


# -- search: Cloud --------------------------------------------------------------------------


def test_cloud_search_walks_next_page_tokens_with_fields_and_watermark(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud", time_zone="Europe/Berlin")
    # 09:15:42 UTC is 10:15 in Berlin in November; JQL reads literals in the account's zone.
    expected_jql = (
        '(issuetype = Epic) AND updated >= "2026-11-20 10:15" ORDER BY updated ASC, key ASC'
    )
    base_query = {"jql": expected_jql, "fields": FIELDS, "maxResults": "100"}
    pages = [
        (None, {"issues": [issue_json("ABC-1"), issue_json("ABC-2")], "nextPageToken": "t2"}),
        ("t2", {"issues": [issue_json("ABC-3")], "nextPageToken": "t3", "isLast": False}),
        ("t3", {"issues": [issue_json("ABC-4")], "isLast": True}),
    ]
    for token, body in pages:
        query = dict(base_query, **({"nextPageToken": token} if token else {}))
        rsps.get(f"{API}/search/jql", json=body, match=[matchers.query_param_matcher(query)])

    gateway = RestJiraGateway(cloud_settings())
    since = datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)
    walked = list(gateway.iter_search(EPIC_JQL, updated_since=since))

    assert [[issue.key for issue in page.issues] for page in walked] == [
        ["ABC-1", "ABC-2"],
        ["ABC-3"],
        ["ABC-4"],
    ]
    assert [page.next_token for page in walked] == ["t2", "t3", None]
    assert [page.is_last for page in walked] == [False, False, True]
    assert len(search_calls(rsps, "search/jql")) == 3


def test_cloud_search_returns_one_page_and_its_token(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    query = {
        "jql": "(project = ABC) ORDER BY updated ASC, key ASC",
        "fields": FIELDS,
        "maxResults": "25",
        "nextPageToken": "t7",
    }
    rsps.get(
        f"{API}/search/jql",
        json={"issues": [issue_json("ABC-9")], "nextPageToken": "t8"},
        match=[matchers.query_param_matcher(query)],
    )

    page = RestJiraGateway(cloud_settings()).search(
        "project = ABC ORDER BY created DESC", updated_since=None, page_token="t7", page_size=25
    )

    assert [issue.key for issue in page.issues] == ["ABC-9"]
    assert (page.next_token, page.is_last) == ("t8", False)


def test_search_parses_issue_fields_into_records(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    raw = issue_json(
        "ABC-7",
        "2026-11-20T12:15:30.250+0200",
        status="Done",
        category="done",
        fix_versions=("2026.1", "2026.2"),
        labels=("privacy", "gdpr"),
    )
    unassigned = issue_json("ABC-8", status="Backlog", category="undefined", assignee=None)
    rsps.get(f"{API}/search/jql", json={"issues": [raw, unassigned], "isLast": True})

    page = RestJiraGateway(cloud_settings()).search(EPIC_JQL, updated_since=None, page_token=None)

    assert page.issues[0] == IssueRecord(
        key="ABC-7",
        id="10007",
        summary="Work for ABC-7",
        issue_type="Epic",
        status="Done",
        status_category="done",
        fix_versions=("2026.1", "2026.2"),
        labels=("privacy", "gdpr"),
        assignee="Ada Lovelace",
        url=f"{BASE}/browse/ABC-7",
        updated=datetime(2026, 11, 20, 10, 15, 30, 250_000, tzinfo=UTC),
        project_key="ABC",
    )
    assert page.issues[1].assignee is None
    assert page.issues[1].status_category == "new"
    assert page.is_last and page.next_token is None


def test_search_treats_a_naive_watermark_as_utc(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud", time_zone="America/New_York")
    rsps.get(f"{API}/search/jql", json={"issues": [], "isLast": True})

    RestJiraGateway(cloud_settings()).search(
        EPIC_JQL, updated_since=datetime(2026, 11, 20, 15, 0), page_token=None
    )

    (query,) = search_calls(rsps, "search/jql")
    assert 'updated >= "2026-11-20 10:00"' in query["jql"][0]


# -- search: Data Center -------------------------------------------------------------------


def test_datacenter_search_pages_by_start_at(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Server")
    jql = '(issuetype = Epic) AND updated >= "2026-11-20 10:00" ORDER BY updated ASC, key ASC'
    for start, keys in ((0, ["ABC-1", "ABC-2"]), (2, ["ABC-3"])):
        query = {
            "jql": jql,
            "startAt": str(start),
            "validateQuery": "True",
            "fields": FIELDS,
            "maxResults": "2",
        }
        rsps.get(
            f"{API}/search",
            json={
                "startAt": start,
                "maxResults": 2,
                "total": 3,
                "issues": [issue_json(k) for k in keys],
            },
            match=[matchers.query_param_matcher(query)],
        )
    gateway = RestJiraGateway(datacenter_settings())
    since = datetime(2026, 11, 20, 10, 0, 59, tzinfo=UTC)

    first = gateway.search(EPIC_JQL, updated_since=since, page_token=None, page_size=2)
    second = gateway.search(EPIC_JQL, updated_since=since, page_token=first.next_token, page_size=2)

    assert [i.key for i in first.issues] == ["ABC-1", "ABC-2"]
    assert not first.is_last and first.next_token
    assert [i.key for i in second.issues] == ["ABC-3"]
    assert second.is_last and second.next_token is None


def _minute_issues() -> list[dict[str, Any]]:
    # Several issues share a minute, so a window restart repeats some of them.
    stamps = {
        "ABC-1": "10:00:05",
        "ABC-2": "10:00:40",
        "ABC-3": "10:01:01",
        "ABC-4": "10:01:20",
        "ABC-5": "10:01:50",
        "ABC-6": "10:02:10",
        "ABC-7": "10:03:00",
        "ABC-8": "10:03:15",
        "ABC-9": "10:03:59",
        "ABC-10": "10:04:10",
        "ABC-11": "10:04:30",
        "ABC-12": "10:05:00",
    }
    return [issue_json(key, f"2026-11-20T{hms}.000+0000") for key, hms in stamps.items()]


def datacenter_server(
    rsps: responses.RequestsMock, issues: list[dict[str, Any]], max_offset: int
) -> list[tuple[int, str | None]]:
    """Serve /search like Data Center: filter on the JQL watermark, refuse deep offsets."""
    asked: list[tuple[int, str | None]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        query = query_of(request)
        start, size = int(query["startAt"][0]), int(query["maxResults"][0])
        found = re.search(r'updated >= "([^"]+)"', query["jql"][0])
        literal = found.group(1) if found else None
        asked.append((start, literal))
        if start + size > max_offset:
            return 500, {}, json.dumps({"errorMessages": ["Search limit exceeded."]})
        matching = issues
        if literal:
            floor = datetime.strptime(literal, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            matching = [i for i in issues if parse_jira_datetime(i["fields"]["updated"]) >= floor]
        body = {
            "startAt": start,
            "maxResults": size,
            "total": len(matching),
            "issues": matching[start : start + size],
        }
        return 200, {}, json.dumps(body)

    rsps.add_callback(
        responses.GET, f"{API}/search", callback=answer, content_type="application/json"
    )
    return asked


def test_datacenter_switches_to_keyset_windows_before_the_offset_limit(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_paging, "MAX_OFFSET", 5)
    monkeypatch.setattr(jira_gateway, "PAGE_SIZE", 2)
    register_server(rsps, "Server")
    asked = datacenter_server(rsps, _minute_issues(), max_offset=5)

    pages = list(RestJiraGateway(datacenter_settings()).iter_search(EPIC_JQL, updated_since=None))

    keys = [issue.key for page in pages for issue in page.issues]
    assert keys == [f"ABC-{n}" for n in range(1, 13)]  # each exactly once, in order
    assert all(start + 2 <= 5 for start, _ in asked)
    assert asked[:3] == [(0, None), (2, None), (0, "2026-11-20 10:01")]
    assert {literal for _, literal in asked} >= {"2026-11-20 10:02", "2026-11-20 10:04"}
    assert pages[-1].is_last


def test_datacenter_keyset_window_starts_from_the_watermark(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_paging, "MAX_OFFSET", 5)
    monkeypatch.setattr(jira_gateway, "PAGE_SIZE", 2)
    register_server(rsps, "Server")
    asked = datacenter_server(rsps, _minute_issues(), max_offset=5)
    since = datetime(2026, 11, 20, 10, 3, 30, tzinfo=UTC)

    pages = list(RestJiraGateway(datacenter_settings()).iter_search(EPIC_JQL, updated_since=since))

    assert [i.key for p in pages for i in p.issues] == [f"ABC-{n}" for n in range(7, 13)]
    assert asked[0] == (0, "2026-11-20 10:03")


def test_datacenter_refuses_to_loop_when_one_minute_holds_more_than_the_window(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_paging, "MAX_OFFSET", 5)
    monkeypatch.setattr(jira_gateway, "PAGE_SIZE", 2)
    register_server(rsps, "Server")
    crowded = [issue_json(f"ABC-{n}", f"2026-11-20T10:00:{n:02}.000+0000") for n in range(1, 9)]
    datacenter_server(rsps, crowded, max_offset=5)

    with pytest.raises(JiraError, match="updated within one minute"):
        list(RestJiraGateway(datacenter_settings()).iter_search(EPIC_JQL, updated_since=None))


def test_search_rejects_a_page_token_it_did_not_issue(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Server")
    with pytest.raises(ValidationError):
        RestJiraGateway(datacenter_settings()).search(
            EPIC_JQL, updated_since=None, page_token="not-ours"
        )


# -- get_issues ------------------------------------------------------------------------------


def key_search_server(rsps: responses.RequestsMock, existing: set[str]) -> list[list[str]]:
    """Serve Cloud /search/jql for `key in (...)`; a missing key fails the whole query."""
    batches: list[list[str]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        keys = re.findall(r'"([^"]+)"', query_of(request)["jql"][0])
        batches.append(keys)
        absent = [key for key in keys if key not in existing]
        if absent:
            message = f"An issue with key '{absent[0]}' does not exist for field 'key'."
            return 400, {}, json.dumps({"errorMessages": [message], "errors": {}})
        body = {"issues": [issue_json(key) for key in keys], "isLast": True}
        return 200, {}, json.dumps(body)

    rsps.add_callback(
        responses.GET, f"{API}/search/jql", callback=answer, content_type="application/json"
    )
    return batches


def test_get_issues_reports_missing_keys_by_narrowing_the_failing_batch(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    batches = key_search_server(rsps, {"ABC-1", "ABC-2", "ABC-4"})
    rsps.get(
        f"{API}/issue/ABC-3",
        status=404,
        json={"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
    )

    found, missing = RestJiraGateway(cloud_settings()).get_issues(
        ["ABC-1", "abc-2", "ABC-3", "ABC-4", "ABC-1"]
    )

    assert [issue.key for issue in found] == ["ABC-1", "ABC-2", "ABC-4"]
    assert missing == ["ABC-3"]
    assert batches[0] == ["ABC-1", "ABC-2", "ABC-3", "ABC-4"]
    assert ["ABC-3"] in batches  # narrowed down to the lone missing key, then a GET


def test_get_issues_queries_in_batches(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_gateway, "KEY_BATCH", 2)
    register_server(rsps, "Cloud")
    keys = [f"ABC-{n}" for n in range(1, 6)]
    batches = key_search_server(rsps, set(keys))

    found, missing = RestJiraGateway(cloud_settings()).get_issues(keys)

    assert [issue.key for issue in found] == keys
    assert missing == []
    assert batches == [["ABC-1", "ABC-2"], ["ABC-3", "ABC-4"], ["ABC-5"]]


def test_get_issues_keeps_keys_the_server_silently_drops_as_missing(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/search/jql", json={"issues": [issue_json("ABC-1")], "isLast": True})

    found, missing = RestJiraGateway(cloud_settings()).get_issues(["ABC-1", "ABC-99"])

    assert [issue.key for issue in found] == ["ABC-1"]
    assert missing == ["ABC-99"]


# -- versions, links, labels, epics ---------------------------------------------------------


def test_project_versions_become_records(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(
        f"{API}/project/ABC/versions",
        json=[
            {"id": "100", "name": "2026.1", "released": True, "releaseDate": "2026-03-31"},
            {"id": "101", "name": "2026.2", "released": False, "archived": True},
        ],
    )

    versions = RestJiraGateway(cloud_settings()).project_versions("ABC")

    assert versions == [
        VersionRecord("ABC", "100", "2026.1", True, date(2026, 3, 31), False),
        VersionRecord("ABC", "101", "2026.2", False, None, True),
    ]


def test_remote_links_become_records(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(
        f"{API}/issue/ABC-1/remotelink",
        json=[
            {
                "id": 10000,
                "globalId": "privacy-tracker:GDPR-17.1",
                "object": {
                    "url": "https://tracker.example.test/obligations/GDPR-17.1",
                    "title": "GDPR-17.1 Right to erasure",
                    "summary": "Erase personal data on request",
                    "status": {"resolved": True},
                },
            },
            {"id": 10001, "object": {"url": "https://ci.example.test", "title": "CI"}},
        ],
    )

    links = RestJiraGateway(cloud_settings()).remote_links("ABC-1")

    assert links == [
        RemoteLinkRecord(
            10000,
            "privacy-tracker:GDPR-17.1",
            "https://tracker.example.test/obligations/GDPR-17.1",
            "GDPR-17.1 Right to erasure",
            "Erase personal data on request",
            True,
        ),
        RemoteLinkRecord(10001, None, "https://ci.example.test", "CI", None, False),
    ]


def test_upsert_remote_link_posts_global_id_object_and_status(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    spec = RemoteLinkSpec(
        global_id="privacy-tracker:GDPR-17.1",
        url="https://tracker.example.test/obligations/GDPR-17.1",
        title="GDPR-17.1 Right to erasure",
        summary="Erase personal data on request",
        resolved=False,
    )
    expected = {
        "globalId": "privacy-tracker:GDPR-17.1",
        "application": {"type": "privacy-tracker", "name": "Privacy tracker"},
        "relationship": "carries obligation",
        "object": {
            "url": "https://tracker.example.test/obligations/GDPR-17.1",
            "title": "GDPR-17.1 Right to erasure",
            "summary": "Erase personal data on request",
            "status": {"resolved": False},
        },
    }
    created = rsps.post(
        f"{API}/issue/ABC-1/remotelink",
        status=201,
        json={"id": 10000, "self": f"{API}/issue/ABC-1/remotelink/10000"},
        match=[matchers.json_params_matcher(expected)],
    )
    gateway = RestJiraGateway(cloud_settings())

    gateway.upsert_remote_link("ABC-1", spec)
    gateway.upsert_remote_link("ABC-1", spec)

    assert created.call_count == 2
    # No detour through /rest/applinks, which non-admin accounts may not read.
    assert not any("applinks" in str(call.request.url) for call in rsps.calls)


def test_delete_remote_link_by_global_id_and_tolerates_absence(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    deleted = rsps.delete(
        f"{API}/issue/ABC-1/remotelink",
        status=204,
        match=[matchers.query_param_matcher({"globalId": "system=tracker&id=GDPR-17.1"})],
    )
    rsps.delete(f"{API}/issue/ABC-2/remotelink", status=404, json={"errorMessages": ["gone"]})
    gateway = RestJiraGateway(cloud_settings())

    gateway.delete_remote_link("ABC-1", "system=tracker&id=GDPR-17.1")
    gateway.delete_remote_link("ABC-2", "system=tracker&id=GDPR-17.1")

    assert deleted.call_count == 1
    assert "globalId=system%3Dtracker%26id%3DGDPR-17.1" in deleted.calls[0].request.url


def test_create_epic_on_cloud_sends_only_the_epic_issue_type(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud", epic_name_field=True)
    created = rsps.post(
        f"{API}/issue",
        status=201,
        json={"id": "10050", "key": "ABC-50", "self": f"{API}/issue/10050"},
        match=[
            matchers.json_params_matcher(
                {
                    "fields": {
                        "project": {"key": "ABC"},
                        "issuetype": {"name": "Epic"},
                        "summary": "GDPR-17.1 Right to erasure",
                        "description": "Obligation without work.",
                        "labels": ["privacy-obligation"],
                    }
                }
            )
        ],
    )

    key = RestJiraGateway(cloud_settings()).create_epic(
        "ABC", "GDPR-17.1 Right to erasure", "Obligation without work.", ["privacy-obligation"]
    )

    assert key == "ABC-50"
    assert created.call_count == 1


def test_create_epic_on_datacenter_fills_the_epic_name_field(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Server", epic_name_field=True)
    rsps.post(
        f"{API}/issue",
        status=201,
        json={"id": "10051", "key": "ABC-51", "self": f"{API}/issue/10051"},
        match=[
            matchers.json_params_matcher(
                {
                    "fields": {
                        "project": {"key": "ABC"},
                        "issuetype": {"name": "Epic"},
                        "summary": "LGPD-18 Data subject rights",
                        "description": "",
                        "labels": [],
                        "customfield_10011": "LGPD-18 Data subject rights",
                    }
                }
            )
        ],
    )

    key = RestJiraGateway(datacenter_settings()).create_epic(
        "ABC", "LGPD-18 Data subject rights", "", []
    )

    assert key == "ABC-51"


def test_create_epic_drops_epic_name_when_the_screen_lacks_it(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Server", epic_name_field=True)
    base = {
        "project": {"key": "ABC"},
        "issuetype": {"name": "Epic"},
        "summary": "HIPAA-164.312",
        "description": "d",
        "labels": [],
    }
    refused = rsps.post(
        f"{API}/issue",
        status=400,
        json={
            "errorMessages": [],
            "errors": {
                "customfield_10011": "Field 'customfield_10011' cannot be set. It is not on "
                "the appropriate screen, or unknown."
            },
        },
        match=[
            matchers.json_params_matcher({"fields": {**base, "customfield_10011": "HIPAA-164.312"}})
        ],
    )
    accepted = rsps.post(
        f"{API}/issue",
        status=201,
        json={"id": "10052", "key": "ABC-52", "self": f"{API}/issue/10052"},
        match=[matchers.json_params_matcher({"fields": base})],
    )

    key = RestJiraGateway(datacenter_settings()).create_epic("ABC", "HIPAA-164.312", "d", [])

    assert key == "ABC-52"
    assert (refused.call_count, accepted.call_count) == (1, 1)


def test_find_issue_keys_with_label_searches_the_label(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(
        f"{API}/search/jql",
        json={"issues": [issue_json("ABC-3"), issue_json("XYZ-1")], "isLast": True},
        match=[
            matchers.query_param_matcher(
                {
                    "jql": '(labels = "privacy-obligation") ORDER BY updated ASC, key ASC',
                    "fields": FIELDS,
                    "maxResults": "100",
                }
            )
        ],
    )

    keys = RestJiraGateway(cloud_settings()).find_issue_keys_with_label("privacy-obligation")

    assert keys == ["ABC-3", "XYZ-1"]


def test_add_label_sends_one_add_verb(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    edited = rsps.put(
        f"{API}/issue/ABC-1",
        status=204,
        match=[matchers.json_params_matcher({"update": {"labels": [{"add": "gdpr-17"}]}})],
    )

    RestJiraGateway(cloud_settings()).add_label("ABC-1", "gdpr-17")

    assert edited.call_count == 1


def test_labels_with_spaces_are_refused_before_any_request(
    rsps: responses.RequestsMock,
) -> None:
    with pytest.raises(ValidationError):
        RestJiraGateway(cloud_settings()).add_label("ABC-1", "two words")
    assert len(rsps.calls) == 0


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message", "retryable"),
    [
        (401, {"errorMessages": ["Unauthorized"]}, CREDENTIALS, False),
        (
            403,
            {"errorMessages": ["You do not have permission to view this issue."]},
            "The Jira account has no permission to read the remote links on issue ABC-1. "
            "Jira said: You do not have permission to view this issue.",
            False,
        ),
        (
            404,
            {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
            "Jira issue ABC-1 does not exist, or the account cannot see it.",
            False,
        ),
        (
            500,
            {"errorMessages": ["Internal server error"]},
            "Jira failed to read the remote links on issue ABC-1 (HTTP 500); this is usually "
            "temporary, try again later. Jira said: Internal server error",
            True,
        ),
        (
            503,
            {"message": "Service unavailable"},
            "Jira failed to read the remote links on issue ABC-1 (HTTP 503)",
            True,
        ),
    ],
)
def test_http_errors_become_actionable_jira_errors(
    rsps: responses.RequestsMock,
    sleeps: list[float],
    status: int,
    body: dict[str, Any],
    message: str,
    retryable: bool,
) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/issue/ABC-1/remotelink", status=status, json=body)

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(cloud_settings()).remote_links("ABC-1")

    assert str(caught.value).startswith(message)
    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert sleeps == []  # the library retries none of these


def test_credentials_rejected_at_connect_are_reported(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/serverInfo", status=401, body="<html>Unauthorized</html>")

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(cloud_settings()).deployment()

    assert str(caught.value) == CREDENTIALS
    assert caught.value.status == 401


def test_missing_project_names_the_project(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/project/NOPE/versions", status=404, json={"errorMessages": ["No project"]})

    with pytest.raises(JiraError, match="Jira project NOPE does not exist"):
        RestJiraGateway(cloud_settings()).project_versions("NOPE")


def test_removed_search_endpoint_is_explained(rsps: responses.RequestsMock) -> None:
    # A Cloud site misreported as Server makes the library call the removed /search.
    register_server(rsps, "Server")
    removed = (
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
        "A full migration guideline is available at "
        "https://developer.atlassian.com/changelog/#CHANGE-2046"
    )
    rsps.get(f"{API}/search", status=410, json={"errorMessages": [removed], "errors": {}})

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(datacenter_settings()).search(EPIC_JQL, updated_since=None, page_token=None)

    assert str(caught.value).startswith("This Jira no longer offers /rest/api/2/search; ")
    assert "CHANGE-2046" in str(caught.value)
    assert caught.value.status == 410
    assert not caught.value.retryable


def test_refused_connection_is_unreachable_and_retryable(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    refused = requests.ConnectionError(
        "HTTPSConnectionPool(host='jira.example.test', port=443): Max retries exceeded "
        "(Caused by NewConnectionError('Failed to establish a new connection: "
        "[Errno 111] Connection refused'))"
    )
    rsps.get(f"{API}/serverInfo", body=refused)

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(cloud_settings()).deployment()

    assert str(caught.value).startswith(f"Jira at {BASE} is unreachable: connection refused.")
    assert caught.value.retryable
    assert caught.value.status is None
    assert len(sleeps) == 1  # at connect the library may retry only once


def test_read_timeout_is_unreachable_and_retryable(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/issue/ABC-1/remotelink", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(cloud_settings()).remote_links("ABC-1")

    assert str(caught.value).startswith(f"Jira at {BASE} is unreachable: no answer within 30 s")
    assert caught.value.retryable


def test_non_json_answer_points_at_the_url(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/issue/ABC-1/remotelink", body="<html>Log in</html>", status=200)

    with pytest.raises(JiraError, match="did not answer with JSON"):
        RestJiraGateway(cloud_settings()).remote_links("ABC-1")


# -- rate limits ------------------------------------------------------------------------------


def test_rate_limit_waits_as_told_then_succeeds(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    register_server(rsps, "Cloud")
    url = f"{API}/issue/ABC-1/remotelink"
    rsps.get(url, status=429, headers={"Retry-After": "7"}, json={"errorMessages": ["slow"]})
    rsps.get(url, json=[])

    assert RestJiraGateway(cloud_settings()).remote_links("ABC-1") == []
    # ResilientSession sleeps 2 x Retry-After (x jitter, pinned to 1.0 here).
    assert sleeps == [14.0]


def test_rate_limit_retries_are_bounded_then_reported_as_retryable(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    register_server(rsps, "Cloud")
    url = f"{API}/issue/ABC-1/remotelink"
    limited = rsps.get(url, status=429, headers={"Retry-After": "120"}, json={})

    gateway = RestJiraGateway(cloud_settings(), max_retries=2, max_retry_delay=20)
    with pytest.raises(JiraError) as caught:
        gateway.remote_links("ABC-1")

    assert limited.call_count == 3  # one try and two retries
    assert sleeps == [20.0, 20.0]  # capped by max_retry_delay
    assert caught.value.status == 429
    assert caught.value.retryable
    assert "try again in 120 seconds" in str(caught.value)


def test_default_retry_budget_is_bounded(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    register_server(rsps, "Cloud")
    rsps.get(f"{API}/issue/ABC-1/remotelink", status=429, json={})

    with pytest.raises(JiraError):
        RestJiraGateway(cloud_settings()).remote_links("ABC-1")

    assert len(sleeps) == jira_gateway.DEFAULT_MAX_RETRIES
    assert sum(sleeps) <= jira_gateway.DEFAULT_MAX_RETRIES * jira_gateway.DEFAULT_MAX_RETRY_DELAY


def test_http_date_retry_after_is_honoured_not_crashed_on(
    rsps: responses.RequestsMock, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    register_server(rsps, "Cloud")
    url = f"{API}/issue/ABC-1/remotelink"
    later = datetime.now(UTC) + timedelta(seconds=5)
    rsps.get(url, status=429, headers={"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    rsps.get(url, json=[])

    assert RestJiraGateway(cloud_settings()).remote_links("ABC-1") == []
    assert len(sleeps) == 1 and 2.0 <= sleeps[0] <= 12.0


# -- secrets ---------------------------------------------------------------------------------


def test_secrets_never_reach_error_messages_or_logs(
    rsps: responses.RequestsMock, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    register_server(rsps, "Cloud")
    # A proxy that echoes what it was sent, the worst case for leaking.
    echo = f"Denied for Authorization: Basic {basic} (token {TOKEN})"
    rsps.get(f"{API}/issue/ABC-1/remotelink", status=403, json={"errorMessages": [echo]})
    rsps.get(f"{API}/issue/ABC-2/remotelink", status=429, json={"errorMessages": [echo]})
    rsps.get(f"{API}/issue/ABC-3/remotelink", status=401, json={"errorMessages": [echo]})
    rsps.get(f"{API}/issue/ABC-4/remotelink", body=requests.ConnectionError(f"reset {TOKEN}"))
    rsps.get(f"{API}/issue/ABC-5/remotelink", status=500, body=echo)
    settings = cloud_settings()
    gateway = RestJiraGateway(settings)
    gateway.deployment()
    logging.getLogger("jira").setLevel(logging.DEBUG)  # the library's header and body dumps

    messages = []
    for key in ("ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-5"):
        with pytest.raises(JiraError) as caught:
            gateway.remote_links(key)
        messages.append(str(caught.value))
        assert caught.value.__cause__ is None

    texts = [*messages, caplog.text, repr(settings), str(settings), repr(gateway)]
    for secret in (TOKEN, basic, "hook-secret-1"):
        assert not any(secret in text for text in texts), secret
    assert "Basic ***" in messages[0]  # the rest of Jira's explanation is kept


def test_pat_never_reaches_error_messages_or_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    register_server(rsps, "Server")
    rsps.get(
        f"{API}/issue/ABC-1/remotelink",
        status=403,
        json={"errorMessages": [f"Bearer {PAT} is not allowed"]},
    )

    with pytest.raises(JiraError) as caught:
        RestJiraGateway(datacenter_settings()).remote_links("ABC-1")

    assert PAT not in str(caught.value)
    assert PAT not in caplog.text


# -- pure helpers ------------------------------------------------------------------------------


def test_search_jql_bounds_orders_and_drops_a_callers_order_by() -> None:
    assert search_jql("project = ABC order by created desc", "2026-11-20 10:15") == (
        '(project = ABC) AND updated >= "2026-11-20 10:15" ORDER BY updated ASC, key ASC'
    )
    assert search_jql("", "2026-11-20 10:15") == (
        'updated >= "2026-11-20 10:15" ORDER BY updated ASC, key ASC'
    )
    assert search_jql('summary ~ "order by x"', None) == (
        '(summary ~ "order by x") ORDER BY updated ASC, key ASC'
    )


def test_parse_jira_datetime_normalises_to_utc() -> None:
    assert parse_jira_datetime("2026-11-20T10:15:30.000+0000") == datetime(
        2026, 11, 20, 10, 15, 30, tzinfo=UTC
    )
    assert parse_jira_datetime("2026-08-01T09:12:44.513+0200") == datetime(
        2026, 8, 1, 7, 12, 44, 513_000, tzinfo=UTC
    )


# -- JiraSettings.from_env ---------------------------------------------------------------------


def test_settings_are_none_without_a_url() -> None:
    assert JiraSettings.from_env({}) is None
    assert JiraSettings.from_env({"TRACKER_JIRA_URL": "  "}) is None


def test_settings_read_cloud_credentials_and_defaults() -> None:
    settings = JiraSettings.from_env(
        {
            "TRACKER_JIRA_URL": "https://example.atlassian.net/",
            "TRACKER_JIRA_EMAIL": EMAIL,
            "TRACKER_JIRA_API_TOKEN": TOKEN,
        }
    )

    assert settings == JiraSettings(
        url="https://example.atlassian.net", email=EMAIL, api_token=TOKEN
    )
    assert settings is not None
    assert settings.jql == "issuetype = Epic"
    assert settings.push_after_sync is False
    assert settings.webhook_secret is None
    assert not settings.uses_pat


def test_settings_read_a_pat_jql_push_flag_and_webhook_secret() -> None:
    settings = JiraSettings.from_env(
        {
            "TRACKER_JIRA_URL": "https://jira.corp.example",
            "TRACKER_JIRA_PAT": PAT,
            "TRACKER_JIRA_JQL": "project = PRIV AND issuetype = Epic",
            "TRACKER_JIRA_PUSH": "yes",
            "TRACKER_JIRA_WEBHOOK_SECRET": "hook-secret-1",
            "TRACKER_JIRA_TIMEOUT": "12.5",
        }
    )

    assert settings is not None
    assert settings.uses_pat
    assert settings.jql == "project = PRIV AND issuetype = Epic"
    assert settings.push_after_sync is True
    assert settings.webhook_secret == "hook-secret-1"
    assert settings.timeout == 12.5


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "TRACKER_JIRA_URL"),
        ({"TRACKER_JIRA_EMAIL": EMAIL}, "TRACKER_JIRA_API_TOKEN"),
        ({"TRACKER_JIRA_API_TOKEN": TOKEN}, "TRACKER_JIRA_EMAIL"),
        (
            {"TRACKER_JIRA_EMAIL": EMAIL, "TRACKER_JIRA_API_TOKEN": TOKEN, "TRACKER_JIRA_PAT": PAT},
            "TRACKER_JIRA_PAT",
        ),
        ({"TRACKER_JIRA_PAT": PAT, "TRACKER_JIRA_PUSH": "maybe"}, "TRACKER_JIRA_PUSH"),
        ({"TRACKER_JIRA_PAT": PAT, "TRACKER_JIRA_TIMEOUT": "-1"}, "TRACKER_JIRA_TIMEOUT"),
    ],
)
def test_settings_refuse_incomplete_or_ambiguous_configuration(
    extra: dict[str, str], field: str
) -> None:
    environ = {"TRACKER_JIRA_URL": BASE, **extra}

    with pytest.raises(ValidationError) as caught:
        JiraSettings.from_env(environ)

    assert caught.value.field == field
    assert TOKEN not in str(caught.value) and PAT not in str(caught.value)


@pytest.mark.parametrize("url", ["jira.example.test", "ftp://jira.example.test", "https://"])
def test_settings_refuse_a_url_that_is_not_http(url: str) -> None:
    with pytest.raises(ValidationError, match="TRACKER_JIRA_URL"):
        JiraSettings.from_env({"TRACKER_JIRA_URL": url, "TRACKER_JIRA_PAT": PAT})


def test_settings_refuse_credentials_inside_the_url() -> None:
    with pytest.raises(ValidationError) as caught:
        JiraSettings.from_env(
            {"TRACKER_JIRA_URL": f"https://bot:{TOKEN}@jira.example.test", "TRACKER_JIRA_PAT": PAT}
        )
    assert TOKEN not in str(caught.value)


def test_settings_repr_hides_secrets() -> None:
    settings = JiraSettings(
        url=BASE, email=EMAIL, api_token=TOKEN, pat=None, webhook_secret="hook-secret-1"
    )

    shown = repr(settings)

    assert TOKEN not in shown and "hook-secret-1" not in shown
    assert "api_token='***'" in shown and "pat=None" in shown and BASE in shown


# -- the fake keeps to the protocol ---------------------------------------------------------------


def _protocol_methods() -> list[str]:
    return [
        name
        for name, member in vars(JiraGateway).items()
        if callable(member) and not name.startswith("_")
    ]


@pytest.mark.parametrize("implementation", [RestJiraGateway, FakeJiraGateway])
def test_implementations_match_the_protocol_signatures(implementation: type) -> None:
    for name in _protocol_methods():
        expected = inspect.signature(getattr(JiraGateway, name))
        actual = inspect.signature(getattr(implementation, name))
        assert list(actual.parameters) == list(expected.parameters), name
        for parameter in expected.parameters.values():
            assert actual.parameters[parameter.name].kind == parameter.kind, (name, parameter)
            assert actual.parameters[parameter.name].default == parameter.default, (name, parameter)


def _record(key: str, minute: int, labels: tuple[str, ...] = ()) -> IssueRecord:
    return IssueRecord(
        key=key,
        id=key,
        summary=key,
        issue_type="Epic",
        status="To Do",
        status_category="new",
        fix_versions=(),
        labels=labels,
        assignee=None,
        url=f"{BASE}/browse/{key}",
        updated=datetime(2026, 11, 20, 10, minute, 30, tzinfo=UTC),
        project_key=key.split("-")[0],
    )


def test_fake_pages_filters_links_and_fails_on_demand() -> None:
    fake = FakeJiraGateway(issues=[_record("ABC-2", 5), _record("ABC-1", 1, ("privacy",))])
    gateway: JiraGateway = fake

    pages = list(
        gateway.iter_search("any", updated_since=datetime(2026, 11, 20, 10, 5, 50, tzinfo=UTC))
    )
    assert [i.key for p in pages for i in p.issues] == ["ABC-2"]
    assert gateway.get_issues(["ABC-1", "ABC-9"]) == ([fake.issues["ABC-1"]], ["ABC-9"])
    spec = RemoteLinkSpec(global_id="g1", url="https://t.example/1", title="GDPR-17.1")
    gateway.upsert_remote_link("ABC-1", spec)
    gateway.upsert_remote_link("ABC-1", spec)
    assert len(gateway.remote_links("ABC-1")) == 1
    gateway.delete_remote_link("ABC-1", "g1")
    assert gateway.remote_links("ABC-1") == []
    key = gateway.create_epic("ABC", "New", "text", ["privacy"])
    assert key == "ABC-3"
    assert gateway.find_issue_keys_with_label("privacy") == ["ABC-1", "ABC-3"]

    fake.fail("add_label", JiraError("boom", status=503, retryable=True))
    with pytest.raises(JiraError, match="boom"):
        gateway.add_label("ABC-1", "x")
    gateway.add_label("ABC-1", "x")
    assert "x" in fake.issues["ABC-1"].labels
    assert [call.args for call in fake.calls_to("add_label")] == [("ABC-1", "x"), ("ABC-1", "x")]
    with pytest.raises(JiraError) as caught:
        gateway.remote_links("NOPE-1")
    assert caught.value.status == 404


# -- counting for progress ------------------------------------------------------------------


def test_cloud_count_asks_the_approximate_count_endpoint_with_the_search_jql(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    rsps.post(f"{API}/search/approximate-count", json={"count": 1234})
    since = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    assert RestJiraGateway(cloud_settings()).count_issues(EPIC_JQL, updated_since=since) == 1234
    [call] = [c for c in rsps.calls if c.request.url.endswith("/search/approximate-count")]
    sent = json.loads(call.request.body)
    assert sent["jql"].startswith("(issuetype = Epic) AND updated >= ")


def test_count_is_unknown_rather_than_an_error_when_jira_cannot_tell(
    rsps: responses.RequestsMock,
) -> None:
    register_server(rsps, "Cloud")
    rsps.post(f"{API}/search/approximate-count", status=404, json={"errorMessages": ["gone"]})
    assert RestJiraGateway(cloud_settings()).count_issues(EPIC_JQL, updated_since=None) is None


def test_datacenter_count_spends_no_request(rsps: responses.RequestsMock) -> None:
    register_server(rsps, "Server")
    gateway = RestJiraGateway(datacenter_settings())
    gateway.deployment()
    before = len(rsps.calls)
    assert gateway.count_issues(EPIC_JQL, updated_since=None) is None
    assert len(rsps.calls) == before
