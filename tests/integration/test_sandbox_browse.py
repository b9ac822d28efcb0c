"""The sandbox's /browse/<KEY> page: the issue and the obligations pushed onto it, as HTML."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask

from tests.evidence_helpers import assert_escaped
from tests.integration.jira_checks import AUTH, EMAIL, PUBLIC_URL, TOKEN
from tracker.config import DEFAULT_CATALOG_PATH
from tracker.demo import DEMO_JQL
from tracker.integrations.jira_records import JiraSettings
from tracker.sandbox import SandboxServer, SandboxState, create_sandbox_app, seed_demo

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


@pytest.fixture
def state() -> SandboxState:
    state = SandboxState()
    state.add_project("PRIV", "Privacy Platform")
    state.add_version("PRIV", "2026.12")
    state.add_issue(
        "PRIV",
        HOSTILE,
        labels=["obligation-GDPR-17.1", "team-a"],
        fix_versions=["2026.12"],
        status="indeterminate",
    )
    state.upsert_remote_link(
        "PRIV-1",
        {
            "globalId": "privacy-tracker:obligation=GDPR-17.1",
            "application": {"type": "privacy-tracker", "name": "Privacy tracker"},
            "relationship": "carries obligation",
            "object": {
                "url": "http://tracker.example.test/obligations/GDPR-17.1",
                "title": "GDPR-17.1 (Art. 17(1)): IN_PROGRESS",
                "summary": HOSTILE,
                "status": {"resolved": False},
            },
        },
    )
    state.upsert_remote_link(
        "PRIV-1",
        {"object": {"url": "javascript:alert(1)", "title": "A link that runs script"}},
    )
    return state


@pytest.fixture
def sandbox(state: SandboxState) -> Any:
    # Credentials are set, as in the demo: the page is still open to a browser.
    return create_sandbox_app(state, auth=AUTH).test_client()


def test_browse_shows_the_issue_its_labels_and_the_remote_links_pushed_onto_it(
    sandbox: Any,
) -> None:
    response = sandbox.get("/browse/PRIV-1")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert_escaped(text)
    assert "In Progress" in text and "2026.12" in text
    assert '<span class="label">obligation-GDPR-17.1</span>' in text
    assert '<a href="http://tracker.example.test/obligations/GDPR-17.1">' in text
    assert "GDPR-17.1 (Art. 17(1)): IN_PROGRESS" in text
    assert "carries obligation" in text and "Privacy tracker" in text
    assert "Links to other applications (2)" in text
    assert "A link that runs script" in text
    assert 'href="javascript:' not in text


def test_browse_is_open_to_a_browser_while_the_rest_api_asks_for_credentials(
    sandbox: Any,
) -> None:
    # The demo's links to /browse are opened by a person's browser, which has no API token.
    assert sandbox.get("/rest/api/2/issue/PRIV-1").status_code == 401
    assert sandbox.get("/browse/PRIV-1").status_code == 200


def test_browse_of_an_unknown_key_is_an_html_404(sandbox: Any) -> None:
    response = sandbox.get("/browse/PRIV-999%3Cb%3E")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Issue does not exist" in text
    assert "PRIV-999&lt;b&gt;" in text and "PRIV-999<b>" not in text


def test_browse_sends_an_old_or_lower_case_key_to_the_issue_page(
    sandbox: Any, state: SandboxState
) -> None:
    assert sandbox.get("/browse/priv-1").headers["Location"].endswith("/browse/PRIV-1")
    state.add_project("APP", "Mobile App")
    state.move_issue("PRIV-1", "APP")
    response = sandbox.get("/browse/PRIV-1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/browse/APP-1")


def test_the_demo_jira_links_show_the_obligations_the_tracker_pushed(
    app: Flask, runner: Any, client: Any
) -> None:
    state = SandboxState()
    seed_demo(state)
    with SandboxServer(state, mode="cloud", auth=AUTH) as server:
        app.config["JIRA_SETTINGS"] = JiraSettings(
            url=server.url, email=EMAIL, api_token=TOKEN, timeout=10, jql=DEMO_JQL
        )
        app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
        app.config["PUBLIC_URL"] = PUBLIC_URL
        for command in (["catalog", "load"], ["jira", "sync"], ["jira", "push"]):
            result = runner.invoke(args=command)
            assert result.exit_code == 0, result.output
        epic = next(
            issue
            for issue in state.issues()
            if issue.remote_links and any(label == "obligation-GDPR-17.1" for label in issue.labels)
        )
        tracker_page = client.get(f"/work-items/{epic.key}").get_data(as_text=True)
        jira_url = f"{server.url}/browse/{epic.key}"
        assert f'href="{jira_url}"' in tracker_page
        jira_page = requests.get(jira_url, timeout=10)
    assert jira_page.status_code == 200
    assert f'href="{PUBLIC_URL}/obligations/GDPR-17.1"' in jira_page.text
    pushed_titles = [link.object["title"] for link in epic.remote_links]
    assert any(title.startswith("GDPR-17.1 (") for title in pushed_titles)
    for title in pushed_titles:
        assert title in jira_page.text  # as pushed onto the epic ...
        assert title in tracker_page  # ... and as the tracker remembers pushing it
    assert "Last pushed to" in tracker_page
