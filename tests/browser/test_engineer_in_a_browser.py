"""In a real browser, an engineer links a Jira work item and a test to an obligation, removes
them, and turns a gap into a Jira epic (on the Jira sandbox, over loopback HTTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.browsing import LiveServer, PageWatch, sign_in
from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tracker.domain.access import Role
from tracker.integrations.jira_records import JiraSettings
from tracker.sandbox import SandboxAuth, SandboxServer, SandboxState

ENGINEER = "eve@example.com"
JIRA_EMAIL = "tracker-bot@example.test"
JIRA_TOKEN = "sandbox-token-browser-3c1f"
#: Reported by CI, linked to no obligation yet.
RECIPIENTS_TEST = "pytest/tests.test_privacy/test_recipients_get_a_deletion_event"


@pytest.fixture(scope="module")
def jira() -> Iterator[SandboxServer]:
    state = SandboxState()
    state.add_project("PRIV", "Privacy")
    state.add_issue("PRIV", "Erasure across every store", issuetype="Epic", notify=False)
    with SandboxServer(state, auth=SandboxAuth(email=JIRA_EMAIL, token=JIRA_TOKEN)) as server:
        yield server


@pytest.fixture(scope="module")
def server_config(jira: SandboxServer) -> dict[str, Any]:
    settings = JiraSettings(
        url=jira.url,
        email=JIRA_EMAIL,
        api_token=JIRA_TOKEN,
        jql="project = PRIV AND issuetype = Epic",
        timeout=10,
    )
    return {"JIRA_SETTINGS": settings}


@pytest.fixture(scope="module", autouse=True)
def product(live_server: LiveServer) -> None:
    with Session(live_server.engine, expire_on_commit=False) as session:
        load_small_catalog(session)
        ingest(
            session,
            report(case("test_recipients_get_a_deletion_event")),
            branch="main",
            commit="4f2c9e1a7b3d",
        )
    live_server.user(Role.ENGINEER, ENGINEER)


def test_an_engineer_links_a_work_item_and_a_test_then_removes_both(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    sign_in(page, live_server.url, ENGINEER, path="/obligations/ALPHA-1.2")
    expect(
        page.get_by_role("heading", name="ALPHA-1.2: Tell recipients about erasure")
    ).to_be_visible()
    links = page.get_by_role("region", name="Links")
    expect(links).to_contain_text("No Jira work item is linked.")

    # A mistyped key is refused on the page, with what to type instead; nothing is linked.
    watch.expect(400, "/obligations/ALPHA-1.2/links/work-items")
    links.get_by_label("Add a Jira key").fill("PRIV 1")
    links.get_by_role("button", name="Link work item").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(links).to_contain_text("is not a Jira key: use the form PROJECT-123")
    expect(links).to_contain_text("No Jira work item is linked.")

    links.get_by_label("Add a Jira key").fill("priv-1")
    links.get_by_role("button", name="Link work item").click()
    expect(page.get_by_role("status")).to_contain_text("PRIV-1")
    expect(links.get_by_role("row", name=re.compile("^PRIV-1"))).to_be_visible()

    links.get_by_label("Add a test id").fill(RECIPIENTS_TEST)
    links.get_by_role("button", name="Link test").click()
    expect(page.get_by_role("status")).to_contain_text(RECIPIENTS_TEST)
    test_row = links.get_by_role("row", name=RECIPIENTS_TEST)
    expect(test_row).to_contain_text("Passed")
    watch.check_links()

    links.get_by_role("button", name="Remove the link to PRIV-1").click()
    expect(page.get_by_role("status")).to_contain_text("PRIV-1")
    expect(links).to_contain_text("No Jira work item is linked.")
    links.get_by_role("button", name=f"Remove the link to test {RECIPIENTS_TEST}").click()
    expect(page.get_by_role("status")).to_contain_text(RECIPIENTS_TEST)
    expect(links).to_contain_text("No test is linked.")
    # The history says who did each of it.
    mine = page.get_by_role("region", name="History").get_by_role("row").filter(has_text=ENGINEER)
    expect(mine.filter(has_text="Link added")).to_have_count(2)
    expect(mine.filter(has_text="Link removed")).to_have_count(2)


def test_an_engineer_creates_an_epic_in_jira_for_a_gap(
    page: Page, watch: PageWatch, live_server: LiveServer, jira: SandboxServer
) -> None:
    sign_in(page, live_server.url, ENGINEER, path="/obligations/BETA-9")
    status = page.get_by_role("region", name="Status")
    expect(status).to_contain_text("Gap")
    expect(status.get_by_label("Jira project")).to_have_value("PRIV")
    status.get_by_role("button", name="Create epic in Jira").click()

    # The button queues a job and opens its page (the tests run a job as soon as it is queued).
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Create epic queued as job #\d+")
    )
    outcome = page.locator("#job-summary")
    expect(outcome).to_contain_text(re.compile(r"Created PRIV-\d+ for BETA-9 and linked it\."))
    key = re.search(r"PRIV-\d+", outcome.inner_text())
    assert key is not None
    page.get_by_role("link", name="BETA-9", exact=True).click()
    status = page.get_by_role("region", name="Status")
    epic = jira.state.issue(key.group(0))
    assert epic is not None and epic.issuetype == "Epic"
    assert "obligation-BETA-9" in epic.labels
    assert epic.summary.startswith("BETA-9 § 9: Opt-out preference signals")
    links = page.get_by_role("region", name="Links")
    expect(links.get_by_role("row", name=re.compile(f"^{key.group(0)}"))).to_be_visible()
    # No longer a gap: the form is gone, so a second epic cannot be asked for by mistake.
    expect(status).not_to_contain_text("Gap")
    expect(status.get_by_role("button", name="Create epic in Jira")).to_have_count(0)
