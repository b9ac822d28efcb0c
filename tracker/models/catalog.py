"""Tables of the catalog: instruments, obligations, versions, mappings, applicability decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from tracker.models.base import TableModel, json_dict, json_list, utcnow


class Instrument(TableModel, table=True):
    """A law or regulation, e.g. GDPR."""

    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=300)
    short_name: str = Field(max_length=64)
    jurisdiction: str = Field(max_length=64)
    official_url: str = Field(max_length=500)
    effective_date: date | None = None
    attribution: str | None = Field(default=None, max_length=500)
    source_file: str = Field(max_length=300)
    retired_at: datetime | None = None


class Obligation(TableModel, table=True):
    """The current version of one assessable duty (or a grouping node) of an instrument."""

    id: str = Field(primary_key=True, max_length=80)
    instrument_id: str = Field(foreign_key="instrument.id", index=True, max_length=32)
    parent_id: str | None = Field(default=None, max_length=80)
    citation: str = Field(max_length=200)
    title: str = Field(max_length=300)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    official_url: str = Field(max_length=500)
    assessable: bool = True
    severity: str | None = Field(default=None, max_length=16)
    lifecycle_status: str = Field(default="active", max_length=16)
    effective_date: date | None = None
    freshness_days: int = 30
    applicability: dict[str, list[str]] = json_dict()
    parameters: list[dict[str, Any]] = json_list()
    evidence: list[dict[str, Any]] = json_list()
    tags: list[str] = json_list()
    # Who reviews it and how often (the catalog's fields, else the instrument's, else defaults).
    owner: str | None = Field(default=None, max_length=200)
    review_every_days: int | None = None
    version: int = 1
    fingerprint: str = Field(max_length=64)
    sort_key: str = Field(max_length=200, index=True)
    source_file: str = Field(max_length=300)
    source_line: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class ObligationVersion(TableModel, table=True):
    """A past or current version of an obligation's normative content."""

    __table_args__ = (UniqueConstraint("obligation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    version: int
    fingerprint: str = Field(max_length=64)
    content: dict[str, Any] = json_dict()
    created_at: datetime = Field(default_factory=utcnow)


class ObligationMapping(TableModel, table=True):
    """A cross-law relationship from one obligation to another (equivalent-to, subset-of, ...)."""

    __table_args__ = (UniqueConstraint("source_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    target_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    relationship: str = Field(max_length=32)
    notes: str | None = Field(default=None, sa_column=Column(Text))


class ApplicabilityDecision(TableModel, table=True):
    """Legal's decision on whether an obligation applies; the newest row is the current one."""

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    not_applicable: bool
    justification: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=200)
    decided_role: str | None = Field(default=None, max_length=16)
    decided_at: datetime = Field(default_factory=utcnow)
    # The data map's proposal the decision was made against (None: made without one); a
    # proposal whose fingerprint has moved on since marks the decision for re-review.
    basis_proposal: str | None = Field(default=None, max_length=24)
    basis_fingerprint: str | None = Field(default=None, max_length=64)
