"""What text a person or a script may hand the tracker: no control characters, bounded length."""

from __future__ import annotations

import re

#: C0 and C1 control characters and DEL: PostgreSQL refuses NUL, and none belongs in a value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: The same, but with tab, line feed and carriage return allowed (multi-line text).
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """Return whether the text holds a control character (multiline: tabs and breaks allowed)."""
    return (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value) is not None


def text_problem(name: str, value: str, maximum: int, multiline: bool = False) -> str | None:
    """Return what is wrong with a value for a field (None when nothing is), in plain words."""
    shown = field_label(name)
    if has_control_characters(value, multiline):
        others = " other than line breaks and tabs" if multiline else ""
        return (
            f"{shown} must not contain control characters{others}. Remove them (a NUL, for "
            "one, cannot be stored) and try again."
        )
    if len(value) > maximum:
        return f"{shown} is too long: use at most {maximum} characters. It has {len(value)}."
    return None


def field_label(name: str) -> str:
    """Return a field's name as a message shows it (hostile names are cut and cleaned)."""
    cleaned = _CONTROL.sub("?", name).replace("_", " ")
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"
