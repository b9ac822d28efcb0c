"""Tables of releases: tracker-made ones, sign-offs, exceptions, readiness history, snapshots."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field

from tracker.models.base import TableModel, utcnow


class TrackerRelease(TableModel, table=True):
    """A release created in the tracker; Jira fix versions of the same name join it."""

    __tablename__ = "release"

    name: str = Field(primary_key=True, max_length=200)
    release_date: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SignOff(TableModel, table=True):
    """Legal's statement that an obligation is met for a release; the newest one counts."""

    __table_args__ = (Index("ix_signoff_release_obligation", "release", "obligation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    obligation_version: int
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=32)  # the status it was given on
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signed_by: str = Field(max_length=200)
    signed_by_ref: str = Field(max_length=64)
    signed_role: str | None = Field(default=None, max_length=16)
    signed_at: datetime = Field(default_factory=utcnow)


class ReleaseException(TableModel, table=True):
    """An accepted risk for one obligation in one release: requested, approved by another."""

    __table_args__ = (Index("ix_releaseexception_release", "release", "obligation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    justification: str = Field(sa_column=Column(Text, nullable=False))
    compensating_control: str = Field(sa_column=Column(Text, nullable=False))
    risk_owner: str = Field(max_length=200)
    expires_on: date
    requested_by: str = Field(max_length=200)
    requested_by_ref: str = Field(max_length=64)
    requested_at: datetime = Field(default_factory=utcnow)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_by_ref: str | None = Field(default=None, max_length=64)
    approved_role: str | None = Field(default=None, max_length=16)
    approved_at: datetime | None = None
    withdrawn_at: datetime | None = None


class ReadinessRecord(TableModel, table=True):
    """How many obligations blocked a release on a day (the burn-down's history)."""

    release: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    blocking: int
    total: int
    recorded_at: datetime = Field(default_factory=utcnow)


class ReleaseSnapshot(TableModel, table=True):
    """A frozen record of a release: canonical JSON, its hash and the previous snapshot's."""

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200, index=True)
    hash: str = Field(max_length=64, unique=True)
    previous_hash: str | None = Field(default=None, max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    ready: bool
    frozen_by: str = Field(max_length=200)
    frozen_at: datetime = Field(default_factory=utcnow)
