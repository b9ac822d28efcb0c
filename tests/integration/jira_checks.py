"""Checks shared by the sandbox end-to-end tests: does the database match the sandbox's Jira?"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.models import Obligation, WorkItem, WorkItemLink
from tracker.sandbox import SandboxAuth, SandboxState
from tracker.services.jira_push import GLOBAL_ID_PREFIX

EMAIL = "sync-bot@example.test"
TOKEN = "sandbox-token-e2e-51d2"
PAT = "sandbox-pat-e2e-9a07"
PUBLIC_URL = "http://tracker.example.test"
AUTH = SandboxAuth(email=EMAIL, token=TOKEN, pat=PAT)


def expected_links(
    state: SandboxState, engine: Engine, keep: Callable[[str], bool]
) -> set[tuple[str, str]]:
    """Return (obligation id, key) for every obligation label the catalog knows."""
    with Session(engine) as session:
        ids = {
            obligation_id.casefold(): obligation_id
            for obligation_id in session.exec(
                select(Obligation.id).where(col(Obligation.retired_at).is_(None))
            ).all()
        }
    wanted: set[tuple[str, str]] = set()
    for issue in state.issues():
        if not keep(issue.key):
            continue
        for label in issue.labels:
            if label.casefold().startswith("obligation-"):
                known = ids.get(label[len("obligation-") :].casefold())
                if known:
                    wanted.add((known, issue.key))
    return wanted


def assert_converged(
    state: SandboxState, engine: Engine, project_keys: tuple[str, ...] = ("PRIV",)
) -> None:
    """Assert every epic of the projects is stored as in the sandbox, with exactly its links."""
    epics = {
        issue.key: issue
        for issue in state.issues()
        if issue.project_key in project_keys and issue.issuetype == "Epic"
    }
    with Session(engine) as session:
        items = {item.key: item for item in session.exec(select(WorkItem)).all()}
        active = session.exec(
            select(WorkItemLink).where(col(WorkItemLink.removed_at).is_(None))
        ).all()
    for key, issue in epics.items():
        item = items.get(key)
        assert item is not None, f"{key} was not stored"
        assert not item.missing, key
        assert (item.status, item.status_category) == (issue.status.name, issue.status_category)
        assert sorted(item.labels) == sorted(issue.labels), key
        assert item.summary == issue.summary
    pairs = Counter(
        (link.obligation_id, link.work_item_key)
        for link in active
        if link.origin == "jira" and link.work_item_key in epics
    )
    duplicates = [pair for pair, count in pairs.items() if count > 1]
    assert duplicates == [], f"duplicate links: {duplicates}"
    assert set(pairs) == expected_links(state, engine, keep=epics.__contains__)


def remote_link_ids(state: SandboxState, key: str) -> list[str]:
    """Return the tracker's globalIds on an issue, one entry per remote link."""
    return [
        str(link.global_id)
        for link in state.remote_links(key)
        if str(link.global_id or "").startswith(GLOBAL_ID_PREFIX)
    ]
