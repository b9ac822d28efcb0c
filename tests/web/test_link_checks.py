"""What people type on the obligation page is checked: Jira keys, test ids, group entries.

And a link that a Jira label makes is removed with its label, never only in the tracker.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import signed_in_client
from tests.evidence_helpers import case, ingest, load_small_catalog, report, snapshot
from tests.helpers import csrf_token
from tracker.domain.access import cli_actor
from tracker.errors import JiraError
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord, JiraSettings
from tracker.models import AuditEvent, WorkItem, WorkItemLink
from tracker.services.jira_sync import sync_jira

UNREACHABLE = (
    "Jira at https://jira.example.test is unreachable: connection refused. Check "
    "TRACKER_JIRA_URL and the network; the sync can be retried later."
)


def issue(key: str, labels: tuple[str, ...] = (), summary: str = "") -> IssueRecord:
    return IssueRecord(
        key=key,
        id=str(10_000 + int(key.rsplit("-", 1)[1])),
        summary=summary or f"Work on {key}",
        issue_type="Epic",
        status="In Progress",
        status_category="indeterminate",
        fix_versions=(),
        labels=labels,
        assignee=None,
        url=f"https://jira.example.test/browse/{key}",
        updated=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        project_key=key.split("-")[0],
    )


@pytest.fixture
def fake() -> FakeJiraGateway:
    return FakeJiraGateway(
        issues=[
            issue("PRIV-7", summary="Erase every store within a month"),
            issue("PRIV-8", labels=("obligation-ALPHA-1.1", "privacy-obligation")),
        ]
    )


@pytest.fixture
def with_jira(app: Flask, fake: FakeJiraGateway) -> Flask:
    app.config["JIRA_SETTINGS"] = JiraSettings(
        url="https://jira.example.test",
        email="bot@example.test",
        api_token="tok-never-shown",
        jql="project = PRIV AND issuetype = Epic",
    )
    app.config["JIRA_GATEWAY_FACTORY"] = lambda settings: fake
    return app


@pytest.fixture
def without_jira(app: Flask) -> Flask:
    app.config["JIRA_SETTINGS"] = None
    return app


@pytest.fixture
def loaded(session: Session) -> Session:
    load_small_catalog(session)
    return session


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Post a form with a valid CSRF token (read once, so flashed messages stay unread)."""
    if not hasattr(client, "form_token"):
        client.form_token = csrf_token(client, "/obligations/ALPHA-1.1")  # type: ignore[attr-defined]
    form = {"csrf_token": client.form_token, **(data or {})}  # type: ignore[attr-defined]
    return client.post(url, data=form)


def followed(client: FlaskClient, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def active_links(engine: Engine, obligation_id: str = "ALPHA-1.1") -> list[tuple[str, str]]:
    with Session(engine) as session:
        links = session.exec(
            select(WorkItemLink).where(
                WorkItemLink.obligation_id == obligation_id,
                col(WorkItemLink.removed_at).is_(None),
            )
        ).all()
        return sorted((link.work_item_key, link.origin) for link in links)


# --- Jira keys --------------------------------------------------------------------------------


def test_a_key_jira_does_not_have_is_refused_with_jiras_words_and_nothing_is_written(
    with_jira: Flask, loaded: Session, engine: Engine, fake: FakeJiraGateway
) -> None:
    client = signed_in_client(with_jira, "engineer")
    before = snapshot(engine)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "nope-999"})
    assert response.status_code == 400
    page = text(response)
    assert "NOPE-999: Issue does not exist or you do not have permission to see it." in page
    assert "Check the key in Jira; nothing was linked." in page
    assert 'value="nope-999"' in page  # the form keeps what was typed
    assert snapshot(engine) == before
    assert [call.args for call in fake.calls_to("read_issue")] == [("NOPE-999",)]


def test_a_key_jira_has_is_linked_and_shows_its_summary_and_status_at_once(
    with_jira: Flask, loaded: Session, engine: Engine
) -> None:
    client = signed_in_client(with_jira, "engineer")
    page = html.unescape(
        followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-7"}))
    )
    assert "Linked PRIV-7 to ALPHA-1.1: Erase every store within a month (In Progress)." in page
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/work-items/PRIV-7\">.*?</tr>", page, re.S)
    assert row is not None
    assert "<td>Erase every store within a month</td>" in row.group(0)
    assert "<td>In Progress</td>" in row.group(0)
    assert active_links(engine) == [("PRIV-7", "manual")]
    with Session(engine) as session:
        item = session.get(WorkItem, "PRIV-7")
        assert item is not None and item.synced_at is None  # the next sync still fills it in
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "link.added")).one()
        assert event.after == {"work_item": "PRIV-7", "origin": "manual", "jira": "found in Jira"}


def test_when_jira_cannot_answer_the_key_is_not_linked_and_the_page_says_why(
    with_jira: Flask, loaded: Session, engine: Engine, fake: FakeJiraGateway
) -> None:
    fake.fail("read_issue", JiraError(UNREACHABLE, retryable=True))
    client = signed_in_client(with_jira, "engineer")
    before = snapshot(engine)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-7"})
    assert response.status_code == 502
    page = text(response)
    assert f"Could not check PRIV-7 in Jira, so nothing was linked: {UNREACHABLE}" in page
    assert snapshot(engine) == before


def test_without_jira_a_key_is_linked_and_said_to_be_unchecked(
    without_jira: Flask, loaded: Session, engine: Engine
) -> None:
    client = signed_in_client(without_jira, "engineer")
    form = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert "Jira is not configured, so the key is not checked" in form
    page = html.unescape(
        followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "APP-3"}))
    )
    assert "Linked APP-3 to ALPHA-1.1 (not checked: Jira is not configured)" in page
    assert active_links(engine) == [("APP-3", "manual")]


def test_unusable_jira_settings_refuse_the_link_instead_of_skipping_the_check(
    app: Flask, loaded: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config.pop("JIRA_SETTINGS", None)
    monkeypatch.setenv("TRACKER_JIRA_URL", "ftp://jira.example.test")
    client = signed_in_client(app, "engineer")
    before = snapshot(engine)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-7"})
    assert response.status_code == 502
    assert "TRACKER_JIRA_URL must be an http(s) address" in text(response)
    assert snapshot(engine) == before


# --- test ids ---------------------------------------------------------------------------------


def test_a_test_id_no_run_reported_is_refused_with_what_to_do(
    without_jira: Flask, loaded: Session, engine: Engine
) -> None:
    ingest(loaded, report(case("test_erasure")))
    client = signed_in_client(without_jira, "engineer")
    before = snapshot(engine)
    typo = "pytest/tests.privacy/test_erasure"
    response = post(client, "/obligations/ALPHA-1.1/links/tests", {"test_id": typo})
    assert response.status_code == 400
    page = text(response)
    assert f"No test run has reported the test {typo} yet, so it was not linked" in page
    assert "Reported tests of that name: pytest/tests.test_privacy/test_erasure." in page
    assert "tick “Link before the first run”" in page
    assert snapshot(engine) == before


def test_ticking_link_before_the_first_run_links_a_test_that_has_not_run(
    without_jira: Flask, loaded: Session, engine: Engine
) -> None:
    client = signed_in_client(without_jira, "engineer")
    form = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert 'name="before_first_run"' in form
    data = {"test_id": "e2e/Erasure/test_new", "before_first_run": "on"}
    page = html.unescape(followed(client, post(client, "/obligations/ALPHA-1.1/links/tests", data)))
    assert "Linked test e2e/Erasure/test_new to ALPHA-1.1 before its first run" in page
    assert "<code>e2e/Erasure/test_new</code>" in page
    assert "No result yet" in page


def test_a_test_a_run_reported_is_linked_without_ticking_anything(
    without_jira: Flask, loaded: Session
) -> None:
    ingest(loaded, report(case("test_erasure")))
    client = signed_in_client(without_jira, "engineer")
    data = {"test_id": "pytest/tests.test_privacy/test_erasure"}
    page = html.unescape(followed(client, post(client, "/obligations/ALPHA-1.1/links/tests", data)))
    assert "Linked test pytest/tests.test_privacy/test_erasure to ALPHA-1.1." in page


# --- catalog group entries --------------------------------------------------------------------


def test_a_group_entry_shows_no_link_forms(with_jira: Flask, loaded: Session) -> None:
    client = signed_in_client(with_jira, "engineer")
    group = client.get("/obligations/ALPHA-1").get_data(as_text=True)
    assert "ALPHA-1 groups other obligations and has no status of its own" in group
    for form in ("/links/work-items", "/links/tests", "/create-epic"):
        assert f'action="/obligations/ALPHA-1{form}"' not in group
    part = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert 'action="/obligations/ALPHA-1.1/links/work-items"' in part


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("links/work-items", {"key": "PRIV-7"}),
        ("links/tests", {"test_id": "e2e/Erasure/test_new", "before_first_run": "on"}),
    ],
)
def test_linking_a_group_entry_is_refused_and_names_its_parts(
    with_jira: Flask,
    loaded: Session,
    engine: Engine,
    fake: FakeJiraGateway,
    path: str,
    data: dict[str, str],
) -> None:
    client = signed_in_client(with_jira, "engineer")
    before = snapshot(engine)
    response = post(client, f"/obligations/ALPHA-1/{path}", data)
    assert response.status_code == 400
    page = text(response)
    assert "ALPHA-1 groups other obligations and has no status of its own, so nothing" in page
    assert "to one of its parts (ALPHA-1.1, ALPHA-1.2) instead." in page
    assert snapshot(engine) == before
    assert fake.calls_to("read_issue") == []  # refused before asking Jira


# --- links that a Jira label makes ------------------------------------------------------------


@pytest.fixture
def label_linked(engine: Engine, loaded: Session, fake: FakeJiraGateway) -> FakeJiraGateway:
    """PRIV-8 carries the label obligation-ALPHA-1.1 in Jira; a sync made the link."""
    sync_jira(actor=cli_actor("sync"), engine=engine, gateway=fake, jql="x")
    assert ("PRIV-8", "jira") in active_links(engine)
    return fake


def test_the_page_says_a_label_link_comes_from_the_label(
    with_jira: Flask, label_linked: FakeJiraGateway
) -> None:
    viewer = signed_in_client(with_jira, "viewer")
    page = viewer.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert "Jira label <code>obligation-ALPHA-1.1</code> on PRIV-8" in page
    assert "it is removed by removing the label in Jira" in page
    assert "Remove label in Jira</button>" not in page  # a viewer gets no button
    engineer = signed_in_client(with_jira, "engineer")
    page = engineer.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert 'action="/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove-label"' in page
    assert 'action="/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove"' not in page


def test_removing_a_label_link_only_here_is_refused_with_the_reason(
    with_jira: Flask, label_linked: FakeJiraGateway, engine: Engine
) -> None:
    client = signed_in_client(with_jira, "engineer")
    before = snapshot(engine)
    page = html.unescape(
        followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove"))
    )
    assert "Unlinked" not in page
    assert (
        "Nothing was unlinked. The link to PRIV-8 comes from the label obligation-ALPHA-1.1 on "
        "PRIV-8 in Jira, so removing it here would not last: the next Jira sync would bring it "
        "back." in page
    )
    assert "“Remove label in Jira” next to the link does both." in page
    assert snapshot(engine) == before


def test_remove_label_in_jira_removes_the_label_then_the_link_and_the_next_sync_agrees(
    with_jira: Flask, label_linked: FakeJiraGateway, engine: Engine
) -> None:
    client = signed_in_client(with_jira, "engineer")
    page = html.unescape(
        followed(
            client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove-label")
        )
    )
    assert (
        "Removed the label obligation-ALPHA-1.1 from PRIV-8 in Jira, so PRIV-8 is unlinked from "
        "ALPHA-1.1." in page
    )
    assert label_linked.issues["PRIV-8"].labels == ("privacy-obligation",)
    assert active_links(engine) == []
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "link.removed")).one()
        assert event.actor_role == "engineer"
        assert event.before == {"work_item": "PRIV-8", "origin": "jira"}
        assert event.after == {
            "reason": "the label obligation-ALPHA-1.1 was removed from PRIV-8 in Jira"
        }
    sync_jira(actor=cli_actor("sync"), engine=engine, gateway=label_linked, jql="x")
    assert active_links(engine) == []


def test_when_jira_refuses_the_label_removal_nothing_changes(
    with_jira: Flask, label_linked: FakeJiraGateway, engine: Engine
) -> None:
    label_linked.fail(
        "remove_label",
        JiraError("The Jira account has no permission to remove a label on issue PRIV-8.", 403),
    )
    client = signed_in_client(with_jira, "engineer")
    before = snapshot(engine)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove-label")
    assert response.status_code == 502
    assert "no permission to remove a label on issue PRIV-8" in text(response)
    assert snapshot(engine) == before
    assert "obligation-ALPHA-1.1" in label_linked.issues["PRIV-8"].labels


def test_without_jira_a_label_link_says_to_remove_the_label_in_jira(
    app: Flask, label_linked: FakeJiraGateway, engine: Engine
) -> None:
    app.config["JIRA_SETTINGS"] = None
    client = signed_in_client(app, "engineer")
    page = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    assert "Remove the label in Jira, then sync" in page
    assert "Remove label in Jira</button>" not in page
    before = snapshot(engine)
    refused = html.unescape(
        followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove"))
    )
    assert "Jira is not configured here: remove the label in Jira; the next sync removes" in refused
    forced = html.unescape(
        followed(
            client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-8/remove-label")
        )
    )
    assert "The label was not removed: Jira is not configured." in forced
    assert snapshot(engine) == before


def test_a_manual_link_to_an_issue_without_the_label_is_removed_as_before(
    with_jira: Flask, loaded: Session, engine: Engine
) -> None:
    client = signed_in_client(with_jira, "engineer")
    followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV-7"}))
    page = html.unescape(
        followed(client, post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-7/remove"))
    )
    assert "Unlinked PRIV-7 from ALPHA-1.1." in page
    assert active_links(engine) == []
