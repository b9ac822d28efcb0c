"""Tables of the history: hash-chained audit events, the chain's head, the count of writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field

from tracker.models.base import TableModel, utcnow


class AuditEvent(TableModel, table=True):
    """Who did what to which thing, with the state before and after; append-only, hash-chained."""

    __table_args__ = (Index("ix_auditevent_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    actor_ref: str = Field(default="system", max_length=64, index=True)
    actor_role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=1000)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHead(TableModel, table=True):
    """The last audit event written: appends lock this row, and a verifier checks the tail."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class DataGeneration(TableModel, table=True):
    """The one row counting committed writes that can change a status (see tracker.generation)."""

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    token: str = Field(max_length=32)
    changed_at: datetime = Field(default_factory=utcnow)


class DataGenerationChange(TableModel, table=True):
    """One move of the data generation and the obligations it changed (NULL: any of them)."""

    value: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    token: str = Field(max_length=32)
    #: A JSON list of obligation ids, or NULL when the write may have changed any status.
    obligation_ids: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
