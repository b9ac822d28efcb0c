"""Sandbox internals: seed data, JQL semantics, state changes, faults, the WSGI app and the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from tracker.sandbox import (
    Fault,
    SandboxServer,
    SandboxState,
    create_sandbox_app,
    seed_demo,
    seed_generated,
)
from tracker.sandbox.cli import jira_sandbox_command
from tracker.sandbox.jql import JqlError, compile_query, parse_jql
from tracker.sandbox.representation import jira_datetime
from tracker.sandbox.seed import OBLIGATION_IDS, RETENTION_DUTY_IDS, UNKNOWN_OBLIGATION_LABEL
from tracker.sandbox.state import IssueEvent, NotFoundError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _state(**kwargs: object) -> SandboxState:
    state = SandboxState(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    seed_demo(state)
    return state


def _keys(state: SandboxState, jql: str) -> list[str]:
    compiled = compile_query(parse_jql(jql), state)
    matched = [issue for issue in state.issues() if compiled.predicate(issue)]
    return sorted(issue.key for issue in matched)


# ----- seeds -------------------------------------------------------------------------------


def test_demo_seed_is_a_realistic_privacy_product() -> None:
    state = _state()
    epics = [issue for issue in state.issues() if issue.issuetype == "Epic"]
    obligation_labels = {
        label for issue in epics for label in issue.labels if label.startswith("obligation-")
    }
    labelled = [i for i in epics if any(x.startswith("obligation-") for x in i.labels)]

    assert [project.key for project in state.projects()] == ["PRIV", "APP", "WEB"]
    assert 38 <= len(epics) <= 42
    assert 0.4 <= len(labelled) / len(epics) <= 0.7
    assert {issue.status_category for issue in epics} == {"new", "indeterminate", "done"}
    assert UNKNOWN_OBLIGATION_LABEL in obligation_labels
    allowed = {f"obligation-{obligation}" for obligation in (*OBLIGATION_IDS, *RETENTION_DUTY_IDS)}
    assert obligation_labels - allowed == {UNKNOWN_OBLIGATION_LABEL}
    assert all(issue.updated < NOW for issue in state.issues())
    versions = {v.name: v.released for v in state.require_project("PRIV").versions}
    assert versions["2026.10"] and not versions["2026.11"] and not versions["2026.12"]


def test_demo_seed_is_deterministic() -> None:
    first, second = _state(), _state()

    def shape(state: SandboxState) -> list[tuple[str, str, list[str], datetime]]:
        return [(i.key, i.summary, i.labels, i.updated) for i in state.issues()]

    assert shape(first) == shape(second)


def test_generated_seed_is_fast_and_deterministic() -> None:
    started = time.perf_counter()
    big = SandboxState(clock=lambda: NOW)
    seed_generated(big, 10_000)
    elapsed = time.perf_counter() - started

    small_a, small_b, other = (SandboxState(clock=lambda: NOW) for _ in range(3))
    seed_generated(small_a, 300, rng_seed=7)
    seed_generated(small_b, 300, rng_seed=7)
    seed_generated(other, 300, rng_seed=8)

    def shape(state: SandboxState) -> list[tuple[str, list[str], str]]:
        return [(i.summary, i.labels, i.status_category) for i in state.issues()]

    assert big.issue_count() == 10_000
    assert elapsed < 2.0
    assert shape(small_a) == shape(small_b) != shape(other)
    assert {i.project_key for i in small_a.issues()} == {"PRIV", "APP", "WEB"}


# ----- JQL ----------------------------------------------------------------------------------


def test_not_equals_on_labels_skips_unlabelled_issues_as_jira_does() -> None:
    state = _state()
    unlabelled = {i.key for i in state.issues() if not i.labels}

    keys = _keys(state, 'labels != "obligation-GDPR-17.1"')

    assert "PRIV-1" not in keys and not unlabelled & set(keys)
    assert set(_keys(state, "labels is EMPTY")) == unlabelled
    assert _keys(state, "NOT labels is EMPTY") == _keys(state, "labels is not EMPTY")


def test_relative_dates_status_category_and_key_ranges() -> None:
    state = _state()
    recent = state.add_issue("APP", "Fresh", updated=NOW - timedelta(minutes=10)).key

    assert _keys(state, "updated >= -15m") == [recent]
    assert _keys(state, "project = WEB AND statusCategory = Done") == _keys(
        state, 'project = WEB AND status = "Done"'
    )
    assert _keys(state, "key > PRIV-22") == ["PRIV-23", "PRIV-24"]
    assert _keys(state, 'summary ~ "erasure pipeline"') == ["PRIV-1"]
    released = _keys(state, "project = APP AND fixVersion in releasedVersions(APP)")
    assert released == _keys(state, 'project = APP AND fixVersion in ("2026.09", "2026.10")')
    assert released and not set(released) & set(_keys(state, "fixVersion in unreleasedVersions()"))


def test_date_literals_are_read_in_the_users_time_zone() -> None:
    state = SandboxState(clock=lambda: NOW, time_zone="America/New_York")
    state.add_project("PRIV", "Privacy")
    issue = state.add_issue(
        "PRIV", "At 15:30 UTC", updated=datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    )

    assert _keys(state, 'updated >= "2026-11-20 10:30"') == [issue.key]  # 10:30 EST
    assert _keys(state, 'updated >= "2026-11-20 10:31"') == []
    assert jira_datetime(issue.updated, "America/New_York") == "2026-11-20T10:30:00.000-0500"


def test_syntax_errors_point_at_the_character() -> None:
    with pytest.raises(JqlError, match=r"Expecting operator but got 'PRIV'.*character 9"):
        parse_jql("project PRIV")
    with pytest.raises(JqlError, match="Unable to find JQL function 'nextVersions\\(\\)'"):
        parse_jql("fixVersion in nextVersions()")
    with pytest.raises(JqlError, match="not supported by the 'labels' field"):
        parse_jql("labels > a")


# ----- state -------------------------------------------------------------------------------


def test_changes_emit_events_with_changelog_and_no_op_edits_do_not() -> None:
    state = _state()
    events: list[IssueEvent] = []
    state.subscribe(events.append)

    state.edit_issue("PRIV-1", {"labels": state.require_issue("PRIV-1").labels})
    state.update_labels("PRIV-1", add=["synced"])
    moved = state.move_issue("PRIV-2", "APP")
    state.delete_issue(moved.key)

    assert [(e.kind, e.event_type_name) for e in events] == [
        ("updated", "issue_updated"),
        ("updated", "issue_updated"),
        ("deleted", "issue_deleted"),
    ]
    fields = {item["field"] for item in events[1].changelog}
    assert {"project", "Key", "Fix Version"} <= fields
    with pytest.raises(NotFoundError):
        state.require_issue("PRIV-2")  # deleting forgets the old key too


def test_done_sets_resolution_date_and_reopening_clears_it() -> None:
    state = _state()

    done = state.set_status("PRIV-6", "Done")
    assert done.resolution_date == NOW and done.status.name == "Done"
    assert state.set_status("PRIV-6", "To Do").resolution_date is None


def test_fault_validation() -> None:
    assert Fault.from_json({"status": 429, "retry_after": "2", "times": 1}).retry_after == 2
    for bad in ({"status": 200}, {"retry_after": 1}, {"status": 429, "colour": 1}):
        with pytest.raises(ValueError):
            Fault.from_json(bad)


# ----- the WSGI app without a socket -------------------------------------------------------


@pytest.fixture
def client() -> FlaskClient:
    return create_sandbox_app(_state(), mode="cloud").test_client()


def test_post_search_accepts_the_clients_literal_nulls(client: FlaskClient) -> None:
    body = {
        "jql": "project = APP ORDER BY key ASC",
        "fields": ["summary"],
        "expand": None,
        "properties": None,
        "reconcileIssues": [],
        "maxResults": 100,
    }

    response = client.post("/rest/api/2/search/jql", json=body)

    assert response.status_code == 200
    assert [issue["key"] for issue in response.json["issues"]][:2] == ["APP-1", "APP-2"]


def test_stale_or_foreign_page_tokens_are_rejected(client: FlaskClient) -> None:
    page = client.get("/rest/api/2/search/jql?jql=project%20%3D%20PRIV&maxResults=5").json
    token = page["nextPageToken"]

    foreign = client.get(f"/rest/api/2/search/jql?jql=project%20%3D%20APP&nextPageToken={token}")
    garbage = client.get("/rest/api/2/search/jql?jql=project%20%3D%20APP&nextPageToken=zzz")

    assert foreign.status_code == 400 and garbage.status_code == 400
    assert foreign.json["errorMessages"]


def test_unknown_rest_path_answers_jersey_404(client: FlaskClient) -> None:
    response = client.get("/rest/api/2/nothing-here")

    assert response.status_code == 404
    assert response.json["message"].startswith("null for uri")


def test_admin_reset_reseeds(client: FlaskClient) -> None:
    assert client.post("/_sandbox/reset", json={"seed": 30}).json == {"issues": 30}
    assert client.post("/_sandbox/reset", json={"seed": None}).json == {"issues": 0}


# ----- server and CLI ------------------------------------------------------------------


def test_server_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(host="0.0.0.0")  # noqa: S104 - the point of the test


def test_cli_rejects_bad_options_before_serving() -> None:
    runner = CliRunner()

    assert runner.invoke(jira_sandbox_command, ["--help"]).exit_code == 0
    bad_seed = runner.invoke(jira_sandbox_command, ["--seed", "lots"])
    bad_host = runner.invoke(jira_sandbox_command, ["--host", "0.0.0.0", "--port", "0"])  # noqa: S104
    half_auth = runner.invoke(jira_sandbox_command, ["--email", "a@example.test", "--port", "0"])

    assert bad_seed.exit_code != 0 and "--seed" in bad_seed.output
    assert bad_host.exit_code != 0 and "loopback" in bad_host.output
    assert half_auth.exit_code != 0 and "token" in half_auth.output
