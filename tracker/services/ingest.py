"""Ingesting a JUnit XML report: one run, its results, and the links the report declares.

The report is read as a stream; results and links are written in batches with a fixed number
of queries per batch, all in the caller's one transaction (a failure writes nothing). The same
report (same bytes) ingested twice is recorded once. What the run's fields may hold is checked
before anything is written; what the report holds is bounded by the reader.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from tracker.bulk import bulk_insert, is_one_of, table_of
from tracker.domain.access import Actor
from tracker.domain.text_rules import character_problem, without_control_characters
from tracker.errors import ForbiddenError, ValidationError
from tracker.generation import EVIDENCE_TABLES, declare_change
from tracker.integrations.junit import (
    DEFAULT_TEXT_LIMIT,
    JUnitReader,
    ReportSource,
    content_sha256,
)
from tracker.integrations.result_mapping import TestMapping
from tracker.models import (
    TestCase,
    TestResult,
    TestRun,
    as_utc,
    column_length,
    utcnow,
)
from tracker.services.audit import record_event
from tracker.services.evidence import obligations_of_dropped_tests
from tracker.services.report_cases import ReportCase, TextStore, gather_cases, result_rows
from tracker.services.report_links import sync_report_links
from tracker.services.work_items import ObligationIndex

BATCH = 5000
# Longest value of each run field (the columns' sizes).
RUN_FIELD_LIMITS = {
    name: column_length(TestRun, name)
    for name in ("suite", "commit", "branch", "release", "environment")
}
# A run cannot start before this, nor after it was received (give or take clocks a day off).
EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
_SOURCE_NAME_LENGTH = column_length(TestRun, "source_name")
CLOCK_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class RunOptions:
    """Where a report comes from: suite, commit, branch, release and environment."""

    suite: str | None = None
    commit: str | None = None
    branch: str | None = None
    release: str | None = None
    environment: str | None = None
    source_name: str = ""


@dataclass
class IngestReport:
    """What an ingest did."""

    run_id: int
    duplicate: bool
    suite: str
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    links_added: int = 0
    links_removed: int = 0
    unknown_ids: list[str] = field(default_factory=list)
    invalid_ids: list[str] = field(default_factory=list)
    cut_texts: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return one line a person can read."""
        if self.duplicate:
            return f"This report was already ingested as run #{self.run_id}; nothing was added."
        unknown = (
            " Unknown obligation ids (fix the tests or the catalog): "
            f"{', '.join(self.unknown_ids)}."
            if self.unknown_ids
            else ""
        )
        invalid = (
            f" Values that are not obligation ids: {', '.join(self.invalid_ids[:20])}."
            if self.invalid_ids
            else ""
        )
        cut = (
            f" {self.cut_texts} failure texts were longer than the limit and were cut (the run "
            "page shows where)."
            if self.cut_texts
            else ""
        )
        notes = "".join(f" {note}" for note in self.notes)
        return (
            f"Run #{self.run_id} ({self.suite}): {self.total} tests, {self.passed} passed, "
            f"{self.failed} failed, {self.errors} errors, {self.skipped} skipped, "
            f"{self.flaky} flaky; links +{self.links_added}/-{self.links_removed}."
            f"{unknown}{invalid}{cut}{notes}"
        )


def ingest_report(
    *,
    session: Session,
    source: ReportSource,
    options: RunOptions,
    uploaded_by: Actor,
    mapping: TestMapping | None = None,
    max_bytes: int | None = None,
    content_hash: str | None = None,
    allowed_suites: Collection[str] = (),
    text_limit: int = DEFAULT_TEXT_LIMIT,
    max_seconds: float | None = None,
) -> IngestReport:
    """Store one report as a run; raise ReportError (nothing written) if it cannot be read.

    ValidationError (nothing written) when a run field is too long or holds control
    characters. With allowed_suites, a report holding any test of another suite is refused
    with ForbiddenError before anything is written (a limited CI token cannot touch other
    suites). Failure text is kept up to text_limit bytes per result; max_seconds bounds the
    time spent reading the report.
    """
    _check_options(options)
    digest = content_hash or content_sha256(source)
    existing = session.exec(select(TestRun).where(TestRun.content_hash == digest)).first()
    if existing is not None:
        return IngestReport(run_id=existing.id or 0, duplicate=True, suite=existing.suite)

    texts = TextStore()
    try:
        reader = JUnitReader(
            source, max_bytes=max_bytes, text_limit=text_limit, max_seconds=max_seconds
        )
        cases = gather_cases(reader.cases(), texts)
        return _store(
            session,
            reader,
            cases,
            options,
            uploaded_by,
            mapping,
            digest,
            allowed_suites,
            texts,
            text_limit,
        )
    finally:
        texts.close()


def ingest_token_upload(
    *,
    session: Session,
    source: ReportSource,
    options: RunOptions,
    uploaded_by: Actor,
    allowed_suites: Collection[str],
    content_hash: str,
    mapping: TestMapping | None,
    max_bytes: int | None,
    text_limit: int,
    max_seconds: float | None,
) -> IngestReport:
    """Ingest a report uploaded with a token (at once by the API, or later by its job).

    As ingest_report, and ForbiddenError when the token is limited to `allowed_suites` and
    the report is one received before (by its hash) of another suite.
    """
    report = ingest_report(
        session=session,
        source=source,
        options=options,
        uploaded_by=uploaded_by,
        mapping=mapping,
        max_bytes=max_bytes,
        content_hash=content_hash,
        allowed_suites=allowed_suites,
        text_limit=text_limit,
        max_seconds=max_seconds,
    )
    if allowed_suites and report.suite not in allowed_suites:
        # The same report was received before, from elsewhere: not this token's.
        raise ForbiddenError(f"This token may upload only the suites {', '.join(allowed_suites)}.")
    return report


def _store(
    session: Session,
    reader: JUnitReader,
    cases: dict[str, ReportCase],
    options: RunOptions,
    uploaded_by: Actor,
    mapping: TestMapping | None,
    digest: str,
    allowed_suites: Collection[str],
    texts: TextStore,
    text_limit: int,
) -> IngestReport:
    """Write the run, its test cases, results and links (the report has been read)."""
    summary = reader.summary
    suite = options.suite or (summary.suites[0] if summary.suites else "") or "tests"
    if allowed_suites:
        _check_suites(suite, cases, allowed_suites)
    now = utcnow()
    started_at, note = _started_at(summary.timestamp, now)
    run = TestRun(
        suite=suite,
        commit=options.commit,
        branch=options.branch,
        release=options.release,
        environment=options.environment,
        source_name=_shortened(
            without_control_characters(options.source_name), _SOURCE_NAME_LENGTH
        ),
        content_hash=digest,
        uploaded_by=uploaded_by.label,
        token_id=uploaded_by.token_id,
        started_at=started_at,
        created_at=now,
    )
    session.add(run)
    session.flush()
    run_id = run.id or 0
    report = IngestReport(run_id=run_id, duplicate=False, suite=run.suite)
    report.invalid_ids = list(summary.invalid_ids)
    if note:
        report.notes.append(note)

    index = ObligationIndex(session)
    unknown: set[str] = set()
    test_ids = list(cases)
    touched: set[str] = set()
    run_cases: set[int] = set()
    for start in range(0, len(test_ids), BATCH):
        batch = test_ids[start : start + BATCH]
        case_ids = _upsert_test_cases(session, batch, cases, now)
        run_cases.update(case_ids.values())
        for rows in result_rows(run_id, batch, cases, case_ids, texts, text_limit):
            report.cut_texts += sum(row["message_size"] is not None for row in rows)
            bulk_insert(session, table_of(TestResult), rows)
        added, removed, linked = sync_report_links(
            session, batch, cases, case_ids, index, mapping, unknown, uploaded_by, run_id
        )
        report.links_added += added
        report.links_removed += removed
        touched |= linked
    replaced = obligations_of_dropped_tests(session, run, run_cases)
    if replaced is not None:
        # The move changes only the rows of the obligations linked to the run's tests and to
        # the tests of the runs it replaces.
        declare_change(session.connection(), EVIDENCE_TABLES, touched | replaced)
    for case in cases.values():
        report.total += 1
        report.flaky += case.flaky
        if case.outcome == "passed":
            report.passed += 1
        elif case.outcome == "failed":
            report.failed += 1
        elif case.outcome == "error":
            report.errors += 1
        else:
            report.skipped += 1
    report.unknown_ids = sorted(unknown)
    run.total, run.passed, run.failed = report.total, report.passed, report.failed
    run.errors, run.skipped, run.flaky = report.errors, report.skipped, report.flaky
    run.unknown_ids, run.invalid_ids = report.unknown_ids, report.invalid_ids[:1000]
    session.add(run)
    record_event(
        session=session,
        actor=uploaded_by,
        action="test_run.ingested",
        entity_type="test_run",
        entity_id=str(run_id),
        after={"suite": run.suite, "total": report.total, "failed": report.failed + report.errors},
    )
    return report


def _upsert_test_cases(
    session: Session, test_ids: list[str], cases: dict[str, ReportCase], now: datetime
) -> dict[str, int]:
    found = dict(
        session.exec(
            select(TestCase.test_id, TestCase.id).where(
                is_one_of(session, col(TestCase.test_id), test_ids)
            )
        ).all()
    )
    new = [test_id for test_id in test_ids if test_id not in found]
    if new:
        bulk_insert(
            session,
            table_of(TestCase),
            [
                {
                    "test_id": test_id,
                    "suite": cases[test_id].suite[:300],
                    "classname": cases[test_id].classname,
                    "name": cases[test_id].name,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for test_id in new
            ],
        )
        found.update(
            session.exec(
                select(TestCase.test_id, TestCase.id).where(
                    is_one_of(session, col(TestCase.test_id), new)
                )
            ).all()
        )
    if len(new) < len(test_ids):
        added = set(new)
        seen_before = [test_id for test_id in test_ids if test_id not in added]
        session.execute(
            update(TestCase)
            .where(is_one_of(session, col(TestCase.test_id), seen_before))
            .values(last_seen_at=now)
        )
    return {test_id: int(case_id) for test_id, case_id in found.items() if case_id is not None}


def _check_suites(suite: str, cases: dict[str, ReportCase], allowed: Collection[str]) -> None:
    present = {suite} | {case.suite for case in cases.values()}
    outside = sorted(present - set(allowed))
    if outside:
        names = ", ".join(f"'{name[:100]}'" for name in outside[:5])
        raise ForbiddenError(
            f"This token may upload only the suites {', '.join(sorted(allowed))}; the report "
            f"holds tests of {names}. Nothing was stored."
        )


def _check_options(options: RunOptions) -> None:
    """Refuse run fields longer than their columns or holding control characters."""
    for name, limit in RUN_FIELD_LIMITS.items():
        value = getattr(options, name)
        if value is None:
            continue
        if len(value) > limit:
            raise ValidationError(
                f"The run's {name} is {len(value):,} characters long; at most {limit} are "
                "kept, so give a shorter one. Nothing was stored.",
                field=name,
            )
        characters = character_problem(value)
        if characters is not None:
            raise ValidationError(
                f"The run's {name} holds {characters}; give it as plain text (no NUL bytes "
                "or line breaks). Nothing was stored.",
                field=name,
            )


def _shortened(text: str, limit: int) -> str:
    """Cut an outside name to a column, with "…" showing that it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _started_at(text: str | None, received: datetime) -> tuple[datetime, str | None]:
    """Return when the run started: the report's timestamp if it is a plausible one.

    Otherwise the time it was received, with a note saying why: a start before 1970 or after
    the report arrived is a wrong clock or a hostile value, and must not reorder the runs.
    """
    if not text:
        return received, None
    shown = without_control_characters(text.strip()[:40])
    try:
        moment: datetime | None = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return received, (
            f"The report's timestamp '{shown}' is not a date and time; the run counts as "
            "started when it was received."
        )
    try:
        moment = as_utc(moment) if moment else None
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past the last date there is
        moment = None
    if moment is None or not EARLIEST_START <= moment <= received + CLOCK_SLACK:
        return received, (
            f"The report's timestamp '{shown}' is not between 1970 and the time the report "
            "was received; the run counts as started when it was received."
        )
    return moment, None
