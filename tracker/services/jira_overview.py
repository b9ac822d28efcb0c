"""What the Jira page shows: recent runs, webhook deliveries, and work items missing in Jira."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from tracker.models import SyncRun, WorkItem, WorkItemLink
from tracker.services.jira_sync import last_sync_runs
from tracker.services.jira_webhooks import WebhookCounts, webhook_counts

RECENT_RUNS = 20


@dataclass(frozen=True)
class MissingItem:
    """A work item Jira no longer returns, and the obligations still linked to it."""

    key: str
    summary: str
    url: str | None
    missing_since: datetime | None
    obligation_ids: tuple[str, ...]


@dataclass(frozen=True)
class JiraOverview:
    """Recent runs (newest first), webhook deliveries and missing work items (by key)."""

    runs: list[SyncRun]
    missing: list[MissingItem]
    webhooks: WebhookCounts


def jira_overview(*, session: Session, limit: int = RECENT_RUNS) -> JiraOverview:
    """Return the newest runs and every missing work item with its linked obligations."""
    items = session.exec(
        select(WorkItem).where(WorkItem.missing == True).order_by(col(WorkItem.key))  # noqa: E712
    ).all()
    linked: dict[str, list[str]] = {}
    if items:
        rows = session.exec(
            select(WorkItemLink.work_item_key, WorkItemLink.obligation_id)
            .where(
                col(WorkItemLink.work_item_key).in_([item.key for item in items]),
                col(WorkItemLink.removed_at).is_(None),
            )
            .order_by(col(WorkItemLink.obligation_id))
        ).all()
        for key, obligation_id in rows:
            linked.setdefault(key, []).append(obligation_id)
    missing = [
        MissingItem(
            key=item.key,
            summary=item.summary,
            url=item.url,
            missing_since=item.synced_at,  # set when it was marked missing
            obligation_ids=tuple(dict.fromkeys(linked.get(item.key, []))),
        )
        for item in items
    ]
    return JiraOverview(
        runs=last_sync_runs(session, limit=limit),
        missing=missing,
        webhooks=webhook_counts(session=session),
    )
