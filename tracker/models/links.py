"""Tables of the links from obligations to work items and to tests (removed links keep rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from tracker.models.base import TableModel, utcnow


class LinkRecord(TableModel):
    """What every link records: where it came from, its review and its removal (rows stay)."""

    origin: str = Field(default="manual", max_length=16)
    reviewed_version: int = 1
    reviewed_fingerprint: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = None
    removed_by: str | None = Field(default=None, max_length=200)
    removed_at: datetime | None = None


class WorkItemLink(LinkRecord, table=True):
    """Obligation to work item; removed links keep their row with removed_at set."""

    __table_args__ = (Index("ix_workitemlink_pair", "obligation_id", "work_item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    work_item_key: str = Field(foreign_key="workitem.key", index=True, max_length=64)


class TestLink(LinkRecord, table=True):
    """Obligation to test case; removed links keep their row with removed_at set."""

    __test__ = False
    __table_args__ = (Index("ix_testlink_pair", "obligation_id", "test_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    test_case_id: int = Field(foreign_key="testcase.id", index=True)
