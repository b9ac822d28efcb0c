"""Pulling work items from Jira: incremental by a watermark, one transaction per page.

A sync is many pages, so unlike other services it opens its own transactions: each page is
stored in one, and the watermark moves only when the whole run succeeded. A run killed halfway
leaves every stored page consistent, and the next run starts again from the old watermark, so
it converges without losing changes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.db import session_scope
from tracker.domain.access import Actor
from tracker.domain.text_rules import has_control_characters
from tracker.errors import JiraError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import VersionRecord
from tracker.models import JiraVersion, SyncRun, WorkItem, WorkItemLink, column_length, utcnow
from tracker.services.audit import record_event
from tracker.services.run_records import mark_interrupted
from tracker.services.sync_lock import held_lock
from tracker.services.work_items import ApplyCounts, ObligationIndex, apply_issues, mark_missing

LOCK_NAME = "Jira sync"
OVERLAP = timedelta(minutes=5)
#: Jira allows version names of 255 characters; a release name is kept to this many.
MAX_VERSION_NAME = column_length(JiraVersion, "name")

Progress = Callable[[int], None]


@dataclass
class SyncReport:
    """What a sync did, as stored in its sync-run record."""

    run_id: int
    status: str
    dry_run: bool
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    links_added: int = 0
    links_removed: int = 0
    problems: list[str] = field(default_factory=list)
    #: Whether the failure was one Jira may not repeat (rate limit, outage, no connection).
    retryable: bool = False

    def summary(self) -> str:
        """Return one line a person can read."""
        prefix = "Dry run: would have " if self.dry_run else ""
        return (
            f"{prefix}{self.pages} page(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.missing} marked missing; links "
            f"+{self.links_added}/-{self.links_removed}; {len(self.problems)} problem(s)."
        )


def sync_jira(
    *,
    engine: Engine,
    gateway: JiraGateway,
    jql: str,
    full: bool = False,
    dry_run: bool = False,
    actor: Actor,
    progress: Progress | None = None,
    on_total: Callable[[int | None], None] | None = None,
) -> SyncReport:
    """Pull changed issues into work items; raise ConflictError if another sync is running.

    With on_total, Jira is first asked how many issues the search will read (one extra
    request), so a progress bar can show the whole.
    """
    holder = f"{actor.label} ({socket.gethostname()} pid {os.getpid()})"
    with held_lock(engine, LOCK_NAME, holder) as extend:
        with session_scope(engine) as session:
            mark_interrupted(
                session,
                "sync",
                "The run stopped before it finished (process killed or crashed). Every page it "
                "stored is consistent; the next run started again from the previous watermark.",
            )
            since = None if full else _last_watermark(session)
            run = SyncRun(kind="sync", full=full, dry_run=dry_run, actor=actor.label)
            run.watermark_from = since
            session.add(run)
            session.flush()
            run_id = run.id or 0
            record_event(
                session=session,
                actor=actor,
                action="jira.sync_started",
                entity_type="sync_run",
                entity_id=str(run_id),
                after={"full": full, "dry_run": dry_run},
            )
        report = SyncReport(run_id=run_id, status="running", dry_run=dry_run)
        try:
            if on_total is not None:
                on_total(gateway.count_issues(jql, updated_since=since))
            newest = _pull(
                engine, gateway, jql, since, full, dry_run, actor, report, progress, extend
            )
            report.status = "succeeded" if not report.problems else "succeeded with problems"
        except JiraError as exc:
            report.status = "failed"
            report.problems.append(str(exc))
            report.retryable = exc.transient
            newest = None
        _finish(
            engine, report, newest if report.status != "failed" and not dry_run else None, actor
        )
        return report


def last_sync_runs(session: Session, limit: int = 50) -> list[SyncRun]:
    """Return the newest sync and push runs first."""
    return list(session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)).all())


def _last_watermark(session: Session) -> datetime | None:
    watermark = session.exec(
        select(SyncRun.watermark_to)
        .where(
            SyncRun.kind == "sync",
            col(SyncRun.status).startswith("succeeded"),
            SyncRun.dry_run == False,  # noqa: E712 - SQL expression
            col(SyncRun.watermark_to).is_not(None),
        )
        .order_by(col(SyncRun.id).desc())
    ).first()
    return watermark - OVERLAP if watermark is not None else None


def _pull(
    engine: Engine,
    gateway: JiraGateway,
    jql: str,
    since: datetime | None,
    full: bool,
    dry_run: bool,
    actor: Actor,
    report: SyncReport,
    progress: Progress | None,
    extend: Callable[[], None],
) -> datetime | None:
    newest = since + OVERLAP if since is not None else None
    seen: set[str] = set()
    projects: set[str] = set()
    for page in gateway.iter_search(jql, updated_since=since):
        with Session(engine, expire_on_commit=False) as session, session.begin() as transaction:
            counts = apply_issues(session, page.issues, ObligationIndex(session), actor)
            counts.problems.extend(page.problems)
            _count_page(session, report, counts)
            if dry_run:
                transaction.rollback()
        seen.update(issue.key for issue in page.issues)
        projects.update(issue.project_key for issue in page.issues)
        for issue in page.issues:
            if newest is None or issue.updated > newest:
                newest = issue.updated
        if progress is not None:
            progress(len(page.issues))
        extend()

    # Linked items the search does not return: outside the JQL, never synced, or (on a full
    # sync) gone from the search, which is how deleted and moved issues show up.
    with Session(engine) as session:
        keys = _keys_to_fetch(session, seen, full)
    if keys:
        found, missing = gateway.get_issues(sorted(keys))
        with Session(engine, expire_on_commit=False) as session, session.begin() as transaction:
            counts = apply_issues(session, found, ObligationIndex(session), actor, in_scope=False)
            # A moved issue answers under its new key; the gateway lists the old key as
            # missing. An issue Jira has but that cannot be read is in neither list: kept.
            gone = set(missing)
            marked = mark_missing(session, gone, "not found in Jira (deleted, moved or no access)")
            report.missing += len(marked)
            report.problems.extend(
                f"{key} is missing in Jira (deleted, moved or no permission); its links are kept."
                for key in sorted(marked)
            )
            _count_page(session, report, counts, pages=0)
            if dry_run:
                transaction.rollback()
        projects.update(issue.project_key for issue in found)

    for project_key in sorted(p for p in projects if p):
        versions = gateway.project_versions(project_key)
        if dry_run:
            continue
        with session_scope(engine) as session:
            for version in versions:
                problem = _unusable_version(version)
                if problem is not None:
                    report.problems.append(problem)
                    continue
                row = session.get(JiraVersion, version.id) or JiraVersion(
                    id=version.id, project_key=project_key, name=version.name
                )
                row.project_key, row.name = project_key, version.name
                row.released, row.archived = version.released, version.archived
                row.release_date = version.release_date
                session.add(row)
    return newest


def _unusable_version(version: VersionRecord) -> str | None:
    """Say why a fix version cannot be a release here (its name), or return None."""
    name = version.name
    if len(name) <= MAX_VERSION_NAME and not has_control_characters(name):
        return None
    shown = "".join("?" if has_control_characters(char) else char for char in name[:60])
    why = (
        f"its name has {len(name)} characters, and a release name at most {MAX_VERSION_NAME}"
        if len(name) > MAX_VERSION_NAME
        else "its name holds a control character"
    )
    return (
        f"The fix version '{shown}{'…' if len(name) > 60 else ''}' of {version.project_key} "
        f"was left out of the releases: {why}. Rename it in Jira to track it as a release."
    )


def _keys_to_fetch(session: Session, seen: set[str], full: bool) -> set[str]:
    linked = select(WorkItemLink.work_item_key).where(col(WorkItemLink.removed_at).is_(None))
    query = select(WorkItem.key).where(col(WorkItem.key).in_(linked))
    if not full:
        # Never synced, or outside the JQL: the scoped search will not bring their changes.
        query = query.where(
            col(WorkItem.synced_at).is_(None) | (WorkItem.in_scope == False)  # noqa: E712
        )
    else:
        query = select(WorkItem.key).where(
            (col(WorkItem.key).in_(linked)) | (WorkItem.missing == False)  # noqa: E712
        )
    return {key for key in session.exec(query).all() if key not in seen}


def _count_page(session: Session, report: SyncReport, counts: ApplyCounts, pages: int = 1) -> None:
    report.pages += pages
    report.created += counts.created
    report.updated += counts.updated
    # Stale: a webhook stored a newer copy while the page was read; the newer one stays.
    report.unchanged += counts.unchanged + counts.stale
    report.links_added += counts.links_added
    report.links_removed += counts.links_removed
    report.problems.extend(counts.problems)
    run = session.get(SyncRun, report.run_id)
    if run is not None:
        _copy(report, run)
        session.add(run)


def _copy(report: SyncReport, run: SyncRun) -> None:
    run.pages, run.created, run.updated = report.pages, report.created, report.updated
    run.unchanged, run.missing = report.unchanged, report.missing
    run.links_added, run.links_removed = report.links_added, report.links_removed
    run.problems = list(report.problems)


def _finish(engine: Engine, report: SyncReport, newest: datetime | None, actor: Actor) -> None:
    with session_scope(engine) as session:
        run = session.get(SyncRun, report.run_id)
        if run is None:
            return
        _copy(report, run)
        run.status = report.status
        run.finished_at = utcnow()
        run.watermark_to = newest
        session.add(run)
        record_event(
            session=session,
            actor=actor,
            action="jira.sync_finished",
            entity_type="sync_run",
            entity_id=str(report.run_id),
            after={"status": report.status, "summary": report.summary()},
        )
