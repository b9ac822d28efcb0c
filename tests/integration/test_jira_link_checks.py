"""Checking Jira keys and removing label links, through the real jira client and the sandbox.

Over loopback HTTP, in both the Cloud and the Data Center modes: the key lookup is one
request, an unknown key is refused with Jira's own words, and "Remove label in Jira" removes
the label so the next sync leaves the link removed.
"""

from __future__ import annotations

import html
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import signed_in_client
from tests.helpers import csrf_token
from tests.integration.jira_checks import AUTH, EMAIL, PAT, TOKEN
from tracker.errors import JiraError
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import WorkItem, WorkItemLink
from tracker.sandbox import SandboxServer, SandboxState

NOT_FOUND = "NOPE-999: Issue does not exist or you do not have permission to see it."


def settings_for(url: str, mode: str) -> JiraSettings:
    if mode == "cloud":
        return JiraSettings(url=url, email=EMAIL, api_token=TOKEN, jql="project = PRIV", timeout=10)
    return JiraSettings(url=url, pat=PAT, jql="project = PRIV", timeout=10)


def seeded() -> SandboxState:
    state = SandboxState()
    state.add_project("PRIV", "Privacy")
    state.add_issue(
        "PRIV",
        "Erase every store",
        status="indeterminate",
        labels=["obligation-ALPHA-1.1", "privacy-obligation"],
        notify=False,
    )
    state.add_issue("PRIV", "Export a person's data", notify=False)
    return state


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    with SandboxServer(seeded(), mode=request.param, auth=AUTH) as server:
        yield server


@pytest.fixture
def gateway(sandbox: SandboxServer) -> Iterator[RestJiraGateway]:
    gateway = RestJiraGateway(settings_for(sandbox.url, sandbox.mode))
    try:
        gateway.deployment()  # connect first, so the tests count only their own requests
        yield gateway
    finally:
        gateway.close()


@pytest.fixture
def jira_app(app: Flask, sandbox: SandboxServer, runner: Any) -> Flask:
    app.config["JIRA_SETTINGS"] = settings_for(sandbox.url, sandbox.mode)
    result = runner.invoke(args=["catalog", "load"])
    assert result.exit_code == 0, result.output
    return app


def tracker(runner: Any, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    if not hasattr(client, "form_token"):
        client.form_token = csrf_token(client, "/obligations/ALPHA-1.1")  # type: ignore[attr-defined]
    return client.post(url, data={"csrf_token": client.form_token, **(data or {})})  # type: ignore[attr-defined]


def followed(client: FlaskClient, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)
    return html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))


def active(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        links = session.exec(
            select(WorkItemLink).where(
                WorkItemLink.obligation_id == "ALPHA-1.1", col(WorkItemLink.removed_at).is_(None)
            )
        ).all()
        return sorted((link.work_item_key, link.origin) for link in links)


# --- the gateway ------------------------------------------------------------------------------


def test_read_issue_is_one_request_with_the_summary_status_and_type(
    sandbox: SandboxServer, gateway: RestJiraGateway
) -> None:
    sandbox.state.reset_stats()
    found = gateway.read_issue("PRIV-1")
    assert (found.key, found.summary, found.issue_type) == ("PRIV-1", "Erase every store", "Epic")
    assert found.status_category == "indeterminate" and found.status
    assert found.url == f"{sandbox.url}/browse/PRIV-1"
    assert sandbox.state.stats()["issue_get"] == 1


def test_read_issue_of_an_unknown_key_raises_404_with_jiras_words(
    gateway: RestJiraGateway,
) -> None:
    with pytest.raises(JiraError) as raised:
        gateway.read_issue("NOPE-999")
    assert raised.value.status == 404
    assert str(raised.value) == NOT_FOUND


def test_remove_label_keeps_the_other_labels_and_absent_already_is_fine(
    sandbox: SandboxServer, gateway: RestJiraGateway
) -> None:
    gateway.remove_label("PRIV-1", "obligation-ALPHA-1.1")
    assert sandbox.state.require_issue("PRIV-1").labels == ["privacy-obligation"]
    gateway.remove_label("PRIV-1", "obligation-ALPHA-1.1")
    assert sandbox.state.require_issue("PRIV-1").labels == ["privacy-obligation"]


# --- the obligation page against the sandbox --------------------------------------------------


def test_linking_checks_the_key_in_jira_and_refuses_an_unknown_one(
    jira_app: Flask, engine: Engine
) -> None:
    client = signed_in_client(jira_app, "engineer")
    refused = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "NOPE-999"})
    assert refused.status_code == 400
    assert NOT_FOUND in html.unescape(refused.get_data(as_text=True))
    assert active(engine) == []

    page = followed(
        client, post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "priv-2"})
    )
    assert "Linked PRIV-2 to ALPHA-1.1: Export a person's data (To Do)." in page
    assert "<td>Export a person's data</td>" in page
    assert active(engine) == [("PRIV-2", "manual")]
    with Session(engine) as session:
        item = session.get(WorkItem, "PRIV-2")
        assert item is not None and item.status_category == "new"


def test_an_unreachable_jira_refuses_the_link_with_a_clear_message(
    app: Flask, engine: Engine, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jira.resilientsession.time.sleep", lambda seconds: None)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["JIRA_SETTINGS"] = settings_for(f"http://127.0.0.1:{port}", "cloud")
    tracker(runner, "catalog", "load")
    client = signed_in_client(app, "engineer")
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-2"})
    assert response.status_code == 502
    text = html.unescape(response.get_data(as_text=True))
    assert "Could not check PRIV-2 in Jira, so nothing was linked:" in text
    assert f"Jira at http://127.0.0.1:{port} is unreachable: connection refused." in text
    assert active(engine) == []


def test_a_label_link_is_removed_with_its_label_and_the_next_sync_leaves_it_removed(
    jira_app: Flask, sandbox: SandboxServer, engine: Engine, runner: Any
) -> None:
    tracker(runner, "jira", "sync")
    assert active(engine) == [("PRIV-1", "jira")]
    client = signed_in_client(jira_app, "engineer")

    refused = followed(
        client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-1/remove")
    )
    assert "comes from the label obligation-ALPHA-1.1 on PRIV-1 in Jira" in refused
    assert active(engine) == [("PRIV-1", "jira")]

    page = followed(
        client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-1/remove-label")
    )
    assert "Removed the label obligation-ALPHA-1.1 from PRIV-1 in Jira" in page
    assert sandbox.state.require_issue("PRIV-1").labels == ["privacy-obligation"]
    assert active(engine) == []

    tracker(runner, "jira", "sync")
    assert active(engine) == []
