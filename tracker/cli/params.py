"""Command-line values checked like web input: no control characters, bounded lengths and ids.

A value that cannot be used is a usage error (exit 2) naming the argument, before any command
touches the database: PostgreSQL refuses a NUL or an over-long value with an error no person
can act on.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from tracker.domain.bounds import DATABASE_INTEGER_MAX, EARLIEST_DATE, LATEST_DATE, MAX_QUERY_VALUE
from tracker.domain.text_rules import text_problem

if TYPE_CHECKING:
    from sqlmodel import SQLModel


class BoundedText(click.ParamType[str]):
    """Text refused when it holds control characters or is longer than its bound."""

    name = "text"

    def __init__(self, maximum: int = MAX_QUERY_VALUE) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the text, or fail with what is wrong with it."""
        text = str(value)
        problem = text_problem("it", text, self.maximum)
        if problem is not None:
            self.fail(problem, param, ctx)
        return text


class ColumnText(BoundedText):
    """Text that is stored in (or compared with) a column, bounded by the column's length.

    The model may be named ("TestRun", a class of tracker.models): its column is then looked up
    when a value is checked, so that defining a command (and `--help`) imports no models.
    """

    def __init__(self, model: type[SQLModel] | str, field: str) -> None:
        self.model = model
        self.field = field

    @cached_property
    def maximum(self) -> int:  # type: ignore[override]
        """Return the column's length."""
        from tracker import models

        model = getattr(models, self.model) if isinstance(self.model, str) else self.model
        return models.column_length(model, self.field)


class RecordId(click.ParamType[int]):
    """The number of a stored record: a whole number an id column can hold."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Return the number, or fail saying which numbers there can be."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not (text.isascii() and text.isdigit()) or len(text) > 10:
                self.fail(self._bounds(str(value)), param, ctx)
            number = int(text)
        if not 1 <= number <= DATABASE_INTEGER_MAX:
            self.fail(self._bounds(str(value)), param, ctx)
        return number

    @staticmethod
    def _bounds(value: str) -> str:
        shown = value if len(value) <= 20 and value.isprintable() else "that"
        return f"{shown} is not a record number: use a number from 1 to {DATABASE_INTEGER_MAX}."


class IsoDate(click.ParamType[date]):
    """A date written as year-month-day, within the years a stored date may have."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        """Return the date, or fail saying how to write it."""
        if isinstance(value, date):
            day: date | None = value
        else:
            text = str(value).strip()
            try:
                day = date.fromisoformat(text) if len(text) == 10 and text.isascii() else None
            except ValueError:
                day = None
        if day is None:
            self.fail("write it as year-month-day, e.g. 2026-12-15.", param, ctx)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            self.fail(
                f"it must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.",
                param,
                ctx,
            )
        return day


#: The address and port a command serves the web app on (`tracker serve`, `tracker demo`).
host_option = click.option("--host", default="127.0.0.1", show_default=True, type=BoundedText(253))
port_option = click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
