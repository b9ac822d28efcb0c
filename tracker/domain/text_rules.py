"""What text a person or a script may hand the tracker: no control characters, bounded length.

The one rule for every edge (web, CLI, JUnit run options, Jira payloads): C0 control
characters (tab, line feed and carriage return allowed where text may span lines), DEL, C1,
and halves of surrogate pairs. PostgreSQL refuses a NUL, and no database or encoder takes half
a surrogate pair (what undecodable bytes of a command-line argument or a JSON `\\ud800` escape
turn into). Other characters are text, however unusual: a non-breaking space, U+2028.
"""

from __future__ import annotations

import re

#: Every character the rule refuses in single-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same for multi-line text: tab, line feed and carriage return allowed.
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
#: How messages name halves of surrogate pairs: what a person typed was not text to begin with.
NOT_TEXT = "characters that are not valid text (bytes that are not UTF-8, or half a surrogate pair)"


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """Return whether the text holds a refused character (multiline: tabs and breaks allowed)."""
    return _pattern(multiline).search(value) is not None


def character_problem(value: str, multiline: bool = False) -> str | None:
    """Return which refused characters the text holds, as a message names them (None if none)."""
    if not has_control_characters(value, multiline):
        return None
    if _SURROGATES.search(value):
        return NOT_TEXT
    return (
        "control characters other than line breaks and tabs" if multiline else "control characters"
    )


def text_problem(name: str, value: str, maximum: int, multiline: bool = False) -> str | None:
    """Return what is wrong with a value for a field (None when nothing is), in plain words."""
    shown = field_label(name)
    characters = character_problem(value, multiline)
    if characters == NOT_TEXT:
        return f"{shown} must not contain {characters}. Type it again as plain text."
    if characters is not None:
        return (
            f"{shown} must not contain {characters}. Remove them (a NUL, for one, cannot be "
            "stored) and try again."
        )
    if len(value) > maximum:
        return f"{shown} is too long: use at most {maximum} characters. It has {len(value)}."
    return None


def without_control_characters(value: str, replacement: str = "?") -> str:
    """Return the text with each refused character replaced, to show or store an outside name."""
    return _CONTROL.sub(replacement, value)


def field_label(name: str) -> str:
    """Return a field's name as a message shows it (hostile names are cut and cleaned)."""
    cleaned = without_control_characters(name).replace("_", " ")
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"


def _pattern(multiline: bool) -> re.Pattern[str]:
    return _CONTROL_BUT_LINES if multiline else _CONTROL
