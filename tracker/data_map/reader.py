"""Read data map YAML files into specs, collecting every problem with its file, line and field.

The checks across entries (names that must exist, unique ids) are in data_map/cross_checks.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tracker.catalog.reader import CATALOG_SUFFIXES, line_for, pydantic_problems
from tracker.catalog.yaml_documents import display_path, read_yaml_document
from tracker.data_map.cross_checks import SECTIONS, Entry, cross_problems
from tracker.domain.data_map_schema import ActivitySpec, DpiaSpec, SystemSpec
from tracker.domain.data_map_vocabulary import IMPACT_WORDS, LIKELIHOOD_WORDS
from tracker.errors import CatalogError, Problem

_SPECS: dict[str, type[BaseModel]] = {
    "systems": SystemSpec,
    "activities": ActivitySpec,
    "dpias": DpiaSpec,
}
_SCHEMA_HINT = "check the spelling; see data_map/schema.json"

Spec = TypeVar("Spec", SystemSpec, ActivitySpec, DpiaSpec)


@dataclass(frozen=True)
class LocatedItem(Generic[Spec]):
    """A valid entry with where it was written."""

    spec: Spec
    file: str
    line: int
    raw: Any = field(repr=False, compare=False)

    def line_of(self, *path: str | int) -> int:
        """Return the line of a field (or the nearest line known above it)."""
        found = line_for(self.raw, list(path))
        return found if found is not None else self.line


@dataclass(frozen=True)
class DataMap:
    """Everything read from the data map's files, and every problem found in them."""

    systems: tuple[LocatedItem[SystemSpec], ...]
    activities: tuple[LocatedItem[ActivitySpec], ...]
    dpias: tuple[LocatedItem[DpiaSpec], ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Tell whether the data map has no error (and so may be loaded)."""
        return not any(problem.severity == "error" for problem in self.problems)

    def summary(self) -> str:
        """Return 'N activities on M systems, K DPIAs' for messages."""
        dpias = "1 DPIA" if len(self.dpias) == 1 else f"{len(self.dpias)} DPIAs"
        return (
            f"{len(self.activities)} processing activities on {len(self.systems)} systems, {dpias}"
        )


def read_data_map(path: Path, *, known_obligations: frozenset[str] | None = None) -> DataMap:
    """Read and validate every data map file under path; problems are collected, not raised.

    With `known_obligations`, each DPIA mitigation's obligations must be among them.
    """
    problems: list[Problem] = []
    found: dict[str, list[LocatedItem[Any]]] = {section: [] for section in SECTIONS}
    entries: list[Entry] = []
    files = _files(path)
    if not files:
        problems.append(Problem("no data map files (*.yaml) found", file=display_path(path)))
    for file in files:
        for entry in _read_file(file, problems):
            entries.append(entry)
            item = _read_entry(entry, problems)
            if item is not None:
                found[entry.section].append(item)
    systems = tuple(found["systems"])
    activities = tuple(found["activities"])
    dpias = tuple(found["dpias"])
    problems.extend(cross_problems(entries, known_obligations))
    return DataMap(systems, activities, dpias, tuple(problems))


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(f"No data map at {path}: give a folder of YAML files or one YAML file.")
    return sorted(p for p in path.rglob("*") if p.suffix in CATALOG_SUFFIXES and p.is_file())


def _read_file(file: Path, problems: list[Problem]) -> Iterator[Entry]:
    name = display_path(file)
    data, found = read_yaml_document(file)
    problems.extend(found)
    if data is None:
        return  # an empty file (or one with only comments) holds nothing
    if not isinstance(data, dict):
        problems.append(
            Problem(
                "a data map file must be a mapping with any of systems, activities, dpias",
                file=name,
                line=1,
            )
        )
        return
    key_lines: dict[str, int] = getattr(data, "key_lines", {})
    for key in data:
        if key not in SECTIONS:
            problems.append(
                Problem(
                    f"unknown top-level key '{key}' (expected systems, activities, dpias)",
                    file=name,
                    line=key_lines.get(key),
                    field=key,
                )
            )
    for section in SECTIONS:
        entries = data.get(section, [])
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(
                Problem(
                    f"'{section}' must be a list",
                    file=name,
                    line=key_lines.get(section),
                    field=section,
                )
            )
            continue
        for index, raw in enumerate(entries):
            if not isinstance(raw, dict):
                problems.append(
                    Problem(
                        f"{section}[{index}] must be a mapping",
                        file=name,
                        line=key_lines.get(section),
                        field=f"{section}[{index}]",
                    )
                )
                continue
            yield Entry(section, raw, name, getattr(raw, "line", 1))


def _read_entry(entry: Entry, problems: list[Problem]) -> LocatedItem[Any] | None:
    try:
        spec = _SPECS[entry.section].model_validate(dict(entry.raw))
    except PydanticValidationError as exc:
        for problem in pydantic_problems(
            exc, entry.raw, entry.file, entry.id, "", schema_hint=_SCHEMA_HINT
        ):
            problems.append(_plain_scale(problem))
        return None
    return LocatedItem(spec=spec, file=entry.file, line=entry.line, raw=entry.raw)


def _plain_scale(problem: Problem) -> Problem:
    """Say what the DPIA scale is when a likelihood or an impact is outside it."""
    field = problem.field or ""
    if (
        field.endswith((".likelihood", ".impact"))
        and "less than" in problem.message
        or (field.endswith((".likelihood", ".impact")) and "greater than" in problem.message)
    ):
        words = LIKELIHOOD_WORDS if field.endswith(".likelihood") else IMPACT_WORDS
        scale = ", ".join(f"{score} {word}" for score, word in words.items())
        return replace(problem, message=f"must be a whole number on the 1-5 scale ({scale})")
    return problem
