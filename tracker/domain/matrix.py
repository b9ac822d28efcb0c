"""The traceability matrix: rows, filtering, sorting and export to JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from tracker.domain.status import STATUS_ORDER, Status, StatusResult
from tracker.domain.timestamps import rfc3339_utc


class WorkItemCell(NamedTuple):
    """A linked work item as shown in a matrix row."""

    key: str
    summary: str
    status: str
    status_category: str
    url: str | None
    missing: bool
    suspect: bool
    origin: str


class TestCounts(NamedTuple):
    """How the linked tests' latest results add up."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    not_run: int = 0
    stale: int = 0


TestCounts.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class


class MatrixRow(NamedTuple):
    """One obligation in the matrix with its status and why."""

    id: str
    instrument: str
    citation: str
    title: str
    severity: str | None
    tags: tuple[str, ...]
    sort_key: str
    result: StatusResult
    work_items: tuple[WorkItemCell, ...]
    tests: TestCounts
    signoff: str = ""  # with a release: signed, lapsed, missing or not needed

    @property
    def status(self) -> Status:
        """Return the overall status."""
        return self.result.status

    def to_dict(self) -> dict[str, Any]:
        """Return the row in the shape of the JSON export and the API."""
        return {
            "id": self.id,
            "instrument": self.instrument,
            "citation": self.citation,
            "title": self.title,
            "severity": self.severity,
            "status": self.result.status.value,
            "implementation": self.result.implementation.value,
            "verification": self.result.verification.value,
            "suspect": self.result.suspect,
            "work_items": [
                {
                    "key": item.key,
                    "summary": item.summary,
                    "status": item.status,
                    "status_category": item.status_category,
                    "url": item.url,
                    "missing": item.missing,
                    "suspect": item.suspect,
                    "origin": item.origin,
                }
                for item in self.work_items
            ],
            "tests": {
                "total": self.tests.total,
                "passed": self.tests.passed,
                "failed": self.tests.failed,
                "not_run": self.tests.not_run,
                "stale": self.tests.stale,
            },
            "signoff": self.signoff or None,
            "explanation": self.result.explanation,
        }


@dataclass(frozen=True)
class MatrixFilter:
    """What a person asked to see; empty fields mean everything."""

    instrument: str | None = None
    status: str | None = None
    tag: str | None = None
    text: str | None = None
    sort: str = "id"
    descending: bool = False

    def matches(self, row: MatrixRow) -> bool:
        """Return whether a row passes every filter."""
        if self.instrument and row.instrument != self.instrument:
            return False
        if self.status and row.result.status.value != self.status:
            return False
        if self.tag and self.tag not in row.tags:
            return False
        if self.text:
            needle = self.text.casefold()
            haystack = " ".join(
                (row.id, row.citation, row.title, *(item.key for item in row.work_items))
            ).casefold()
            if needle not in haystack:
                return False
        return True


SORT_KEYS = ("id", "status", "instrument", "title", "severity")
_STATUS_RANK = {status: index for index, status in enumerate(STATUS_ORDER)}
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, None: 4}


def apply_filter(rows: Iterable[MatrixRow], matrix_filter: MatrixFilter) -> list[MatrixRow]:
    """Return the rows that match, sorted as asked."""
    selected = [row for row in rows if matrix_filter.matches(row)]
    sort = matrix_filter.sort if matrix_filter.sort in SORT_KEYS else "id"
    keys: dict[str, Any] = {
        "id": lambda row: row.sort_key,
        "status": lambda row: (_STATUS_RANK[row.result.status], row.sort_key),
        "instrument": lambda row: (row.instrument, row.sort_key),
        "title": lambda row: (row.title.casefold(), row.sort_key),
        "severity": lambda row: (_SEVERITY_RANK.get(row.severity, 4), row.sort_key),
    }
    selected.sort(key=keys[sort], reverse=matrix_filter.descending)
    return selected


def to_json(rows: Sequence[MatrixRow], generated_at: datetime) -> dict[str, Any]:
    """Return the JSON export: generation time and one object per row."""
    return {
        "generated_at": rfc3339_utc(generated_at),
        "rows": [row.to_dict() for row in rows],
    }


CSV_COLUMNS = (
    "id",
    "instrument",
    "citation",
    "title",
    "status",
    "implementation",
    "verification",
    "suspect",
    "work_items",
    "tests_total",
    "tests_passed",
    "tests_failed",
    "tests_not_run",
    "tests_stale",
    "signoff",
    "explanation",
)


def to_csv(rows: Sequence[MatrixRow]) -> str:
    """Return the CSV export; cells that a spreadsheet would run as formulas are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row.id,
                    row.instrument,
                    row.citation,
                    row.title,
                    row.result.status.value,
                    row.result.implementation.value,
                    row.result.verification.value,
                    "yes" if row.result.suspect else "no",
                    " ".join(f"{item.key} ({item.status})" for item in row.work_items),
                    row.tests.total,
                    row.tests.passed,
                    row.tests.failed,
                    row.tests.not_run,
                    row.tests.stale,
                    row.signoff,
                    row.result.explanation,
                )
            ]
        )
    return buffer.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_markdown(rows: Sequence[MatrixRow], generated_at: datetime) -> str:
    """Return the Markdown export: a table with one row per obligation."""
    lines = [
        f"# Traceability matrix ({generated_at:%Y-%m-%d %H:%M} UTC)",
        "",
        "| Obligation | Citation | Title | Status | Work items | Tests (pass/fail/not run) "
        "| Sign-off |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        work = ", ".join(f"{item.key} ({item.status})" for item in row.work_items) or "-"
        tests = f"{row.tests.passed}/{row.tests.failed}/{row.tests.not_run}"
        cells = (
            row.id,
            row.citation,
            row.title,
            row.result.status.value,
            work,
            tests,
            row.signoff or "-",
        )
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines.append("")
    lines.append(f"{len(rows)} obligations.")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "<>[]`*_":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def status_counts(rows: Iterable[MatrixRow]) -> dict[Status, int]:
    """Return how many rows have each status, in display order."""
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for row in rows:
        counts[row.result.status] += 1
    return counts
