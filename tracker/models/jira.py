"""Tables of the Jira side: work items, versions, syncs, locks, remote links, webhooks, epics."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field

from tracker.models.base import TableModel, json_list, utcnow


class WorkItem(TableModel, table=True):
    """The tracker's copy of a Jira issue (usually an epic)."""

    key: str = Field(primary_key=True, max_length=64)
    jira_id: str | None = Field(default=None, max_length=32)
    project_key: str | None = Field(default=None, max_length=32, index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    issue_type: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=64)
    status_category: str = Field(default="new", max_length=16)
    fix_versions: list[str] = json_list()
    labels: list[str] = json_list()
    assignee: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=500)
    updated: datetime | None = None
    missing: bool = False
    # False when only fetched by key because it is linked (outside the sync's JQL).
    in_scope: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    synced_at: datetime | None = None


class JiraVersion(TableModel, table=True):
    """A Jira fix version (a release) of a project."""

    id: str = Field(primary_key=True, max_length=32)
    project_key: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    released: bool = False
    archived: bool = False
    release_date: date | None = None


class SyncRun(TableModel, table=True):
    """One run of a Jira sync or push, with what it did and what went wrong."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="sync", max_length=16)
    status: str = Field(default="running", max_length=32)
    full: bool = False
    dry_run: bool = False
    actor: str = Field(default="system", max_length=200)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    watermark_from: datetime | None = None
    watermark_to: datetime | None = None
    pages: int = 0
    requests: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    links_added: int = 0
    links_removed: int = 0
    problems: list[str] = json_list()


class SyncLock(TableModel, table=True):
    """A named lock row; inserting it is how one sync excludes another on any database."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    # Where the holder runs, so a lock left by a killed process on this host is taken over.
    host: str | None = Field(default=None, max_length=200)
    pid: int | None = None


class RemoteLinkState(TableModel, table=True):
    """What the tracker last pushed to a Jira issue as a remote link, by its stable globalId."""

    __table_args__ = (UniqueConstraint("work_item_key", "global_id"),)

    id: int | None = Field(default=None, primary_key=True)
    work_item_key: str = Field(max_length=64, index=True)
    global_id: str = Field(max_length=255)
    obligation_id: str = Field(max_length=80, index=True)
    title: str = Field(max_length=500)
    url: str = Field(max_length=500)
    resolved: bool = False
    pushed_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(TableModel, table=True):
    """A Jira webhook delivery already processed, for de-duplication and the Jira page's counts.

    identifier is "sha256:" and the hash of Jira's identifier header, or "body-sha256:" and the
    hash of the signed body when there is no header; outcome is applied, stale, deleted or
    ignored.
    """

    identifier: str = Field(primary_key=True, max_length=200)
    event: str = Field(max_length=64)
    issue_key: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(
        default="applied", max_length=16, sa_column_kwargs={"server_default": "applied"}
    )


class EpicRequest(TableModel, table=True):
    """An epic the tracker created for an obligation's gap, so a re-run never creates two."""

    __table_args__ = (UniqueConstraint("obligation_id", "project_key"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    project_key: str = Field(max_length=32)
    work_item_key: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
