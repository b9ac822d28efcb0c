"""Rules across catalog files: duplicates, parents, cycles, mapping targets, fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracker.domain.catalog_schema import NORMATIVE_FIELDS, InstrumentSpec, ObligationSpec
from tracker.errors import Problem


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


def cross_file_problems(
    instruments: Iterable[tuple[InstrumentSpec, str]], obligations: Iterable[Located]
) -> list[Problem]:
    """Return the problems no single file can show: duplicates, unknown refs, cycles."""
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

    by_id: dict[str, Located] = {}
    located_list = list(obligations)
    for located in located_list:
        spec = located.spec
        first = by_id.get(spec.id)
        if first is not None:
            problems.append(
                Problem(
                    f"duplicate id: already defined at {first.file}:{first.line}",
                    file=located.file,
                    line=located.line_of("id"),
                    obligation_id=spec.id,
                    field="id",
                )
            )
            continue
        by_id[spec.id] = located
        if not spec.id.startswith(located.instrument_id + "-"):
            problems.append(
                Problem(
                    f"id must start with the file's instrument id '{located.instrument_id}-'",
                    file=located.file,
                    line=located.line_of("id"),
                    obligation_id=spec.id,
                    field="id",
                )
            )

    for located in located_list:
        spec = located.spec
        if by_id.get(spec.id) is not located:
            continue
        if spec.parent is not None:
            parent = by_id.get(spec.parent)
            if parent is None:
                problems.append(_ref_problem(located, "parent", f"unknown parent '{spec.parent}'"))
            elif parent.instrument_id != located.instrument_id:
                problems.append(
                    _ref_problem(located, "parent", "parent must belong to the same instrument")
                )
        for index, mapping in enumerate(spec.mappings):
            if mapping.target == spec.id:
                problems.append(
                    _ref_problem(
                        located, "mappings", f"mappings[{index}] maps the obligation to itself"
                    )
                )
            elif mapping.target not in by_id:
                problems.append(
                    _ref_problem(
                        located, "mappings", f"mappings[{index}]: unknown target '{mapping.target}'"
                    )
                )
    problems.extend(_cycle_problems(by_id))
    return problems


def _ref_problem(located: Located, name: str, message: str) -> Problem:
    return Problem(
        message,
        file=located.file,
        line=located.line_of(name),
        obligation_id=located.spec.id,
        field=name,
    )


def _cycle_problems(by_id: dict[str, Located]) -> list[Problem]:
    problems = []
    reported: set[str] = set()
    for start in by_id:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in by_id and current not in path:
            path.append(current)
            current = by_id[current].spec.parent
        if current is not None and current in path:
            cycle = path[path.index(current) :]
            if reported.isdisjoint(cycle):
                reported.update(cycle)
                located = by_id[current]
                problems.append(
                    _ref_problem(
                        located, "parent", "parent cycle: " + " -> ".join([*cycle, current])
                    )
                )
    return problems


def normative_content(spec: ObligationSpec) -> dict[str, Any]:
    """Return the normative fields of an obligation as plain JSON values."""
    data = spec.model_dump(mode="json")
    return {name: data[name] for name in NORMATIVE_FIELDS}


def fingerprint(spec: ObligationSpec) -> str:
    """Return a stable hash of the normative fields; a change means a new version."""
    canonical = json.dumps(normative_content(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_NATURAL_PART = re.compile(r"(\d+)")


def sort_key(obligation_id: str) -> str:
    """Return a key that sorts ids naturally (GDPR-5 before GDPR-17, 1798.100 before 1798.105)."""
    parts = _NATURAL_PART.split(obligation_id)
    return "".join(part.zfill(8) if part.isdigit() else part for part in parts)[:200]
