"""Storing Jira issues as work items, and the links their obligation labels ask for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from sqlalchemy import String, cast, func, insert
from sqlmodel import Session, col, select

from tracker.domain.access import Actor, system_actor
from tracker.integrations.jira_records import IssueRecord
from tracker.models import Obligation, WorkItem, WorkItemLink, as_utc, utcnow
from tracker.services.audit import EventSpec, record_event, record_events

LABEL_PREFIX = "obligation-"
JIRA_ORIGIN = "jira"


def obligation_label(obligation_id: str) -> str:
    """Return the Jira label that links an issue to an obligation (labels have no spaces)."""
    return LABEL_PREFIX + obligation_id


@dataclass
class ApplyCounts:
    """What storing a batch of issues changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Issues older than the stored copy (by Jira's updated time), so left as stored.
    stale: int = 0
    links_added: int = 0
    links_removed: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: ApplyCounts) -> None:
        """Add another batch's counts to these."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.links_added += other.links_added
        self.links_removed += other.links_removed
        self.problems.extend(other.problems)


class ObligationIndex:
    """Obligation ids (matched case-insensitively) with their current version, loaded once."""

    def __init__(self, session: Session) -> None:
        rows = session.exec(
            select(Obligation.id, Obligation.version, Obligation.fingerprint).where(
                col(Obligation.retired_at).is_(None)
            )
        ).all()
        self._by_folded = {row[0].casefold(): (row[0], row[1], row[2]) for row in rows}

    def resolve(self, obligation_id: str) -> tuple[str, int, str] | None:
        """Return (id, version, fingerprint) for an id in any letter case, or None."""
        return self._by_folded.get(obligation_id.casefold())


def apply_issues(
    session: Session,
    records: Sequence[IssueRecord],
    index: ObligationIndex,
    actor: Actor,
    *,
    in_scope: bool | None = True,
) -> ApplyCounts:
    """Upsert issues as work items and make their label links match; a fixed number of queries.

    An issue older than the stored copy (Jira's updated time) changes nothing and is counted
    as stale: a late webhook delivery or a search read before a newer delivery arrived must
    not undo a newer change. An equal time is applied again, which changes nothing new.
    in_scope says whether the issues came from the sync's own search (True), were fetched by
    key because they are linked (False), or arrived otherwise, e.g. by webhook (None: keep).
    """
    counts = ApplyCounts()
    if not records:
        return counts
    now = utcnow()
    keys = [record.key for record in records]
    existing = {
        item.key: item
        for item in session.exec(select(WorkItem).where(col(WorkItem.key).in_(keys))).all()
    }
    current: list[IssueRecord] = []
    for record in records:
        values = _values(record)
        item = existing.get(record.key)
        if item is not None and item.updated is not None and record.updated < as_utc(item.updated):
            counts.stale += 1
            if in_scope is not None and item.in_scope != in_scope:
                item.in_scope = in_scope  # where it was found, not what it says: still true
                session.add(item)
            continue
        current.append(record)
        if item is None:
            scoped = True if in_scope is None else in_scope
            session.add(WorkItem(key=record.key, synced_at=now, in_scope=scoped, **values))
            counts.created += 1
        elif item.missing or any(getattr(item, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(item, name, value)
            item.missing = False
            item.synced_at = now
            if in_scope is not None:
                item.in_scope = in_scope
            session.add(item)
            counts.updated += 1
        else:
            counts.unchanged += 1
            if item.synced_at is None or (in_scope is not None and item.in_scope != in_scope):
                item.synced_at = item.synced_at or now
                if in_scope is not None:
                    item.in_scope = in_scope
                session.add(item)
    session.flush()
    counts.add(_sync_label_links(session, current, index, actor))
    return counts


@dataclass(frozen=True)
class UnknownLabel:
    """A label obligation-X on a work item where X is no current obligation of the catalog."""

    label: str
    obligation_id: str
    work_item_key: str
    summary: str
    url: str | None
    #: X was in the catalog once and has been retired.
    retired: bool


def unknown_obligation_labels(session: Session) -> list[UnknownLabel]:
    """Return the obligation labels on work items (not missing) that name no current obligation.

    Two queries whatever the number of work items: the catalog's ids, and the work items
    whose labels mention the prefix at all.
    """
    retired_by_id = {
        obligation_id.casefold(): retired_at is not None
        for obligation_id, retired_at in session.exec(
            select(Obligation.id, Obligation.retired_at)
        ).all()
    }
    items = session.exec(
        select(WorkItem.key, WorkItem.labels, WorkItem.summary, WorkItem.url)
        .where(
            WorkItem.missing == False,  # noqa: E712 - SQL expression
            func.lower(cast(col(WorkItem.labels), String)).contains(LABEL_PREFIX),
        )
        .order_by(col(WorkItem.key))
    ).all()
    found = []
    for key, labels, summary, url in items:
        for label in labels:
            obligation_id = label_obligation_id(label)
            if obligation_id is None or retired_by_id.get(obligation_id.casefold()) is False:
                continue
            retired = obligation_id.casefold() in retired_by_id
            found.append(UnknownLabel(label, obligation_id, key, summary, url, retired))
    return found


def label_obligation_id(label: str) -> str | None:
    """Return X for a label obligation-X (in any letter case), None for other labels."""
    if not label.casefold().startswith(LABEL_PREFIX):
        return None
    return label[len(LABEL_PREFIX) :]


def mark_missing(session: Session, keys: Iterable[str], reason: str) -> list[str]:
    """Mark work items as missing in Jira (their links stay); return the keys newly marked."""
    keys = list(keys)
    if not keys:
        return []
    marked = []
    for item in session.exec(select(WorkItem).where(col(WorkItem.key).in_(keys))).all():
        if not item.missing:
            item.missing = True
            item.synced_at = utcnow()
            session.add(item)
            marked.append(item.key)
            record_event(
                session=session,
                actor=system_actor("jira sync"),
                action="work_item.missing",
                entity_type="work_item",
                entity_id=item.key,
                after={"reason": reason},
            )
    return marked


class _IssueValues(TypedDict):
    """The work-item fields a Jira issue sets."""

    jira_id: str | None
    project_key: str | None
    summary: str
    issue_type: str
    status: str
    status_category: str
    fix_versions: list[str]
    labels: list[str]
    assignee: str | None
    url: str | None
    updated: datetime | None


def _values(record: IssueRecord) -> _IssueValues:
    return {
        "jira_id": record.id,
        "project_key": record.project_key,
        "summary": record.summary,
        "issue_type": record.issue_type,
        "status": record.status,
        "status_category": record.status_category,
        "fix_versions": list(record.fix_versions),
        "labels": list(record.labels),
        "assignee": record.assignee,
        "url": record.url,
        "updated": record.updated,
    }


def _sync_label_links(
    session: Session, records: Sequence[IssueRecord], index: ObligationIndex, actor: Actor
) -> ApplyCounts:
    counts = ApplyCounts()
    wanted: dict[tuple[str, str], tuple[int, str]] = {}
    for record in records:
        for label in record.labels:
            obligation_id = label_obligation_id(label)
            if obligation_id is None:
                continue
            resolved = index.resolve(obligation_id)
            if resolved is None:
                counts.problems.append(
                    f"{record.key} has the label '{label}', but no obligation "
                    f"'{obligation_id}' is in the catalog: fix the label in Jira."
                )
                continue
            wanted[(resolved[0], record.key)] = (resolved[1], resolved[2])
    keys = [record.key for record in records]
    active = session.exec(
        select(WorkItemLink).where(
            col(WorkItemLink.work_item_key).in_(keys), col(WorkItemLink.removed_at).is_(None)
        )
    ).all()
    linked = {(link.obligation_id, link.work_item_key) for link in active}
    now = utcnow()
    # New rows go in as one executemany each: ORM inserts would be one statement per row
    # on SQLite (no ordered RETURNING), so a page's queries would grow with its links.
    new_links: list[dict[str, object]] = []
    events: list[EventSpec] = []
    for link in active:
        if link.origin == JIRA_ORIGIN and (link.obligation_id, link.work_item_key) not in wanted:
            link.removed_at = now
            link.removed_by = actor.label
            session.add(link)
            counts.links_removed += 1
            events.append(
                EventSpec(
                    "link.removed",
                    "obligation",
                    link.obligation_id,
                    before={"work_item": link.work_item_key, "origin": JIRA_ORIGIN},
                    after={"reason": "the obligation label was removed in Jira"},
                )
            )
    for (obligation_id, key), (version, fingerprint) in wanted.items():
        if (obligation_id, key) in linked:
            continue
        new_links.append(
            {
                "obligation_id": obligation_id,
                "work_item_key": key,
                "origin": JIRA_ORIGIN,
                "reviewed_version": version,
                "reviewed_fingerprint": fingerprint,
                "created_by": actor.label,
                "created_at": now,
            }
        )
        counts.links_added += 1
        events.append(
            EventSpec(
                "link.added",
                "obligation",
                obligation_id,
                after={"work_item": key, "origin": JIRA_ORIGIN},
            )
        )
    if new_links:
        session.execute(insert(WorkItemLink), new_links)
    record_events(session=session, actor=actor, events=events)
    return counts
