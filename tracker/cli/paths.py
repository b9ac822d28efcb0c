"""File arguments: click's Path, with a NUL refused as a usage error (a module of its own, light
enough for `tracker snapshot verify`, which loads neither the app nor the models)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click


class FilePath(click.Path):
    """click's Path, refusing a NUL (no file name has one) as a usage error, not a crash."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the path as click's Path does, once it is one the system can name."""
        if "\x00" in str(value):
            self.fail("a file name cannot contain a NUL character.", param, ctx)
        return super().convert(value, param, ctx)


def exit_on_problems(problems: Sequence[object], *, ok: bool, target: Path) -> None:
    """List a validation's problems on stderr; exit 1 when any is an error (`validate` commands)."""
    for problem in problems:
        click.echo(str(problem), err=True)
    if not ok:
        click.echo(f"{len(problems)} problem(s) in {target}.", err=True)
        sys.exit(1)
