"""Differences between two versions of an obligation, field by field."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions, with a line diff of its text."""

    field: str
    before: str
    after: str
    diff: tuple[str, ...]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def diff_versions(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Return the fields that changed from one version's content to another's."""
    changes = []
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        old_text, new_text = (
            _text(old) if old is not None else "",
            _text(new) if new is not None else "",
        )
        lines = difflib.unified_diff(
            _wrap(old_text), _wrap(new_text), fromfile="before", tofile="after", lineterm="", n=2
        )
        changes.append(FieldChange(field, old_text, new_text, tuple(list(lines)[2:])))
    return changes


def _wrap(text: str) -> list[str]:
    """Split long prose into sentences so a one-word change shows as a small diff."""
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        lines.extend(part.strip() for part in line.replace(". ", ".\n").splitlines())
    return lines
