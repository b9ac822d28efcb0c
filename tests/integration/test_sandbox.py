"""The real pycontribs `jira` client against the Jira sandbox over loopback HTTP, in both modes."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from tracker.sandbox import (
    Fault,
    SandboxAuth,
    SandboxServer,
    SandboxState,
    WebhookConfig,
    seed_demo,
    seed_generated,
)

EMAIL = "sync-bot@example.test"
TOKEN = "sandbox-token-3f9a"
PAT = "sandbox-pat-77c1"
T0 = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
SEARCH_FIELDS = ["summary", "labels", "status", "updated", "fixVersions", "issuetype"]


@dataclass
class FrozenClock:
    """A settable clock so `updated` values and JQL date literals are exact."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Sandbox:
    """A running sandbox and a real client logged in to it."""

    server: SandboxServer
    jira: JIRA
    clock: FrozenClock

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the sandbox without the client (to see status codes and headers)."""
        auth = kwargs.pop("auth", (EMAIL, TOKEN) if self.server.mode == "cloud" else None)
        headers = kwargs.pop("headers", {})
        if self.server.mode != "cloud":
            headers.setdefault("Authorization", f"Bearer {PAT}")
        return requests.request(
            method, self.server.url + path, auth=auth, headers=headers, timeout=10, **kwargs
        )


def _demo_state(clock: FrozenClock) -> SandboxState:
    state = SandboxState(clock=clock)
    seed_demo(state)
    return state


@contextmanager
def _running(state: SandboxState, mode: str, clock: FrozenClock, **opts: Any) -> Iterator[Sandbox]:
    auth = SandboxAuth(email=EMAIL, token=TOKEN, pat=PAT)
    with SandboxServer(state, mode=mode, auth=auth, **opts) as server:
        if mode == "cloud":
            client = JIRA(server=server.url, basic_auth=(EMAIL, TOKEN), max_retries=3)
        else:
            client = JIRA(server=server.url, token_auth=PAT, max_retries=3)
        try:
            yield Sandbox(server, client, clock)
        finally:
            client.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def cloud(clock: FrozenClock) -> Iterator[Sandbox]:
    with _running(_demo_state(clock), "cloud", clock) as running:
        yield running


@pytest.fixture
def datacenter(clock: FrozenClock) -> Iterator[Sandbox]:
    with _running(_demo_state(clock), "datacenter", clock) as running:
        yield running


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[Sandbox]:
    with _running(_demo_state(clock), request.param, clock) as running:
        yield running


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's retry sleeps instead of sleeping.

    The patched `sleep` is the `time` module's own, so other threads (a sandbox still
    delivering an earlier test's webhooks) sleep through it too: only the test's thread, where
    the client runs, is recorded; the others sleep as usual.
    """
    slept: list[float] = []
    real_sleep = time.sleep
    test_thread = threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == test_thread:
            slept.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("jira.resilientsession.time.sleep", sleep)
    return slept


def _bulk(mode: str, clock: FrozenClock, count: int = 250) -> AbstractContextManager[Sandbox]:
    state = SandboxState(clock=clock)
    seed_generated(state, count)
    return _running(state, mode, clock)


# ----- deployment detection ------------------------------------------------------------


def test_cloud_server_info_makes_the_client_detect_cloud(cloud: Sandbox) -> None:
    info = cloud.jira.server_info()

    assert cloud.jira._is_cloud
    assert info["deploymentType"] == "Cloud"
    assert info["versionNumbers"] == [1001, 0, 0]
    assert cloud.jira.myself()["accountId"]


def test_datacenter_server_info_reports_server(datacenter: Sandbox) -> None:
    assert not datacenter.jira._is_cloud
    assert datacenter.jira.server_info()["deploymentType"] == "Server"
    assert datacenter.jira.myself()["name"] == "sandbox.bot"


# ----- Cloud enhanced search -----------------------------------------------------------


def test_enhanced_search_fetches_all_pages_with_next_page_token(clock: FrozenClock) -> None:
    with _bulk("cloud", clock) as running:
        running.state.reset_stats()

        issues = running.jira.enhanced_search_issues(
            "project in (PRIV, APP, WEB) ORDER BY updated ASC, key ASC",
            fields=SEARCH_FIELDS,
            maxResults=False,
        )

        assert len(issues) == 250
        assert len({issue.key for issue in issues}) == 250
        updated = [issue.fields.updated for issue in issues]
        assert updated == sorted(updated)
        assert running.state.stats()["search"] == 3  # 100 + 100 + 50


def test_enhanced_search_single_page_can_be_resumed_from_its_token(clock: FrozenClock) -> None:
    with _bulk("cloud", clock) as running:
        jql = "project = PRIV ORDER BY key ASC"

        first = running.jira.enhanced_search_issues(jql, fields=["summary"], maxResults=40)
        second = running.jira.enhanced_search_issues(
            jql, fields=["summary"], maxResults=40, nextPageToken=first.nextPageToken
        )

        assert [issue.key for issue in first] == [f"PRIV-{n}" for n in range(1, 41)]
        assert [issue.key for issue in second] == [f"PRIV-{n}" for n in range(41, 81)]


def test_enhanced_search_raw_page_shape(cloud: Sandbox) -> None:
    body = cloud.raw(
        "GET", "/rest/api/2/search/jql", params={"jql": "project = WEB", "maxResults": 5}
    ).json()

    assert set(body) == {"issues", "nextPageToken", "isLast"}
    assert body["isLast"] is False
    assert all(set(issue) == {"id"} for issue in body["issues"])  # default fields: id only

    last = cloud.raw(
        "GET",
        "/rest/api/2/search/jql",
        params={"jql": "project = WEB", "maxResults": 100, "fields": "summary,labels"},
    ).json()
    assert last["isLast"] is True and "nextPageToken" not in last
    assert set(last["issues"][0]["fields"]) == {"summary", "labels"}


def test_cloud_old_search_endpoint_answers_410(cloud: Sandbox) -> None:
    response = cloud.raw("GET", "/rest/api/2/search", params={"jql": "project = PRIV"})

    assert response.status_code == 410
    assert "CHANGE-2046" in response.json()["errorMessages"][0]
    with pytest.raises(JIRAError, match="deprecated"):
        cloud.jira.search_issues("project = PRIV", startAt=10)


def test_unbounded_query_is_rejected_in_cloud(cloud: Sandbox) -> None:
    with pytest.raises(JIRAError) as caught:
        cloud.jira.enhanced_search_issues("ORDER BY key DESC", fields=["summary"])

    assert caught.value.status_code == 400
    assert "Unbounded JQL queries are not allowed here" in caught.value.text


def test_v3_paths_answer_too(cloud: Sandbox) -> None:
    response = cloud.raw(
        "POST", "/rest/api/3/search/jql", json={"jql": "key = PRIV-1", "fields": ["summary"]}
    )

    assert response.status_code == 200
    assert response.json()["issues"][0]["self"].endswith("/rest/api/3/issue/10001")


# ----- Data Center offset search --------------------------------------------------------


def test_datacenter_search_walks_start_at_pages_with_total(clock: FrozenClock) -> None:
    with _bulk("datacenter", clock) as running:
        running.state.reset_stats()

        issues = running.jira.search_issues(
            "project in (PRIV, APP, WEB) ORDER BY key ASC", fields=SEARCH_FIELDS, maxResults=False
        )
        tail = running.jira.search_issues(
            "project in (PRIV, APP, WEB) ORDER BY key ASC", startAt=200, maxResults=100
        )

        assert len(issues) == 250 and issues.total == 250
        assert running.state.stats()["search"] == 4  # 3 pages + the explicit one
        assert len(tail) == 50 and tail.total == 250 and tail.startAt == 200


def test_datacenter_has_no_enhanced_search(datacenter: Sandbox) -> None:
    response = datacenter.raw("GET", "/rest/api/2/search/jql", params={"jql": "project = PRIV"})

    assert response.status_code == 404
    assert response.json()["message"].startswith("null for uri")


def test_datacenter_deep_offset_hits_the_search_limit(datacenter: Sandbox) -> None:
    with pytest.raises(JIRAError) as caught:
        datacenter.jira.search_issues("project = PRIV", startAt=9950, maxResults=100)

    assert caught.value.status_code == 500
    assert caught.value.text.startswith("Search limit exceeded.")


def test_datacenter_lenient_validation_warns_instead_of_failing(datacenter: Sandbox) -> None:
    body = datacenter.raw(
        "GET", "/rest/api/2/search", params={"jql": "project = NOPE", "validateQuery": "warn"}
    ).json()

    assert body["total"] == 0
    assert body["warningMessages"] == ["The value 'NOPE' does not exist for the field 'project'."]


# ----- JQL -------------------------------------------------------------------------------


def _search_keys(running: Sandbox, jql: str) -> list[str]:
    if running.server.mode == "cloud":
        found = running.jira.enhanced_search_issues(jql, fields=["updated"], maxResults=False)
    else:
        found = running.jira.search_issues(jql, fields=["updated"], maxResults=False)
    return [issue.key for issue in found]


def test_jql_filters_by_project_and_updated_minute(sandbox: Sandbox) -> None:
    state, clock = sandbox.state, sandbox.clock
    clock.now = T0  # 10:15:00.000
    at_minute = state.add_issue("PRIV", "Exactly at the minute").key
    clock.advance(seconds=30)
    state.add_issue("APP", "Other project, same window")
    later = state.add_issue("PRIV", "Thirty seconds later").key

    since = 'project = PRIV AND updated >= "2026-11-20 10:15" ORDER BY updated ASC, key ASC'
    after = 'project = PRIV AND updated > "2026/11/20 10:15" ORDER BY updated ASC'

    assert _search_keys(sandbox, since) == [at_minute, later]
    assert _search_keys(sandbox, after) == [later]
    assert _search_keys(sandbox, 'project = PRIV AND updated >= "2026-11-20 10:16"') == []


def test_jql_labels_keys_parentheses_and_order(sandbox: Sandbox) -> None:
    labelled = _search_keys(
        sandbox,
        'issuetype = Epic AND (labels = "obligation-GDPR-17.1" OR labels in '
        '("obligation-CCPAREGS-7025.c.1", obligation-HIPAA-164.312.b)) ORDER BY key DESC',
    )
    by_key = _search_keys(sandbox, "key in (PRIV-2, APP-1, WEB-1) ORDER BY key ASC")

    assert labelled == ["WEB-1", "PRIV-15", "PRIV-1"]
    assert by_key == ["APP-1", "PRIV-2", "WEB-1"]


def test_invalid_jql_answers_400_with_jira_messages(sandbox: Sandbox) -> None:
    cases = {
        "project = PRIV AND": "Expecting a field name at the end of the query",
        "project = PRIV ORDER BY nonsense": "Field 'nonsense' does not exist",
        "colour = red": "Field 'colour' does not exist or you do not have permission",
        "project in (PRIV": "Expecting ')' before the end of the query",
        'updated >= "20/11/2026"': "Date value '20/11/2026' for field 'updated' is invalid",
        "key = PRIV-9999": "An issue with key 'PRIV-9999' does not exist for field 'key'.",
    }
    for jql, message in cases.items():
        with pytest.raises(JIRAError) as caught:
            _search_keys(sandbox, jql)
        assert caught.value.status_code == 400, jql
        assert message in caught.value.text, jql


# ----- issues ------------------------------------------------------------------------------


def test_fields_parameter_is_honoured(sandbox: Sandbox) -> None:
    issue = sandbox.jira.issue("PRIV-1", fields="summary,labels")
    everything = sandbox.jira.issue("PRIV-1")

    assert set(issue.raw["fields"]) == {"summary", "labels"}
    assert issue.raw["self"].startswith(sandbox.server.url)
    assert everything.fields.status.statusCategory.key == "done"
    assert everything.fields.fixVersions[0].name == "2026.10"
    assert everything.fields.updated.endswith("+0000")


def test_missing_issue_raises_404(sandbox: Sandbox) -> None:
    with pytest.raises(JIRAError) as caught:
        sandbox.jira.issue("PRIV-9999")

    assert caught.value.status_code == 404
    assert caught.value.text == "Issue does not exist or you do not have permission to see it."


def test_labels_change_through_update_verbs_and_bump_updated(sandbox: Sandbox) -> None:
    issue = sandbox.jira.issue("PRIV-2")
    before = issue.fields.updated
    sandbox.clock.advance(minutes=5)

    issue.update(update={"labels": [{"add": "synced"}, {"remove": "obligation-GDPR-17.2"}]})
    assert issue.fields.labels == ["synced"]
    assert issue.fields.updated > before

    issue.update(labels=[{"add": "obligation-GDPR-17.2"}])
    issue.update(fields={"labels": sorted([*issue.fields.labels, "privacy"])})
    assert issue.fields.labels == ["obligation-GDPR-17.2", "privacy", "synced"]

    stamp = issue.fields.updated
    sandbox.clock.advance(minutes=5)
    issue.update(update={"labels": [{"add": "privacy"}]})  # already there: no change
    assert issue.fields.updated == stamp


def test_remote_link_upsert_by_global_id_keeps_one_link(sandbox: Sandbox) -> None:
    jira = sandbox.jira
    link = {"url": "https://tracker.example.test/o/GDPR-17.1", "title": "GDPR-17.1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the applinks lookup must stay quiet
        first = jira.add_remote_link(
            "PRIV-1",
            link,
            globalId="tracker:GDPR-17.1",
            application={"type": "privacy.tracker", "name": "Privacy tracker"},
            relationship="implements",
        )
        second = jira.add_remote_link(
            "PRIV-1", {**link, "status": {"resolved": True}}, globalId="tracker:GDPR-17.1"
        )

    (stored,) = jira.remote_links("PRIV-1")
    assert first.id == second.id == stored.id
    assert stored.object.status.resolved is True
    assert stored.raw["application"] == {}  # omitted on update, so cleared as in Jira
    again = sandbox.raw(
        "POST", "/rest/api/2/issue/PRIV-1/remotelink", json={"globalId": "new", "object": link}
    )
    same = sandbox.raw(
        "POST", "/rest/api/2/issue/PRIV-1/remotelink", json={"globalId": "new", "object": link}
    )
    assert (again.status_code, same.status_code) == (201, 200)

    jira.delete_remote_link("PRIV-1", global_id="tracker:GDPR-17.1")
    jira.delete_remote_link("PRIV-1", internal_id=str(again.json()["id"]))
    assert jira.remote_links("PRIV-1") == []


def test_project_versions_and_project(sandbox: Sandbox) -> None:
    versions = sandbox.jira.project_versions("PRIV")

    assert [(v.name, v.released, v.archived) for v in versions] == [
        ("2026.09", True, True),
        ("2026.10", True, False),
        ("2026.11", False, False),
        ("2026.12", False, False),
        ("2027.03", False, False),
    ]
    assert versions[1].releaseDate == "2026-10-29"
    assert sandbox.jira.project("WEB").name == "Web Storefront"


def test_create_epic_with_labels(sandbox: Sandbox) -> None:
    by_dict = sandbox.jira.create_issue(
        fields={
            "project": {"key": "APP"},
            "issuetype": {"name": "Epic"},
            "summary": "Consent SDK for tablets",
            "labels": ["obligation-GDPR-7.1"],
            "fixVersions": [{"name": "2026.12"}],
        }
    )
    by_name = sandbox.jira.create_issue(project="WEB", issuetype="Epic", summary="Cookie audit")

    assert by_dict.key == "APP-12" and by_dict.fields.issuetype.name == "Epic"
    assert by_dict.fields.labels == ["obligation-GDPR-7.1"]
    assert by_dict.fields.status.statusCategory.key == "new"
    assert by_name.key.startswith("WEB-")
    with pytest.raises(JIRAError) as caught:
        sandbox.jira.create_issue(project={"key": "APP"}, issuetype={"name": "Epic"}, summary="")
    assert caught.value.status_code == 400
    assert "You must specify a summary of the issue." in caught.value.text


def test_comments_and_transitions(sandbox: Sandbox) -> None:
    sandbox.jira.add_comment("WEB-2", "Linked to GDPR-17.1 by the tracker")
    sandbox.jira.transition_issue("WEB-2", "In Progress")

    assert [c.body for c in sandbox.jira.comments("WEB-2")] == [
        "Linked to GDPR-17.1 by the tracker"
    ]
    assert sandbox.jira.issue("WEB-2").fields.status.name == "In Progress"


def test_moved_issue_answers_under_its_new_key(sandbox: Sandbox) -> None:
    moved = sandbox.state.move_issue("PRIV-21", "WEB")

    assert sandbox.jira.issue("PRIV-21").key == moved.key
    assert _search_keys(sandbox, "key = PRIV-21") == [moved.key]

    sandbox.state.resolve_moved_keys = False
    with pytest.raises(JIRAError) as caught:
        sandbox.jira.issue("PRIV-21")
    assert caught.value.status_code == 404


# ----- auth and faults ---------------------------------------------------------------


def test_wrong_credentials_answer_401(sandbox: Sandbox) -> None:
    if sandbox.server.mode == "cloud":
        response = sandbox.raw("GET", "/rest/api/2/myself", auth=(EMAIL, "wrong"))
    else:
        response = sandbox.raw("GET", "/rest/api/2/myself", headers={"Authorization": "Bearer x"})

    assert response.status_code == 401
    assert response.json()["errorMessages"] == [
        "You are not authenticated. Authentication required to perform this operation."
    ]
    anonymous = requests.get(sandbox.server.url + "/rest/api/2/serverInfo", timeout=10)
    assert anonymous.status_code == 200  # as in Jira, serverInfo needs no login


def test_forbidden_project_writes_answer_403(sandbox: Sandbox) -> None:
    sandbox.state.forbid_project("WEB")

    with pytest.raises(JIRAError) as caught:
        sandbox.jira.add_remote_link("WEB-1", {"url": "https://x.test", "title": "x"}, "g")
    assert caught.value.status_code == 403
    with pytest.raises(JIRAError) as caught:
        sandbox.jira.issue("WEB-1").update(labels=[{"add": "x"}])
    assert caught.value.status_code == 403
    assert sandbox.jira.issue("WEB-1").key == "WEB-1"  # reads stay allowed


def test_rate_limit_is_retried_then_succeeds(sandbox: Sandbox, no_sleep: list[float]) -> None:
    sandbox.state.faults.add(Fault(status=429, retry_after=1, times=2, path_contains="search"))
    sandbox.state.reset_stats()

    assert _search_keys(sandbox, "project = APP")

    stats = sandbox.state.stats()
    assert stats["search"] == 3 and stats["faults_injected"] == 2
    assert len(no_sleep) == 2 and all(1 <= seconds <= 2 for seconds in no_sleep)


def test_rate_limit_response_carries_jira_headers(cloud: Sandbox) -> None:
    admin = cloud.server.url + "/_sandbox/faults"
    fault = {"status": 429, "retry_after": 3, "times": 1, "path_contains": "/myself"}
    assert requests.post(admin, json=fault, timeout=10).status_code == 201

    response = cloud.raw("GET", "/rest/api/2/myself")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["Content-Type"] == "application/json"
    assert cloud.raw("GET", "/rest/api/2/myself").status_code == 200  # times=1 used up


def test_503_without_retry_after_is_not_retried(sandbox: Sandbox, no_sleep: list[float]) -> None:
    sandbox.state.faults.add(Fault(status=503, times=1, path_contains="/issue/"))
    sandbox.state.reset_stats()

    with pytest.raises(JIRAError) as caught:
        sandbox.jira.issue("PRIV-1")

    assert caught.value.status_code == 503
    assert sandbox.state.stats()["issue_get"] == 1 and no_sleep == []


# ----- admin endpoints ----------------------------------------------------------------


def test_admin_endpoints_simulate_jira_activity(cloud: Sandbox) -> None:
    admin = cloud.server.url + "/_sandbox"
    cloud.clock.advance(hours=1)

    done = requests.post(f"{admin}/issues/PRIV-6/status", json={"category": "done"}, timeout=10)
    labels = requests.post(f"{admin}/issues/PRIV-6/labels", json={"add": ["x"]}, timeout=10)
    deleted = requests.delete(f"{admin}/issues/PRIV-7", timeout=10)

    assert done.json()["status"] == "Done"
    assert labels.json()["labels"] == ["obligation-GDPR-16", "x"]
    assert deleted.status_code == 204
    assert cloud.jira.issue("PRIV-6").fields.status.statusCategory.key == "done"
    with pytest.raises(JIRAError):
        cloud.jira.issue("PRIV-7")
    stats = requests.get(f"{admin}/stats", timeout=10).json()
    assert stats["issue_get"] == 2 and stats["total"] >= 3
    assert requests.post(f"{admin}/reset-stats", timeout=10).status_code == 204
    assert requests.get(f"{admin}/stats", timeout=10).json()["total"] == 0


# ----- webhooks -------------------------------------------------------------------------


@dataclass
class Receiver:
    """A loopback HTTP endpoint that records webhook deliveries."""

    url: str
    deliveries: queue.Queue[tuple[dict[str, str], bytes]]
    answers: list[int] = field(default_factory=list)

    def next(self) -> tuple[dict[str, str], bytes]:
        return self.deliveries.get(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            deliveries.put((dict(self.headers.items()), body))
            self.send_response(answers.pop(0) if answers else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_port}/hooks/jira", deliveries, answers)
    finally:
        server.shutdown()
        server.server_close()


def _verify(headers: dict[str, str], body: bytes, secret: str) -> dict[str, Any]:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature"], expected)
    payload: dict[str, Any] = json.loads(body)
    return payload


def test_webhooks_are_signed_and_jira_shaped(clock: FrozenClock, receiver: Receiver) -> None:
    secret = "whsec-test-91"
    config = WebhookConfig(receiver.url, secret=secret, retry_delay_seconds=0.01)
    with _running(_demo_state(clock), "cloud", clock, webhook=config) as running:
        running.jira.issue("PRIV-1").update(update={"labels": [{"add": "synced"}]})
        headers, body = receiver.next()
        payload = _verify(headers, body, secret)

        assert payload["webhookEvent"] == "jira:issue_updated"
        assert payload["issue"]["key"] == "PRIV-1"
        assert "synced" in payload["issue"]["fields"]["labels"]
        (item,) = payload["changelog"]["items"]
        assert item["field"] == "labels" and item["toString"].endswith("synced")
        assert headers["X-Atlassian-Webhook-Identifier"]
        assert isinstance(payload["timestamp"], int)

        created = running.jira.create_issue(
            project={"key": "WEB"}, issuetype={"name": "Epic"}, summary="Hooked"
        )
        assert _verify(*receiver.next(), secret)["webhookEvent"] == "jira:issue_created"
        running.state.delete_issue(created.key)
        deleted = _verify(*receiver.next(), secret)
        assert deleted["webhookEvent"] == "jira:issue_deleted"
        assert deleted["issue"]["key"] == created.key


def test_failed_webhook_is_retried_with_the_same_identifier(
    clock: FrozenClock, receiver: Receiver
) -> None:
    receiver.answers.append(503)
    config = WebhookConfig(receiver.url, secret="s", retry_delay_seconds=0.01)
    with _running(_demo_state(clock), "datacenter", clock, webhook=config) as running:
        running.state.set_status("APP-2", "done")

        first_headers, first_body = receiver.next()
        retry_headers, retry_body = receiver.next()

        assert first_body == retry_body
        assert (
            first_headers["X-Atlassian-Webhook-Identifier"]
            == retry_headers["X-Atlassian-Webhook-Identifier"]
        )
        assert "X-Atlassian-Webhook-Retry" not in first_headers
        assert retry_headers["X-Atlassian-Webhook-Retry"] == "1"
        payload = json.loads(retry_body)
        assert payload["issue_event_type_name"] == "issue_generic"
        assert payload["user"]["name"] == "sandbox.bot"  # Data Center user shape
        status = next(i for i in payload["changelog"]["items"] if i["field"] == "status")
        assert (status["fromString"], status["toString"]) == ("In Progress", "Done")


def test_webhook_urls_must_be_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        WebhookConfig("https://hooks.example.com/jira")
