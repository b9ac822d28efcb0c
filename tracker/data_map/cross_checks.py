"""The data map checks that need every entry: names that must exist, ids that must be unique.

Names are checked against the Fides taxonomy, the closed word lists (jurisdictions, surfaces),
the data map's own systems and activities and, when given, the catalog's obligations. They run
on every entry as written, valid or not, so one read reports every problem.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from tracker.catalog.reader import line_for
from tracker.domain import taxonomy
from tracker.domain.data_map_vocabulary import JURISDICTIONS, SURFACES
from tracker.errors import Problem

#: The top-level keys of a data map file, each a list of entries.
SECTIONS = ("systems", "activities", "dpias")


@dataclass(frozen=True)
class Entry:
    """An entry as written, valid or not, so that name checks run on invalid entries too."""

    section: str
    raw: Any
    file: str
    line: int

    @property
    def id(self) -> str | None:
        """Return the entry's id, when it has one written as text."""
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


def cross_problems(entries: list[Entry], known_obligations: frozenset[str] | None) -> list[Problem]:
    """Return the problems that need the whole data map: unknown names, duplicate ids."""
    problems: list[Problem] = []
    categories = taxonomy.data_categories()
    subjects = taxonomy.data_subjects()
    uses = taxonomy.data_uses()
    by_section: dict[str, list[Entry]] = {section: [] for section in SECTIONS}
    for entry in entries:
        by_section[entry.section].append(entry)
    system_ids = _unique(by_section["systems"], "system", problems)
    activity_ids = _unique(by_section["activities"], "activity", problems)
    _unique(by_section["dpias"], "DPIA", problems)

    def report(entry: Entry, message: str, *path: str | int) -> None:
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
        entry: Entry, known: frozenset[str] | dict[str, str], kind: str, *path: str | int
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


def _unique(entries: list[Entry], kind: str, problems: list[Problem]) -> frozenset[str]:
    seen: dict[str, Entry] = {}
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
