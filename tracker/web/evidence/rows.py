"""The rows the evidence pages share: a run, a test's outcome in a run, the pager, formats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from tracker.integrations.junit_attempts import read_attempts
from tracker.models import TestRun
from tracker.services.evidence_pages import ResultLine, RunOutcome

OUTCOME_LABELS = {"passed": "Passed", "failed": "Failed", "error": "Error", "skipped": "Skipped"}
OUTCOME_CSS = {
    "passed": "outcome-pass",
    "failed": "outcome-fail",
    "error": "outcome-fail",
    "skipped": "outcome-none",
}
EXCERPT_LENGTH = 240
MAX_UNKNOWN_SHOWN = 5


@dataclass(frozen=True)
class Pager:
    """Where a page of a long list is, with links to its neighbours."""

    first: int
    last: int
    total: int
    noun: str
    previous_href: str | None
    next_href: str | None

    @property
    def summary(self) -> str:
        """Return e.g. '51–100 of 230 runs'."""
        if not self.total:
            return f"No {self.noun}"
        if self.first > self.total:
            return f"Nothing on this page; there are {self.total} {self.noun}"
        return f"{self.first}–{self.last} of {self.total} {self.noun}"

    @property
    def needed(self) -> bool:
        """Return whether there is more than one page."""
        return self.previous_href is not None or self.next_href is not None


@dataclass(frozen=True)
class RunRow:
    """A run as lists and headings show it."""

    id: int
    href: str
    started: str
    received: str
    suite: str
    commit: str
    commit_short: str
    branch: str
    release: str
    environment: str
    source: str
    uploaded_by: str
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    state_label: str
    state_css: str
    unknown_ids: list[str]
    unknown_more: int
    invalid_ids: list[str]


@dataclass(frozen=True)
class HistoryRow:
    """One test's outcome in one run."""

    run_id: int
    run_href: str
    started: str
    suite: str
    commit: str
    commit_short: str
    branch: str
    release: str
    environment: str
    test_id: str
    test_href: str
    outcome_label: str
    outcome_css: str
    flaky: bool
    duration: str
    excerpt: str


def run_row(run: TestRun, unknown_limit: int | None = MAX_UNKNOWN_SHOWN) -> RunRow:
    """Return a run's strings for lists and headings."""
    unknown = list(run.unknown_ids or ())
    shown = unknown if unknown_limit is None else unknown[:unknown_limit]
    failing = run.failed + run.errors
    if failing:
        state = (f"{failing} failing", "st-failing")
    elif run.total and run.passed == run.total:
        state = ("All passed", "st-verified")
    elif run.total:
        state = ("No failures", "st-implemented")
    else:
        state = ("Empty", "st-planned")
    return RunRow(
        id=run.id or 0,
        href=url_for("evidence.run", run_id=run.id),
        started=when(run.started_at),
        received=when(run.created_at),
        suite=run.suite,
        commit=run.commit or "",
        commit_short=(run.commit or "")[:12],
        branch=run.branch or "",
        release=run.release or "",
        environment=run.environment or "",
        source=run.source_name,
        uploaded_by=run.uploaded_by,
        total=run.total,
        passed=run.passed,
        failed=run.failed,
        errors=run.errors,
        skipped=run.skipped,
        flaky=run.flaky,
        state_label=state[0],
        state_css=state[1],
        unknown_ids=shown,
        unknown_more=len(unknown) - len(shown),
        invalid_ids=list(run.invalid_ids or ()),
    )


@dataclass(frozen=True)
class AttemptRow:
    """One attempt of a test the report ran more than once."""

    number: int
    outcome_label: str
    outcome_css: str
    duration: str
    host: str
    excerpt: str
    message: str  # the whole message, only when the excerpt does not show all of it
    cut_note: str
    not_kept_before: int  # attempts between the previous one shown and this one, not kept


def attempt_rows(line: ResultLine) -> list[AttemptRow]:
    """Return the attempts of a result as the run page lists them (none if it ran once)."""
    rows = []
    previous = 0
    for attempt in read_attempts(line.attempts):
        if attempt.is_result_message:
            message, size = line.message, line.message_size
        else:
            message, size = attempt.message, attempt.message_size
        rows.append(
            AttemptRow(
                number=attempt.number,
                outcome_label=OUTCOME_LABELS.get(attempt.outcome, attempt.outcome),
                outcome_css=OUTCOME_CSS.get(attempt.outcome, "outcome-none"),
                duration=duration(attempt.duration),
                host=attempt.host or "",
                excerpt=excerpt(message),
                message=more_than_excerpt(message),
                cut_note=cut_note(message, size),
                not_kept_before=max(0, attempt.number - previous - 1),
            )
        )
        previous = attempt.number
    return rows


def cut_note(message: str | None, size: int | None) -> str:
    """Return e.g. 'Cut at 64 KiB of 181 MiB.' for a text kept only in part (else '')."""
    if not message or size is None:
        return ""
    kept = len(message.encode("utf-8", "replace"))
    if kept >= size:
        return ""
    return f"Cut at {byte_size(kept)} of {byte_size(size)}: the tracker keeps the start only."


def byte_size(count: int) -> str:
    """Return a size such as '812 bytes', '64 KiB' or '1.5 MiB'."""
    if count < 1024:
        return f"{count:,} bytes"
    value = count / 1024
    unit = "KiB"
    for larger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"


def more_than_excerpt(message: str | None) -> str:
    """Return the whole message when its excerpt does not already show all of it."""
    return message if message and excerpt(message) != message else ""


def history_row(result: RunOutcome, test_id: str, test_href: str) -> HistoryRow:
    """Return one test's outcome in one run as the history tables show it."""
    run = result.run
    return HistoryRow(
        run_id=run.id or 0,
        run_href=url_for("evidence.run", run_id=run.id),
        started=when(run.started_at),
        suite=run.suite,
        commit=run.commit or "",
        commit_short=(run.commit or "")[:12],
        branch=run.branch or "",
        release=run.release or "",
        environment=run.environment or "",
        test_id=test_id,
        test_href=test_href,
        outcome_label=OUTCOME_LABELS.get(result.outcome, result.outcome),
        outcome_css=OUTCOME_CSS.get(result.outcome, "outcome-none"),
        flaky=result.flaky,
        duration=duration(result.duration),
        excerpt=excerpt(result.message),
    )


def pager(offset: int, limit: int, total: int, noun: str, href: Callable[[int], str]) -> Pager:
    """Return the pager of a list page (pages are numbered from 1)."""
    page = offset // limit + 1
    last_page = max(1, (total + limit - 1) // limit)
    return Pager(
        first=offset + 1,
        last=min(offset + limit, total),
        total=total,
        noun=noun,
        previous_href=href(min(page - 1, last_page)) if page > 1 else None,
        next_href=href(page + 1) if page < last_page else None,
    )


def excerpt(message: str | None) -> str:
    """Return the start of a failure message on one line (the template escapes it)."""
    if not message:
        return ""
    line = " ".join(message.split())
    return line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…"


def duration(seconds: float | None) -> str:
    """Return a test's duration in seconds, or a dash when unknown."""
    return "—" if seconds is None else f"{seconds:.2f} s"


def when(moment: datetime | None) -> str:
    """Return a moment as 'YYYY-MM-DD HH:MM UTC' (empty when unknown)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""
