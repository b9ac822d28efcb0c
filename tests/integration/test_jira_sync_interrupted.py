"""A sync killed mid-way (SIGKILL, in another process) leaves a consistent database; the next
run takes over the dead process's lock at once, starts from the old watermark and converges."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.helpers import SMALL_CATALOG, transaction
from tests.integration.jira_checks import AUTH, EMAIL, TOKEN, assert_converged
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import Obligation, SyncLock, SyncRun, WorkItem, WorkItemLink
from tracker.sandbox import Fault, SandboxServer, SandboxState
from tracker.services.catalog import load_catalog
from tracker.services.jira_sync import sync_jira

JQL = "project = PRIV"
ISSUES = 450  # five pages of 100
LABELS = (
    ("obligation-ALPHA-1.1",),
    (),
    ("obligation-beta-7", "team-privacy"),
    ("obligation-ALPHA-2", "obligation-BETA-9"),
    ("obligation-NOPE-3",),
)
CATEGORIES = ("new", "indeterminate", "done")
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def seeded_state() -> SandboxState:
    state = SandboxState()
    state.add_project("PRIV", "Privacy")
    with state.batch():
        for number in range(ISSUES):
            stamp = START + timedelta(minutes=number)
            state.add_issue(
                "PRIV",
                f"Epic {number + 1}",
                status=CATEGORIES[number % 3],
                labels=LABELS[number % len(LABELS)],
                created=stamp,
                updated=stamp,
                notify=False,
            )
    return state


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_state(), mode="cloud", auth=AUTH) as server:
        yield server


def sync_in_another_process(
    server: SandboxServer, database_url: str, folder: Path
) -> subprocess.Popen[bytes]:
    """Start `tracker jira sync` as its own process, configured only by the environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=database_url,
        TRACKER_SECRET_KEY="interrupted-sync-test",
        TRACKER_JIRA_URL=server.url,
        TRACKER_JIRA_EMAIL=EMAIL,
        TRACKER_JIRA_API_TOKEN=TOKEN,
        TRACKER_JIRA_JQL=JQL,
        TRACKER_JIRA_TIMEOUT="20",
    )
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "jira", "sync"]
    # Its own folder, so no .env file of a developer's checkout configures it.
    return subprocess.Popen(
        command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def running_run(engine: Engine) -> SyncRun | None:
    with Session(engine) as session:
        return session.exec(select(SyncRun).where(SyncRun.status == "running")).first()


def kill_after_first_page(process: subprocess.Popen[bytes], engine: Engine) -> SyncRun:
    """Wait (bounded) until the process has stored a page, then SIGKILL it and reap it."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            run = running_run(engine)
            if run is not None and run.pages >= 1:
                process.kill()
                process.wait(timeout=30)
                return run
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the sync ended before it could be killed:\n{output}")
            time.sleep(0.02)
        pytest.fail("the sync stored no page within 60 s")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def assert_pages_are_whole(engine: Engine) -> None:
    """Every stored work item carries exactly the links its stored labels ask for."""
    with Session(engine) as session:
        items = {item.key: item for item in session.exec(select(WorkItem)).all()}
        links = session.exec(
            select(WorkItemLink.obligation_id, WorkItemLink.work_item_key).where(
                col(WorkItemLink.removed_at).is_(None)
            )
        ).all()
        known = set(session.exec(select(Obligation.id)).all())
    stored = {(obligation_id, key) for obligation_id, key in links}
    assert len(stored) == len(links), "duplicate links"
    wanted = {
        (label.removeprefix("obligation-").upper(), key)
        for key, item in items.items()
        for label in item.labels
        if label.startswith("obligation-") and label.removeprefix("obligation-").upper() in known
    }
    assert stored == wanted


def test_a_killed_sync_leaves_whole_pages_and_the_next_run_converges(
    engine: Engine, session: Session, database_url: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    state = sandbox.state
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    settings = JiraSettings(url=sandbox.url, email=EMAIL, api_token=TOKEN, jql=JQL, timeout=20)
    first = sync_jira(
        actor=cli_actor("test"), engine=engine, gateway=RestJiraGateway(settings), jql=JQL
    )
    assert first.created == ISSUES and running_run(engine) is None

    # Everything changes in Jira; the next sync has five pages to read, each answered slowly.
    for issue in state.issues():
        if issue.number % 2:
            state.set_status(issue.key, "done" if issue.status_category != "done" else "new")
        else:
            state.update_labels(issue.key, add=["obligation-ALPHA-1.2"], remove=["team-privacy"])
    state.faults.add(Fault(delay_seconds=0.75, path_contains="/search"))

    process = sync_in_another_process(sandbox, database_url, tmp_path)
    killed = kill_after_first_page(process, engine)

    assert killed.pages == 1 and killed.watermark_to is None
    assert_pages_are_whole(engine)
    with Session(engine) as check:
        (lock,) = check.exec(select(SyncLock)).all()
        assert lock.pid != os.getpid()  # the dead process's lock is still there
        items = {item.key: item for item in check.exec(select(WorkItem)).all()}
    current = [
        issue.key
        for issue in state.issues()
        if (items[issue.key].status_category, sorted(items[issue.key].labels))
        == (issue.status_category, sorted(issue.labels))
    ]
    assert len(current) == 100  # exactly the first page of changes was stored

    # More changes while nothing syncs, including a new epic and a label removed.
    state.faults.clear()
    state.set_status("PRIV-1", "indeterminate")
    state.set_labels("PRIV-3", [])
    state.add_issue("PRIV", "Epic added after the crash", labels=["obligation-BETA-7"])

    started = time.monotonic()
    again = sync_jira(
        actor=cli_actor("test"), engine=engine, gateway=RestJiraGateway(settings), jql=JQL
    )
    assert time.monotonic() - started < 30  # no waiting for the 15-minute lock expiry
    assert again.status == "succeeded with problems"  # the NOPE-3 labels, as before
    assert again.created == 1 and again.updated + again.unchanged == ISSUES

    assert_converged(state, engine)
    with Session(engine) as check:
        runs = {run.id: run for run in check.exec(select(SyncRun)).all()}
        assert runs[killed.id].status == "interrupted"
        assert "stopped before it finished" in runs[killed.id].problems[-1]
        old_watermark = runs[first.run_id].watermark_to
        assert old_watermark is not None
        assert runs[again.run_id].watermark_from == old_watermark - timedelta(minutes=5)
        assert check.exec(select(SyncLock)).all() == []
