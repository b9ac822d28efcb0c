"""Showing obligations in Jira: one remote link per obligation on each linked issue.

Each remote link has a stable globalId, so Jira updates it in place instead of adding another.
What was pushed is remembered, so a re-run sends nothing when nothing changed, and a link
removed in the tracker has its remote link deleted. What Jira accepted is recorded in batches
(and whenever the push stops), so after a partial failure a re-run finishes the job; a crash
between Jira's answer and the record only makes the re-run send that upsert again, which the
globalId makes harmless.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.db import session_scope
from tracker.domain.access import Actor
from tracker.domain.status import Status
from tracker.errors import JiraError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import RemoteLinkSpec
from tracker.models import RemoteLinkState, SyncRun, WorkItem, WorkItemLink, utcnow
from tracker.services.audit import record_event
from tracker.services.matrix import build_matrix
from tracker.services.run_records import mark_interrupted
from tracker.services.sync_lock import held_lock

GLOBAL_ID_PREFIX = "privacy-tracker:obligation="
LOCK_NAME = "Jira push"
#: Changes recorded per transaction: one commit per change made large pushes disk-bound.
REMEMBER_BATCH = 100

Progress = Callable[[int], None]


def global_id(obligation_id: str) -> str:
    """Return the stable globalId of an obligation's remote link on any issue."""
    return GLOBAL_ID_PREFIX + obligation_id


@dataclass(frozen=True)
class PlannedChange:
    """One remote-link change push would make."""

    action: str  # "create", "update" or "delete"
    issue_key: str
    obligation_id: str
    title: str

    def describe(self) -> str:
        """Return the change in words, for --dry-run."""
        return f"{self.action:6} {self.issue_key}: {self.title}"


@dataclass
class PushReport:
    """What a push did (or, on a dry run, would do)."""

    run_id: int | None
    dry_run: bool
    planned: list[PlannedChange] = field(default_factory=list)
    changes: list[tuple[PlannedChange, RemoteLinkSpec | None]] = field(
        default_factory=list, repr=False
    )
    done: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    #: Issues whose failure Jira may not repeat (rate limit, outage, no connection).
    retryable: set[str] = field(default_factory=set)

    def summary(self) -> str:
        """Return one line a person can read."""
        if self.dry_run:
            return f"Dry run: {len(self.planned)} change(s) planned, {self.unchanged} unchanged."
        failed = (
            f"; {len(self.failed)} issue(s) failed: {', '.join(sorted(self.failed))}. "
            "Run the push again to finish."
            if self.failed
            else "."
        )
        return f"{self.done} remote link change(s) made, {self.unchanged} unchanged{failed}"


def plan_push(
    *, session: Session, public_url: str, full: bool = False
) -> tuple[list[tuple[PlannedChange, RemoteLinkSpec | None]], int]:
    """Compare what Jira should show with what was pushed: the changes, and how many match.

    With full, every wanted link is sent again whatever was remembered (for a Jira whose
    remote links were removed or restored behind the tracker's back); globalIds keep that
    harmless.
    """
    rows = {row.id: row for row in build_matrix(session=session, include_retired=True).rows}
    links = session.exec(
        select(WorkItemLink.obligation_id, WorkItemLink.work_item_key)
        .join(WorkItem, col(WorkItem.key) == WorkItemLink.work_item_key)
        .where(col(WorkItemLink.removed_at).is_(None), WorkItem.missing == False)  # noqa: E712
        .where(col(WorkItem.synced_at).is_not(None))
    ).all()
    wanted: dict[tuple[str, str], RemoteLinkSpec] = {}
    for obligation_id, key in links:
        row = rows.get(obligation_id)
        if row is None:
            continue
        status = row.result.status
        wanted[(key, global_id(obligation_id))] = RemoteLinkSpec(
            global_id=global_id(obligation_id),
            url=f"{public_url}/obligations/{obligation_id}",
            title=f"{obligation_id} ({row.citation}): {status.value}",
            summary=f"{row.title}. {row.result.explanation}"[:255],
            resolved=status is Status.VERIFIED,
        )
    pushed = {
        (s.work_item_key, s.global_id): s for s in session.exec(select(RemoteLinkState)).all()
    }
    changes: list[tuple[PlannedChange, RemoteLinkSpec | None]] = []
    unchanged = 0
    for (key, gid), spec in sorted(wanted.items()):
        obligation_id = gid.removeprefix(GLOBAL_ID_PREFIX)
        state = pushed.get((key, gid))
        if state is None:
            changes.append((PlannedChange("create", key, obligation_id, spec.title), spec))
        elif full or (state.title, state.url, state.resolved) != (
            spec.title,
            spec.url,
            spec.resolved,
        ):
            changes.append((PlannedChange("update", key, obligation_id, spec.title), spec))
        else:
            unchanged += 1
    for (key, gid), state in sorted(pushed.items()):
        if (key, gid) not in wanted:
            changes.append((PlannedChange("delete", key, state.obligation_id, state.title), None))
    return changes, unchanged


def push_links(
    *,
    engine: Engine,
    gateway: JiraGateway,
    public_url: str,
    dry_run: bool = False,
    full: bool = False,
    actor: Actor,
    progress: Progress | None = None,
) -> PushReport:
    """Make the remote links on Jira issues match the tracker's links and statuses.

    A push holds its own lock (one push at a time); a push whose process died is marked
    interrupted by the next one, which sends whatever is still not in Jira.
    """
    if dry_run:
        return _plan_report(engine, public_url, full, dry_run=True)
    holder = f"{actor.label} ({socket.gethostname()} pid {os.getpid()})"
    with held_lock(engine, LOCK_NAME, holder) as extend:
        report = _plan_report(engine, public_url, full, dry_run=False)
        with session_scope(engine) as session:
            mark_interrupted(
                session,
                "push",
                "The push stopped before it finished (process killed or crashed). What Jira had "
                "accepted was recorded; the next push sent the rest.",
            )
            run = SyncRun(kind="push", actor=actor.label)
            session.add(run)
            session.flush()
            report.run_id = run.id
            record_event(
                session=session,
                actor=actor,
                action="jira.push_started",
                entity_type="sync_run",
                entity_id=str(run.id),
                after={"full": full, "planned": len(report.planned)},
            )
        _send(engine, gateway, report, progress, extend)
        _finish(engine, report, actor)
    return report


def _plan_report(engine: Engine, public_url: str, full: bool, *, dry_run: bool) -> PushReport:
    with Session(engine) as session:
        changes, unchanged = plan_push(
            session=session, public_url=public_url.rstrip("/"), full=full
        )
    report = PushReport(run_id=None, dry_run=dry_run, unchanged=unchanged)
    report.planned = [change for change, _ in changes]
    report.changes = changes
    return report


def _send(
    engine: Engine,
    gateway: JiraGateway,
    report: PushReport,
    progress: Progress | None,
    extend: Callable[[], None],
) -> None:
    accepted: list[tuple[PlannedChange, RemoteLinkSpec | None]] = []
    try:
        for change, spec in report.changes:
            if change.issue_key in report.failed:
                continue
            try:
                if spec is None:
                    gateway.delete_remote_link(change.issue_key, global_id(change.obligation_id))
                else:
                    gateway.upsert_remote_link(change.issue_key, spec)
            except JiraError as exc:
                # A remote link already gone from Jira is what a delete wants: forget it below.
                if spec is not None or exc.status != 404:
                    report.failed[change.issue_key] = str(exc)
                    if exc.transient:
                        report.retryable.add(change.issue_key)
                    continue
            accepted.append((change, spec))
            report.done += 1
            if len(accepted) >= REMEMBER_BATCH:
                _remember(engine, accepted)
                accepted.clear()
                extend()
            if progress is not None:
                progress(1)
    finally:
        _remember(engine, accepted)


def _finish(engine: Engine, report: PushReport, actor: Actor) -> None:
    with session_scope(engine) as session:
        finished = session.get(SyncRun, report.run_id)
        if finished is not None:
            record_event(
                session=session,
                actor=actor,
                action="jira.push_finished",
                entity_type="sync_run",
                entity_id=str(report.run_id),
                after={
                    "done": report.done,
                    "unchanged": report.unchanged,
                    "failed": len(report.failed),
                },
            )
            finished.status = (
                "failed"
                if report.failed and not report.done
                else ("partial" if report.failed else "succeeded")
            )
            finished.updated = report.done
            finished.unchanged = report.unchanged
            finished.problems = [
                f"{key}: {message}" for key, message in sorted(report.failed.items())
            ]
            finished.finished_at = utcnow()
            session.add(finished)


def _remember(engine: Engine, accepted: list[tuple[PlannedChange, RemoteLinkSpec | None]]) -> None:
    if not accepted:
        return
    keys = sorted({change.issue_key for change, _ in accepted})
    now = utcnow()
    with session_scope(engine) as session:
        states = {
            (state.work_item_key, state.global_id): state
            for state in session.exec(
                select(RemoteLinkState).where(col(RemoteLinkState.work_item_key).in_(keys))
            ).all()
        }
        # New states go in as one executemany (ORM inserts are one statement per row on SQLite).
        new_states: dict[tuple[str, str], dict[str, object]] = {}
        for change, spec in accepted:
            pair = (change.issue_key, global_id(change.obligation_id))
            state = states.get(pair)
            if spec is None:
                new_states.pop(pair, None)
                if state is not None:
                    session.delete(state)
                    del states[pair]
            elif state is not None:
                state.title, state.url, state.resolved = spec.title, spec.url, spec.resolved
                state.pushed_at = now
                session.add(state)
            else:
                new_states[pair] = {
                    "work_item_key": pair[0],
                    "global_id": pair[1],
                    "obligation_id": change.obligation_id,
                    "title": spec.title,
                    "url": spec.url,
                    "resolved": spec.resolved,
                    "pushed_at": now,
                }
        if new_states:
            session.execute(insert(RemoteLinkState), list(new_states.values()))
