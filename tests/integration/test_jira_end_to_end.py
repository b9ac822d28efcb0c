"""The tracker command and the web app against the Jira sandbox, through the real jira client.

Everything goes over loopback HTTP, in both the Cloud and the Data Center modes: sync, push,
create-epic, rate limits and signed webhooks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from werkzeug.serving import make_server

from tests.helpers import SMALL_CATALOG, transaction
from tests.integration.jira_checks import (
    AUTH,
    EMAIL,
    PAT,
    PUBLIC_URL,
    TOKEN,
    assert_converged,
    expected_links,
    remote_link_ids,
)
from tracker.catalog import read_catalog
from tracker.config import DEFAULT_CATALOG_PATH
from tracker.demo import DEMO_JQL
from tracker.domain.access import cli_actor
from tracker.integrations.jira_records import JiraSettings
from tracker.models import JiraVersion, SyncRun, WorkItem, WorkItemLink
from tracker.sandbox import (
    Fault,
    SandboxServer,
    SandboxState,
    WebhookConfig,
    seed_demo,
)
from tracker.services.catalog import load_catalog
from tracker.services.jira_push import global_id
from tracker.services.matrix import build_matrix

PROJECTS = ("PRIV", "APP", "WEB")
WRITE_KINDS = ("remotelink_post", "remotelink_put", "remotelink_delete")


@dataclass
class Jira:
    """A running sandbox with the demo product, and the mode it plays."""

    server: SandboxServer
    mode: str

    @property
    def state(self) -> SandboxState:
        return self.server.state


def settings_for(server: SandboxServer, **extra: Any) -> JiraSettings:
    """Return Cloud (email + token) or Data Center (PAT) settings for a running sandbox."""
    if server.mode == "cloud":
        return JiraSettings(url=server.url, email=EMAIL, api_token=TOKEN, timeout=10, **extra)
    return JiraSettings(url=server.url, pat=PAT, timeout=10, **extra)


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest, app: Flask) -> Iterator[Jira]:
    state = SandboxState()
    seed_demo(state)
    with SandboxServer(state, mode=request.param, auth=AUTH) as server:
        app.config["JIRA_SETTINGS"] = settings_for(server, jql=DEMO_JQL)
        app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
        app.config["PUBLIC_URL"] = PUBLIC_URL
        yield Jira(server, request.param)


def tracker(runner: Any, *args: str) -> str:
    """Run `tracker ARGS` and return its output; it must succeed."""
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


@pytest.fixture
def synced(jira: Jira, runner: Any) -> Jira:
    tracker(runner, "catalog", "load")
    tracker(runner, "jira", "sync")
    return jira


def test_sync_stores_the_epics_and_their_label_links_and_reports_unknown_labels(
    jira: Jira, runner: Any, engine: Engine
) -> None:
    tracker(runner, "catalog", "load")
    output = tracker(runner, "jira", "sync")
    assert "Sync run #1 succeeded with problems." in output
    assert "has the label 'obligation-GDPR-99.9', but no obligation 'GDPR-99.9'" in output

    assert_converged(jira.state, engine, PROJECTS)
    with Session(engine) as session:
        items = session.exec(select(WorkItem)).all()
        assert {item.issue_type for item in items} == {"Epic"}  # the JQL keeps stories out
        links = session.exec(select(WorkItemLink)).all()
        assert len(links) >= 25 and {link.origin for link in links} == {"jira"}
        versions = session.exec(select(JiraVersion)).all()
        assert {(v.project_key, v.name) for v in versions} >= {
            ("PRIV", "2026.12"),
            ("WEB", "2026.09"),
        }
        run = session.exec(select(SyncRun)).one()
        assert run.pages >= 1 and run.watermark_to is not None


def test_push_puts_one_remote_link_per_obligation_and_a_second_push_changes_nothing(
    synced: Jira, runner: Any, engine: Engine
) -> None:
    output = tracker(runner, "jira", "push")
    wanted = expected_links(synced.state, engine, keep=lambda key: True)
    assert f"{len(wanted)} remote link change(s) made, 0 unchanged." in output
    for obligation_id, key in wanted:
        assert remote_link_ids(synced.state, key).count(global_id(obligation_id)) == 1
    (erasure,) = [
        link
        for link in synced.state.remote_links("PRIV-1")
        if link.global_id == global_id("GDPR-17.1")
    ]
    assert erasure.object["url"] == f"{PUBLIC_URL}/obligations/GDPR-17.1"
    assert erasure.object["title"].startswith("GDPR-17.1 (Art. 17(1)")

    synced.state.reset_stats()
    again = tracker(runner, "jira", "push")
    assert f"0 remote link change(s) made, {len(wanted)} unchanged." in again
    stats = synced.state.stats()
    assert {kind: stats[kind] for kind in WRITE_KINDS} == dict.fromkeys(WRITE_KINDS, 0)
    assert stats["issue_update"] == 0 and stats["remotelink_get"] == 0


def test_incremental_sync_picks_up_label_and_status_changes_made_in_jira(
    synced: Jira, runner: Any, engine: Engine
) -> None:
    synced.state.set_status("PRIV-6", "done")  # Rectification requests, was To Do
    synced.state.update_labels(
        "PRIV-6", add=["obligation-GDPR-21.2"], remove=["obligation-GDPR-16"]
    )
    synced.state.reset_stats()
    output = tracker(runner, "jira", "sync")
    assert "links +1/-1" in output
    assert synced.state.stats()["search"] == 1
    assert_converged(synced.state, engine, PROJECTS)
    with Session(engine) as session:
        item = session.get(WorkItem, "PRIV-6")
        assert item is not None and item.status == "Done"
        runs = session.exec(select(SyncRun).order_by(col(SyncRun.id))).all()
        assert runs[-1].watermark_from is not None  # incremental: it started from a watermark
        assert runs[-1].updated == 1


def test_full_sync_marks_an_issue_deleted_in_jira_missing_and_keeps_its_links(
    synced: Jira, runner: Any, engine: Engine
) -> None:
    synced.state.delete_issue("PRIV-2")  # carried obligation-GDPR-17.2
    output = tracker(runner, "jira", "sync", "--full")
    assert "1 marked missing" in output
    assert "PRIV-2 is missing in Jira (deleted, moved or no permission); its links are kept." in (
        output
    )
    with Session(engine) as session:
        item = session.get(WorkItem, "PRIV-2")
        assert item is not None and item.missing
        link = session.exec(
            select(WorkItemLink).where(
                WorkItemLink.work_item_key == "PRIV-2", col(WorkItemLink.removed_at).is_(None)
            )
        ).one()
        assert link.obligation_id == "GDPR-17.2"


def test_create_epic_twice_from_the_command_line_makes_one_epic_in_jira(
    synced: Jira, runner: Any, engine: Engine
) -> None:
    first = tracker(runner, "jira", "create-epic", "GDPR-25.2", "--project", "PRIV")
    assert first.startswith("Created PRIV-") and "for GDPR-25.2 and linked it." in first
    second = tracker(runner, "jira", "create-epic", "GDPR-25.2", "--project", "PRIV")
    key = first.split()[1]
    assert second.strip() == f"{key} already covers GDPR-25.2."
    epics = [issue for issue in synced.state.issues() if "obligation-GDPR-25.2" in issue.labels]
    assert [(epic.key, epic.issuetype) for epic in epics] == [(key, "Epic")]
    assert "GDPR-25.2" in (epics[0].description or "")
    tracker(runner, "jira", "sync")
    with Session(engine) as session:
        item = session.get(WorkItem, key)
        assert item is not None and item.synced_at is not None and item.status == "To Do"


def test_sync_waits_as_jira_asks_on_a_rate_limit_and_succeeds(
    synced: Jira, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    # The library's retry sleeps are recorded instead of slept, to keep the suite fast.
    monkeypatch.setattr("jira.resilientsession.time", SimpleNamespace(sleep=slept.append))
    synced.state.faults.add(Fault(status=429, retry_after=1, times=1, path_contains="/search"))
    synced.state.touch("APP-3")
    output = tracker(runner, "jira", "sync")
    assert "succeeded" in output and "1 updated" in output
    assert synced.state.stats()["faults_injected"] == 1
    assert len(slept) == 1 and 1 <= slept[0] <= 2  # Retry-After: 1, doubled, with jitter


# --- webhooks -------------------------------------------------------------------------------


@dataclass
class Served:
    """The tracker app served over loopback HTTP from a thread."""

    url: str


@pytest.fixture
def served(app: Flask) -> Iterator[Served]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    """Poll condition() until it is true or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
def test_a_status_changed_in_jira_reaches_the_tracker_by_signed_webhook(
    app: Flask, served: Served, engine: Engine, session: Session, mode: str
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    secret = "whsec-e2e-0f4d2a"
    state = SandboxState()
    state.add_project("PRIV", "Privacy")
    state.add_issue("PRIV", "Erasure pipeline", labels=["obligation-ALPHA-1.1"], notify=False)
    hook = WebhookConfig(f"{served.url}/webhooks/jira", secret=secret, retry_delay_seconds=0.05)
    with SandboxServer(state, mode=mode, auth=AUTH, webhook=hook) as server:
        app.config["JIRA_SETTINGS"] = settings_for(server, webhook_secret=secret)

        state.set_status("PRIV-1", "indeterminate")

        def stored_in_progress() -> bool:
            with Session(engine) as check:
                item = check.get(WorkItem, "PRIV-1")
                return item is not None and item.status_category == "indeterminate"

        assert wait_for(stored_in_progress), server.context.webhooks.deliveries()  # type: ignore[union-attr]
        with Session(engine) as check:
            (row,) = build_matrix(session=check, obligation_ids=["ALPHA-1.1"]).rows
            assert row.result.status.value == "IN_PROGRESS"
        dispatcher = server.context.webhooks
        assert dispatcher is not None and dispatcher.flush(timeout=10)
        assert [(d.event, d.status) for d in dispatcher.deliveries()] == [
            ("jira:issue_updated", 200)
        ]


def test_webhooks_signed_with_another_secret_are_refused_and_change_nothing(
    app: Flask, served: Served, engine: Engine
) -> None:
    state = SandboxState()
    state.add_project("PRIV", "Privacy")
    state.add_issue("PRIV", "Erasure pipeline", notify=False)
    hook = WebhookConfig(f"{served.url}/webhooks/jira", secret="not-the-secret", max_attempts=1)
    with SandboxServer(state, mode="cloud", auth=AUTH, webhook=hook) as server:
        app.config["JIRA_SETTINGS"] = settings_for(server, webhook_secret="the-real-secret")
        state.set_status("PRIV-1", "done")
        dispatcher = server.context.webhooks
        assert dispatcher is not None and dispatcher.flush(timeout=10)
        assert [d.status for d in dispatcher.deliveries()] == [401]
    with Session(engine) as check:
        assert check.exec(select(WorkItem)).all() == []
