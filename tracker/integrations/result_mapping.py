"""Glob rules linking test ids to obligations (for tests without annotations), and the server's."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from tracker.domain.id_patterns import OBLIGATION_ID_PATTERN
from tracker.errors import ValidationError

_OBLIGATION_ID = re.compile(OBLIGATION_ID_PATTERN)
_WILDCARDS = frozenset("*?[")
_ENTRY_KEYS = ("tests", "obligations", "note")


@dataclass(frozen=True, slots=True)
class MappingRule:
    """One entry of a mapping file: test-id globs and the obligations they verify."""

    patterns: tuple[str, ...]
    obligations: tuple[str, ...]
    note: str | None = None


class TestMapping:
    """Rules read from a mapping file; matching uses fnmatch globs, case-sensitive.

    A pattern is matched against the whole test_id ("suite/classname/name", see
    tracker.integrations.junit.ParsedCase); "*" also matches "/", as in fnmatch.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, rules: Iterable[MappingRule] = ()) -> None:
        self.rules = tuple(rules)
        self._exact: dict[str, list[int]] = {}
        self._globs: list[tuple[str, re.Pattern[str], int]] = []
        for index, rule in enumerate(self.rules):
            for pattern in rule.patterns:
                if _WILDCARDS.isdisjoint(pattern):
                    self._exact.setdefault(pattern, []).append(index)
                else:
                    prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
                    regex = re.compile(fnmatch.translate(pattern))
                    self._globs.append((prefix, regex, index))

    def __len__(self) -> int:
        return len(self.rules)

    def obligations_for(self, test_id: str) -> tuple[str, ...]:
        """Return the obligations of every rule matching test_id, in file order, deduplicated."""
        matched = set(self._exact.get(test_id, ()))
        for prefix, regex, index in self._globs:
            if index not in matched and test_id.startswith(prefix) and regex.match(test_id):
                matched.add(index)
        if not matched:
            return ()
        ids: dict[str, None] = {}
        for index in sorted(matched):
            ids.update(dict.fromkeys(self.rules[index].obligations))
        return tuple(ids)

    def obligation_ids(self) -> frozenset[str]:
        """Return every obligation id the rules mention (to check them against the catalog)."""
        return frozenset(i for rule in self.rules for i in rule.obligations)


def configured_mapping(app: Flask | None = None) -> TestMapping | None:
    """Return the server-wide mapping (TRACKER_TEST_MAPPING), read afresh, or None if unset."""
    path = (app or current_app).config.get("TEST_MAPPING_PATH")
    return load_test_mapping(Path(path)) if path else None


def load_test_mapping(path: str | os.PathLike[str]) -> TestMapping:
    """Read and validate a mapping file; raise ValidationError listing every problem."""
    import yaml  # here: an ingest without a mapping file needs no YAML reader

    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ValidationError(
            f"The test mapping file {name} cannot be read: {exc.strerror}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The test mapping file {name} is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(
            f"The test mapping file {name} is not valid YAML{where}: {detail}"
        ) from exc
    return parse_test_mapping(data, source=name)


def parse_test_mapping(data: Any, *, source: str = "test mapping") -> TestMapping:
    """Validate already-loaded mapping data; raise ValidationError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("mappings"), list):
        raise ValidationError(
            f"{source}: expected a mapping with a 'mappings' list, e.g. "
            "mappings: [{tests: 'checkout/*/test_gpc_*', obligations: [CCPAREGS-7025.c.1]}]",
            field="mappings",
        )
    for key in data:
        if key != "mappings":
            problems.append(f"unknown top-level key {key!r} (only 'mappings' is allowed)")
    rules = []
    for index, entry in enumerate(data["mappings"]):
        rule = _read_entry(index, entry, problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise ValidationError(
            f"{source} has {len(problems)} problem(s):\n{listing}", field="mappings"
        )
    return TestMapping(rules)


def _read_entry(index: int, entry: Any, problems: list[str]) -> MappingRule | None:
    if not isinstance(entry, dict):
        problems.append(f"mappings[{index}] must be a mapping with 'tests' and 'obligations'")
        return None
    label = f"mappings[{index}]"
    if isinstance(entry.get("tests"), str):
        label += f" (tests: {entry['tests']!r})"
    before = len(problems)
    for key in entry:
        if key not in _ENTRY_KEYS:
            problems.append(f"{label}: unknown key {key!r} (allowed: {', '.join(_ENTRY_KEYS)})")
    patterns = _strings(entry.get("tests"), f"{label}: 'tests'", problems)
    for pattern in patterns:
        if not pattern.strip():
            problems.append(f"{label}: 'tests' has an empty pattern")
    obligations = _strings(entry.get("obligations"), f"{label}: 'obligations'", problems)
    for obligation in obligations:
        if not _OBLIGATION_ID.fullmatch(obligation):
            problems.append(
                f"{label}: {obligation!r} is not an obligation id (expected e.g. GDPR-17.1)"
            )
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(f"{label}: 'note' must be text")
    if len(problems) > before:
        return None
    return MappingRule(
        patterns=tuple(dict.fromkeys(patterns)),
        obligations=tuple(dict.fromkeys(obligations)),
        note=note,
    )


def _strings(value: Any, what: str, problems: list[str]) -> list[str]:
    """Accept one string or a non-empty list of strings; record a problem otherwise."""
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    if value is None:
        problems.append(f"{what} is missing")
    else:
        problems.append(f"{what} must be text or a non-empty list of text, not {value!r}")
    return []
