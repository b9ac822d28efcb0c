"""File arguments: click's Path, with a NUL refused as a usage error (a module of its own, light
enough for `tracker snapshot verify`, which loads neither the app nor the models)."""

from __future__ import annotations

from typing import Any

import click


class FilePath(click.Path):
    """click's Path, refusing a NUL (no file name has one) as a usage error, not a crash."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the path as click's Path does, once it is one the system can name."""
        if "\x00" in str(value):
            self.fail("a file name cannot contain a NUL character.", param, ctx)
        return super().convert(value, param, ctx)
