"""Read data map YAML files into specs, collecting every problem with its file, line and field."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tracker.catalog.reader import (
    CATALOG_SUFFIXES,
    LineLoader,
    YAMLLimitError,
    display_path,
    line_for,
    pydantic_problems,
)
from tracker.domain import taxonomy
from tracker.domain.data_map_schema import ActivitySpec, DpiaSpec, SystemSpec
from tracker.domain.data_map_vocabulary import (
    IMPACT_WORDS,
    JURISDICTIONS,
    LIKELIHOOD_WORDS,
    SURFACES,
)
from tracker.errors import CatalogError, Problem

SECTIONS = ("systems", "activities", "dpias")
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
        return (
            f"{len(self.activities)} processing activities on {len(self.systems)} systems, "
            f"{len(self.dpias)} DPIAs"
        )


def read_data_map(path: Path, *, known_obligations: frozenset[str] | None = None) -> DataMap:
    """Read and validate every data map file under path; problems are collected, not raised.

    With `known_obligations`, each DPIA mitigation's obligations must be among them.
    """
    problems: list[Problem] = []
    found: dict[str, list[LocatedItem[Any]]] = {section: [] for section in SECTIONS}
    entries: list[_Entry] = []
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


def _read_file(file: Path, problems: list[Problem]) -> Iterator[_Entry]:
    name = display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", file=name))
        return
    loader = LineLoader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = detail if isinstance(exc, YAMLLimitError) else f"YAML syntax error: {detail}"
        problems.append(Problem(message, file=name, line=line))
        return
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        problems.append(
            Problem(
                f"key '{key}' appears twice; the first is ignored", file=name, line=line, field=key
            )
        )
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
            yield _Entry(section, raw, name, getattr(raw, "line", 1))


def _read_entry(entry: _Entry, problems: list[Problem]) -> LocatedItem[Any] | None:
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


@dataclass(frozen=True)
class _Entry:
    """An entry as written, valid or not, so that name checks run on invalid entries too."""

    section: str
    raw: Any
    file: str
    line: int

    @property
    def id(self) -> str | None:
        value = self.raw.get("id")
        return value if isinstance(value, str) else None

    def words(self, *path: str | int) -> list[tuple[int, str]]:
        """Return (index, text) of the text items of the list at path (nothing when absent)."""
        node = _at(self.raw, path)
        if isinstance(node, str):
            return [(0, node)]
        if not isinstance(node, list):
            return []
        return [(index, value) for index, value in enumerate(node) if isinstance(value, str)]

    def items(self, *path: str | int) -> list[tuple[int, Any]]:
        """Return (index, mapping) of the mappings of the list at path."""
        node = _at(self.raw, path)
        if not isinstance(node, list):
            return []
        return [(index, value) for index, value in enumerate(node) if isinstance(value, dict)]


def cross_problems(
    entries: list[_Entry], known_obligations: frozenset[str] | None
) -> list[Problem]:
    """Return the problems that need the whole data map: unknown names, duplicate ids."""
    problems: list[Problem] = []
    categories = taxonomy.data_categories()
    subjects = taxonomy.data_subjects()
    uses = taxonomy.data_uses()
    by_section: dict[str, list[_Entry]] = {section: [] for section in SECTIONS}
    for entry in entries:
        by_section[entry.section].append(entry)
    system_ids = _unique(by_section["systems"], "system", problems)
    activity_ids = _unique(by_section["activities"], "activity", problems)
    _unique(by_section["dpias"], "DPIA", problems)

    def report(entry: _Entry, message: str, *path: str | int) -> None:
        found = line_for(entry.raw, list(path))
        problems.append(
            Problem(
                message,
                file=entry.file,
                line=found if found is not None else entry.line,
                obligation_id=entry.id,
                field=".".join(str(part) for part in path) or None,
            )
        )

    def check(
        entry: _Entry, known: frozenset[str] | dict[str, str], kind: str, *path: str | int
    ) -> None:
        for index, value in entry.words(*path):
            if value not in known:
                message = (
                    _unknown_jurisdiction(value)
                    if kind == "jurisdiction"
                    else _unknown(kind, value, frozenset(known))
                )
                report(entry, message, *path, index)

    for system in by_section["systems"]:
        check(system, JURISDICTIONS, "jurisdiction", "hosted_in")
        for index, surface in system.words("surfaces"):
            if surface not in SURFACES:
                near = difflib.get_close_matches(surface, list(SURFACES), n=2, cutoff=0.6)
                hint = f"did you mean {' or '.join(near)}? " if near else ""
                report(
                    system,
                    f"unknown surface '{surface}': {hint}use one of {', '.join(SURFACES)}",
                    "surfaces",
                    index,
                )
    for activity in by_section["activities"]:
        check(activity, categories, "data category", "data_categories")
        check(activity, subjects, "data subject", "data_subjects")
        check(activity, uses, "data use", "data_uses")
        check(activity, JURISDICTIONS, "jurisdiction", "jurisdictions")
        own_systems = {value for _, value in activity.words("systems")}
        own_categories = {value for _, value in activity.words("data_categories")}
        own_jurisdictions = {value for _, value in activity.words("jurisdictions")}
        for index, system_id in activity.words("systems"):
            if system_id not in system_ids:
                report(
                    activity,
                    f"unknown system '{system_id}': add it under `systems:` or fix the id",
                    "systems",
                    index,
                )
        bases = activity.raw.get("legal_basis")
        for code in bases if isinstance(bases, dict) else ():
            if code not in JURISDICTIONS:
                report(activity, _unknown_jurisdiction(str(code)), "legal_basis", code)
            elif code not in own_jurisdictions:
                report(
                    activity,
                    f"a legal basis is given for {code}, which is not among the activity's "
                    "jurisdictions",
                    "legal_basis",
                    code,
                )
        for index, transfer in activity.items("transfers"):
            check_one = transfer.get("to")
            if isinstance(check_one, str) and check_one not in JURISDICTIONS:
                report(activity, _unknown_jurisdiction(check_one), "transfers", index, "to")
        for index, recipient in activity.items("recipients"):
            country = recipient.get("country")
            if isinstance(country, str) and country not in JURISDICTIONS:
                report(activity, _unknown_jurisdiction(country), "recipients", index, "country")
        for index, _rule in activity.items("retention"):
            for _, category in activity.words("retention", index, "data_categories"):
                if category not in categories:
                    report(
                        activity,
                        _unknown("data category", category, categories),
                        "retention",
                        index,
                        "data_categories",
                    )
                elif category not in own_categories:
                    report(
                        activity,
                        f"retention is set for '{category}', which the activity does not list "
                        "under data_categories",
                        "retention",
                        index,
                        "data_categories",
                    )
            for _, system_id in activity.words("retention", index, "systems"):
                if system_id not in own_systems:
                    report(
                        activity,
                        f"retention names system '{system_id}', which is not among the "
                        "activity's systems",
                        "retention",
                        index,
                        "systems",
                    )
    for dpia in by_section["dpias"]:
        for _, activity_id in dpia.words("activity"):
            if activity_id not in activity_ids:
                report(
                    dpia,
                    f"unknown activity '{activity_id}': a DPIA must assess an activity of the "
                    "data map",
                    "activity",
                )
        seen_risks: set[str] = set()
        for risk_index, risk in dpia.items("risks"):
            risk_id = risk.get("id")
            if isinstance(risk_id, str):
                if risk_id in seen_risks:
                    report(
                        dpia,
                        f"duplicate risk id '{risk_id}' in this DPIA",
                        "risks",
                        risk_index,
                        "id",
                    )
                seen_risks.add(risk_id)
            check(dpia, subjects, "data subject", "risks", risk_index, "data_subjects")
            if known_obligations is None:
                continue
            for mitigation_index, _mitigation in dpia.items("risks", risk_index, "mitigations"):
                path = ("risks", risk_index, "mitigations", mitigation_index, "obligations")
                for _, obligation_id in dpia.words(*path):
                    if obligation_id not in known_obligations:
                        report(
                            dpia,
                            f"unknown obligation '{obligation_id}': a mitigation must name an "
                            "obligation of the catalog",
                            *path,
                        )
    return problems


def _at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _unique(entries: list[_Entry], kind: str, problems: list[Problem]) -> frozenset[str]:
    seen: dict[str, _Entry] = {}
    for entry in entries:
        if entry.id is None:
            continue
        first = seen.get(entry.id)
        if first is not None:
            problems.append(
                Problem(
                    f"duplicate {kind} id '{entry.id}' (first at {first.file}:{first.line})",
                    file=entry.file,
                    line=entry.line,
                    obligation_id=entry.id,
                    field="id",
                )
            )
        else:
            seen[entry.id] = entry
    return frozenset(seen)


def _unknown(kind: str, value: str, known: frozenset[str]) -> str:
    near = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    return f"unknown {kind} '{value}': use a key of the Fides taxonomy{hint}"


def _unknown_jurisdiction(code: str) -> str:
    return f"unknown jurisdiction '{code}': use one of {', '.join(JURISDICTIONS)}"
