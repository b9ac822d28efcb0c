"""Tables of the privacy program: the data map, DPIAs, proposals, retention duties, reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field

from tracker.models.base import TableModel, json_dict, json_list, utcnow

# --- the data map (loaded from data_map/*.yaml, all or nothing) -----------------------------


class DataSystem(TableModel, table=True):
    """A system that stores or processes personal data, as the data map describes it."""

    id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    jira_project: str | None = Field(default=None, max_length=16)
    spec: dict[str, Any] = json_dict()
    fingerprint: str = Field(max_length=64)
    source_file: str = Field(max_length=300)
    source_line: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class ProcessingActivity(TableModel, table=True):
    """One processing activity of the data map (GDPR Art. 30 record); spec holds all of it."""

    id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=16)
    dpia_required: bool = False
    review_every_days: int | None = None
    spec: dict[str, Any] = json_dict()
    fingerprint: str = Field(max_length=64)
    version: int = 1
    source_file: str = Field(max_length=300)
    source_line: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class Dpia(TableModel, table=True):
    """A data protection impact assessment of one activity, as its YAML file states it."""

    id: str = Field(primary_key=True, max_length=80)
    activity_id: str = Field(index=True, max_length=80)
    title: str = Field(max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    review_every_days: int | None = None
    spec: dict[str, Any] = json_dict()
    fingerprint: str = Field(max_length=64)
    version: int = 1
    source_file: str = Field(max_length=300)
    source_line: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class DpiaSignOff(TableModel, table=True):
    """The DPO's or legal's sign-off of one version of a DPIA; a changed DPIA needs a new one."""

    id: int | None = Field(default=None, primary_key=True)
    dpia_id: str = Field(index=True, max_length=80)
    fingerprint: str = Field(max_length=64)
    version: int
    signed_by: str = Field(max_length=200)
    signed_role: str | None = Field(default=None, max_length=16)
    signed_at: datetime = Field(default_factory=utcnow)
    next_review_on: date
    note: str | None = Field(default=None, sa_column=Column(Text))


# --- applicability proposed from the data map -----------------------------------------------


class ApplicabilityProposal(TableModel, table=True):
    """What the data map says about whether an obligation applies, and why.

    Recomputed whenever the data map or the catalog is loaded; `fingerprint` changes when the
    proposal or its reasons do, which is how a decision made against an older one is found.
    """

    obligation_id: str = Field(primary_key=True, foreign_key="obligation.id", max_length=80)
    proposal: str = Field(max_length=24)
    reasons: list[str] = json_list()
    activities: list[str] = json_list()
    fingerprint: str = Field(max_length=64)
    computed_at: datetime = Field(default_factory=utcnow)


# --- retention duties (each one an obligation of the RETENTION instrument) ------------------


class RetentionDuty(TableModel, table=True):
    """What a retention duty is about: a data category kept in a system for a period."""

    obligation_id: str = Field(primary_key=True, foreign_key="obligation.id", max_length=80)
    data_category: str = Field(index=True, max_length=120)
    system_id: str = Field(index=True, max_length=80)
    period: str = Field(max_length=32)
    period_days: int
    trigger: str = Field(max_length=64)
    activities: list[str] = json_list()
    #: Each activity's own rule: {activity, activity_name, period, period_days, trigger, note},
    #: the one whose period applies (the longest) first.
    purposes: list[dict[str, Any]] = json_list()
    retired_at: datetime | None = None


# --- periodic reviews and review campaigns ---------------------------------------------------


class ReviewCampaign(TableModel, table=True):
    """A set of reviews compliance assigns to reviewers with one due date."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    due_on: date
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class Review(TableModel, table=True):
    """One review of an obligation, activity or DPIA: assigned, then recorded with its outcome."""

    __table_args__ = (Index("ix_review_item", "item_kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="reviewcampaign.id", index=True)
    item_kind: str = Field(max_length=16)
    item_id: str = Field(max_length=80)
    reviewer: str = Field(max_length=200)
    due_on: date | None = None
    outcome: str | None = Field(default=None, max_length=16)
    finding: str | None = Field(default=None, sa_column=Column(Text))
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = None
    work_item_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
