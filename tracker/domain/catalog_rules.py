"""Rules across catalog files: duplicates, parents, cycles, mapping targets, fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker.domain.catalog_schema import (
    NORMATIVE_FIELDS,
    OBLIGATION_ID_PATTERN,
    InstrumentSpec,
    ObligationSpec,
)
from tracker.errors import Problem

#: The instrument id of obligations in a file whose instrument is itself invalid.
UNKNOWN_INSTRUMENT = "?"
#: The instrument id of the retention duties, which come from the data map: the catalog's
#: files may not use it.
RETENTION_INSTRUMENT = "RETENTION"

_OBLIGATION_ID = re.compile(OBLIGATION_ID_PATTERN)


@dataclass(frozen=True)
class Outline:
    """What the rules across files need of an entry: its id, parent and mapping targets.

    An entry that failed validation still has an outline of its valid parts, so that a bad
    severity does not hide an unknown mapping target or a duplicate id.
    """

    id: str
    instrument_id: str
    file: str
    line: int
    parent: str | None = None
    mapping_targets: tuple[tuple[int, str], ...] = ()
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        """Return the line of a field, or the entry's own line."""
        return self.field_lines.get(name, self.line)


@dataclass(frozen=True)
class Located:
    """A parsed obligation with where it was found."""

    spec: ObligationSpec
    instrument_id: str
    file: str
    line: int
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        """Return the line of a field, or the obligation's own line."""
        return self.field_lines.get(name, self.line)

    def outline(self) -> Outline:
        """Return the parts the rules across files check."""
        return Outline(
            id=self.spec.id,
            instrument_id=self.instrument_id,
            file=self.file,
            line=self.line,
            parent=self.spec.parent,
            mapping_targets=tuple(
                (index, mapping.target) for index, mapping in enumerate(self.spec.mappings)
            ),
            field_lines=self.field_lines,
        )


def outline_of_raw(
    raw: Mapping[str, Any],
    *,
    instrument_id: str,
    file: str,
    line: int,
    field_lines: dict[str, int],
) -> Outline | None:
    """Return the outline of an entry that failed validation, from its well-formed parts."""
    obligation_id = raw.get("id")
    if not _is_obligation_id(obligation_id):
        return None
    parent = raw.get("parent")
    mappings = raw.get("mappings")
    targets = []
    if isinstance(mappings, list):
        for index, mapping in enumerate(mappings):
            target = mapping.get("target") if isinstance(mapping, Mapping) else None
            if _is_obligation_id(target):
                targets.append((index, str(target)))
    return Outline(
        id=str(obligation_id),
        instrument_id=instrument_id,
        file=file,
        line=line,
        parent=str(parent) if _is_obligation_id(parent) else None,
        mapping_targets=tuple(targets),
        field_lines=field_lines,
    )


def _is_obligation_id(value: Any) -> bool:
    return isinstance(value, str) and _OBLIGATION_ID.fullmatch(value.strip()) is not None


@dataclass(frozen=True)
class Catalog:
    """A whole catalog: instruments and obligations, valid or with the problems found."""

    instruments: tuple[tuple[InstrumentSpec, str], ...]
    obligations: tuple[Located, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Return whether no error was found."""
        return not any(problem.severity == "error" for problem in self.problems)

    @property
    def ids(self) -> frozenset[str]:
        """Return every obligation id in the catalog."""
        return frozenset(located.spec.id for located in self.obligations)

    def size(self) -> str:
        """Return its size as people read it: '246 entries (202 obligations in 44 groups)'."""
        assessable = sum(1 for located in self.obligations if located.spec.assessable)
        return entries_phrase(len(self.obligations), assessable)


def entries_phrase(entries: int, assessable: int) -> str:
    """Return '246 entries (202 obligations in 44 groups)': groups are the entries not assessed."""
    groups = entries - assessable
    return (
        f"{_count(entries, 'entry', 'entries')} ({_count(assessable, 'obligation')} "
        f"in {_count(groups, 'group')})"
    )


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def cross_file_problems(
    instruments: Iterable[tuple[InstrumentSpec, str]],
    entries: Iterable[Outline],
    *,
    unread_files: bool = False,
) -> list[Problem]:
    """Return the problems no single file can show: duplicates, unknown refs, cycles.

    With unread_files (a file could not be read at all), a reference to an instrument no
    readable file defines is not reported: it most likely points into the unread file, whose
    own problem is the one to fix.
    """
    problems: list[Problem] = []
    seen_instruments: dict[str, str] = {}
    for instrument, file in instruments:
        if instrument.id in seen_instruments:
            problems.append(
                Problem(
                    f"instrument {instrument.id} is also defined in "
                    f"{seen_instruments[instrument.id]}",
                    file=file,
                    field="instrument.id",
                )
            )
        seen_instruments.setdefault(instrument.id, file)

    by_id: dict[str, Outline] = {}
    entry_list = list(entries)
    known_instruments = set(seen_instruments) | {entry.instrument_id for entry in entry_list}

    def unknown(reference: str) -> bool:
        if reference in by_id:
            return False
        return not unread_files or reference.split("-", 1)[0] in known_instruments

    for entry in entry_list:
        first = by_id.get(entry.id)
        if first is not None:
            problems.append(
                Problem(
                    f"duplicate id: already defined at {first.file}:{first.line}",
                    file=entry.file,
                    line=entry.line_of("id"),
                    obligation_id=entry.id,
                    field="id",
                )
            )
            continue
        by_id[entry.id] = entry
        if entry.instrument_id != UNKNOWN_INSTRUMENT and not entry.id.startswith(
            entry.instrument_id + "-"
        ):
            problems.append(
                Problem(
                    f"id must start with the file's instrument id '{entry.instrument_id}-'",
                    file=entry.file,
                    line=entry.line_of("id"),
                    obligation_id=entry.id,
                    field="id",
                )
            )

    for entry in entry_list:
        if by_id.get(entry.id) is not entry:
            continue
        if entry.parent is not None:
            parent = by_id.get(entry.parent)
            if parent is None and unknown(entry.parent):
                problems.append(_ref_problem(entry, "parent", f"unknown parent '{entry.parent}'"))
            elif parent is not None and (
                UNKNOWN_INSTRUMENT not in (parent.instrument_id, entry.instrument_id)
                and parent.instrument_id != entry.instrument_id
            ):
                problems.append(
                    _ref_problem(entry, "parent", "parent must belong to the same instrument")
                )
        for index, target in entry.mapping_targets:
            if target == entry.id:
                problems.append(
                    _ref_problem(
                        entry, "mappings", f"mappings[{index}] maps the obligation to itself"
                    )
                )
            elif unknown(target):
                problems.append(
                    _ref_problem(entry, "mappings", f"mappings[{index}]: unknown target '{target}'")
                )
    problems.extend(_cycle_problems(by_id))
    return problems


def _ref_problem(entry: Outline, name: str, message: str) -> Problem:
    return Problem(
        message,
        file=entry.file,
        line=entry.line_of(name),
        obligation_id=entry.id,
        field=name,
    )


def _cycle_problems(by_id: dict[str, Outline]) -> list[Problem]:
    problems = []
    reported: set[str] = set()
    for start in by_id:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in by_id and current not in path:
            path.append(current)
            current = by_id[current].parent
        if current is not None and current in path:
            cycle = path[path.index(current) :]
            if reported.isdisjoint(cycle):
                reported.update(cycle)
                problems.append(
                    _ref_problem(
                        by_id[current], "parent", "parent cycle: " + " -> ".join([*cycle, current])
                    )
                )
    return problems


def normative_content(spec: ObligationSpec) -> dict[str, Any]:
    """Return the normative fields of an obligation as plain JSON values."""
    data = spec.model_dump(mode="json")
    return {name: data[name] for name in NORMATIVE_FIELDS}


def fingerprint(spec: ObligationSpec) -> str:
    """Return a stable hash of the normative fields; a change means a new version."""
    return content_fingerprint(spec.model_dump(mode="json"))


def content_fingerprint(content: dict[str, Any]) -> str:
    """Return the fingerprint of an obligation from its spec's model_dump(mode="json")."""
    normative = {name: content[name] for name in NORMATIVE_FIELDS}
    canonical = json.dumps(normative, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_NATURAL_PART = re.compile(r"(\d+)")


def sort_key(obligation_id: str) -> str:
    """Return a key that sorts ids naturally (GDPR-5 before GDPR-17, 1798.100 before 1798.105)."""
    parts = _NATURAL_PART.split(obligation_id)
    return "".join(part.zfill(8) if part.isdigit() else part for part in parts)[:200]
