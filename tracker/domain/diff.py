"""Differences between two versions of an obligation, field by field and word by word."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

#: Unchanged words kept on each side of a change; longer unchanged runs are cut in between.
CONTEXT_WORDS = 8

SegmentKind = Literal["same", "removed", "added", "gap"]


@dataclass(frozen=True)
class Segment:
    """A run of words that stayed, went or came; a gap stands for unchanged words left out."""

    kind: SegmentKind
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions, with a word diff of its text."""

    field: str
    before: str
    after: str
    segments: tuple[Segment, ...]


def diff_versions(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Return the fields that changed from one version's content to another's."""
    changes = []
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        old_text = _text(old) if old is not None else ""
        new_text = _text(new) if new is not None else ""
        changes.append(FieldChange(field, old_text, new_text, word_diff(old_text, new_text)))
    return changes


def word_diff(before: str, after: str, context: int = CONTEXT_WORDS) -> tuple[Segment, ...]:
    """Return the words removed, added and kept from before to after, keeping the spacing.

    Words are compared without their spacing, so re-wrapping a sentence changes nothing;
    unchanged runs longer than twice the context are cut to a gap.
    """
    old, new = _words(before), _words(after)
    matcher = difflib.SequenceMatcher(None, [w for w, _ in old], [w for w, _ in new], False)
    opcodes = matcher.get_opcodes()
    segments: list[Segment] = []
    for index, (tag, old_start, old_end, new_start, new_end) in enumerate(opcodes):
        if tag == "equal":
            first, last = index == 0, index == len(opcodes) - 1
            segments.extend(_kept(new[new_start:new_end], context, first=first, last=last))
            continue
        removed, added = _join(old[old_start:old_end]), _join(new[new_start:new_end])
        if not added:  # a deletion keeps its spacing, or its neighbours would run together
            segments.append(Segment("removed", removed))
            continue
        # The spacing after new words is the new text's own: unchanged, only words are marked.
        spacing = added[len(added.rstrip()) :]
        if removed:
            segments.append(Segment("removed", removed.rstrip()))
        segments.append(Segment("added", added.rstrip()))
        if spacing:
            segments.append(Segment("same", spacing))
    return tuple(_merged(segments))


def _merged(segments: list[Segment]) -> list[Segment]:
    """Join neighbouring segments of the same kind (gaps stay apart)."""
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].kind == segment.kind and segment.kind != "gap":
            merged[-1] = Segment(segment.kind, merged[-1].text + segment.text)
        else:
            merged.append(segment)
    return merged


def _kept(words: list[tuple[str, str]], context: int, *, first: bool, last: bool) -> list[Segment]:
    """Return an unchanged run, cut to the words next to the changes around it."""
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if first and last:  # nothing changed but spacing
        keep_head = context
    if len(words) <= keep_head + keep_tail + 1:
        return [Segment("same", _join(words))]
    segments = []
    if keep_head:
        segments.append(Segment("same", _join(words[:keep_head])))
    segments.append(Segment("gap", "…"))
    if keep_tail:
        segments.append(Segment("same", _join(words[-keep_tail:])))
    return segments


_WORD = re.compile(r"(\S+)(\s*)")


def _words(text: str) -> list[tuple[str, str]]:
    """Split text into (word, the spacing after it); leading spacing is dropped."""
    return [(match[1], match[2]) for match in _WORD.finditer(text)]


def _join(words: list[tuple[str, str]]) -> str:
    return "".join(word + space for word, space in words)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
