"""Base of the tables: the SQLModel base class, timestamps and JSON column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig


def utcnow() -> datetime:
    """Return the current time in UTC (every timestamp is stored timezone-aware)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return the time as timezone-aware UTC (a naive one, as SQLite may give back, is UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TableModel(SQLModel):
    """Base of the tables: pydantic builds a table's validator when one is first needed.

    The tables are read and written through SQLAlchemy, so most commands never need one, and
    building them all at import cost every `tracker` command about 30 ms.
    """

    model_config = SQLModelConfig(defer_build=True)


def column_length(model: type[SQLModel], field: str) -> int:
    """Return the length of a table's string column, the bound of what may be stored in it."""
    length = getattr(sa_inspect(model).columns[field].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{field} has no length: bound it some other way")
    return length


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
