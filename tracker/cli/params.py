"""Command-line values checked like web input: no control characters, bounded by their column."""

from __future__ import annotations

from typing import Any

import click
from sqlmodel import SQLModel

from tracker.domain.text_rules import text_problem
from tracker.models import column_length


class ColumnText(click.ParamType[str]):
    """Text that is stored in a column: refused when it holds control characters or is too long."""

    name = "text"

    def __init__(self, model: type[SQLModel], field: str) -> None:
        self.maximum = column_length(model, field)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the text, or fail with what is wrong with it."""
        text = str(value)
        problem = text_problem("it", text, self.maximum)
        if problem is not None:
            self.fail(problem, param, ctx)
        return text
