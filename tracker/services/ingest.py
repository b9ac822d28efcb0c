"""Ingesting a JUnit XML report: one run, its results, and the links the report declares.

The report is read as a stream; results and links are written in batches with a fixed number
of queries per batch, all in the caller's one transaction (a failure writes nothing). The same
report (same bytes) ingested twice is recorded once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, update
from sqlmodel import Session, col, select

from tracker.bulk import bulk_insert, is_one_of
from tracker.domain.access import Actor
from tracker.errors import ForbiddenError
from tracker.integrations.junit import JUnitReader, ParsedCase, ReportSource, content_sha256
from tracker.integrations.result_mapping import TestMapping
from tracker.models import (
    TestCase,
    TestLink,
    TestResult,
    TestRun,
    UnknownClaim,
    WorkItemLink,
    utcnow,
)
from tracker.services.audit import record_event
from tracker.services.work_items import ObligationIndex

BATCH = 5000
REPORT_ORIGINS = ("report", "mapping", "xray")
_SEVERITY = {"error": 4, "failed": 3, "passed": 2, "skipped": 1}


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
        return (
            f"Run #{self.run_id} ({self.suite}): {self.total} tests, {self.passed} passed, "
            f"{self.failed} failed, {self.errors} errors, {self.skipped} skipped, "
            f"{self.flaky} flaky; links +{self.links_added}/-{self.links_removed}."
            f"{unknown}{invalid}"
        )


@dataclass(slots=True)
class _Case:
    suite: str
    classname: str
    name: str
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None
    obligation_ids: tuple[str, ...]
    requirement_keys: tuple[str, ...]


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
) -> IngestReport:
    """Store one report as a run; raise ReportError (nothing written) if it cannot be read.

    With allowed_suites, a report holding any test of another suite is refused with
    ForbiddenError before anything is written (a limited CI token cannot touch other suites).
    """
    digest = content_hash or content_sha256(source)
    existing = session.exec(select(TestRun).where(TestRun.content_hash == digest)).first()
    if existing is not None:
        return IngestReport(run_id=existing.id or 0, duplicate=True, suite=existing.suite)

    reader = JUnitReader(source, max_bytes=max_bytes)
    cases = _aggregate(reader.cases())
    summary = reader.summary
    suite = options.suite or (summary.suites[0] if summary.suites else "") or "tests"
    if allowed_suites:
        _check_suites(suite, cases, allowed_suites)
    now = utcnow()
    run = TestRun(
        suite=suite[:300],
        commit=options.commit,
        branch=options.branch,
        release=options.release,
        environment=options.environment,
        source_name=options.source_name[:300],
        content_hash=digest,
        uploaded_by=uploaded_by.label,
        token_id=uploaded_by.token_id,
        started_at=_timestamp(summary.timestamp) or now,
        created_at=now,
    )
    session.add(run)
    session.flush()
    run_id = run.id or 0
    report = IngestReport(run_id=run_id, duplicate=False, suite=run.suite)
    report.invalid_ids = list(summary.invalid_ids)

    index = ObligationIndex(session)
    unknown: set[str] = set()
    test_ids = list(cases)
    for start in range(0, len(test_ids), BATCH):
        batch = test_ids[start : start + BATCH]
        case_ids = _upsert_test_cases(session, batch, cases, now)
        bulk_insert(
            session,
            _table(TestResult),
            [
                {
                    "run_id": run_id,
                    "test_case_id": case_ids[test_id],
                    "outcome": cases[test_id].outcome,
                    "flaky": cases[test_id].flaky,
                    "duration": cases[test_id].duration,
                    "message": cases[test_id].message,
                }
                for test_id in batch
            ],
        )
        added, removed = _sync_links(
            session, batch, cases, case_ids, index, mapping, unknown, uploaded_by, run_id
        )
        report.links_added += added
        report.links_removed += removed
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


def _aggregate(parsed: Iterable[ParsedCase]) -> dict[str, _Case]:
    """Collapse repeated test ids: the worst outcome counts, and every link is kept."""
    cases: dict[str, _Case] = {}
    for case in parsed:
        known = cases.get(case.test_id)
        if known is None:
            cases[case.test_id] = _Case(
                case.suite,
                case.classname,
                case.name,
                case.outcome,
                case.flaky,
                case.duration,
                case.message if case.outcome != "passed" else None,
                case.obligation_ids,
                case.requirement_keys + ((case.test_key,) if case.test_key else ()),
            )
            continue
        if _SEVERITY.get(case.outcome, 0) > _SEVERITY.get(known.outcome, 0):
            known.outcome, known.message = case.outcome, case.message
        known.flaky = known.flaky or case.flaky
        known.obligation_ids = tuple(dict.fromkeys(known.obligation_ids + case.obligation_ids))
        keys = case.requirement_keys + ((case.test_key,) if case.test_key else ())
        known.requirement_keys = tuple(dict.fromkeys(known.requirement_keys + keys))
    return cases


def _upsert_test_cases(
    session: Session, test_ids: list[str], cases: dict[str, _Case], now: datetime
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
            _table(TestCase),
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


def _check_suites(suite: str, cases: dict[str, _Case], allowed: Collection[str]) -> None:
    present = {suite} | {case.suite for case in cases.values()}
    outside = sorted(present - set(allowed))
    if outside:
        names = ", ".join(f"'{name[:100]}'" for name in outside[:5])
        raise ForbiddenError(
            f"This token may upload only the suites {', '.join(sorted(allowed))}; the report "
            f"holds tests of {names}. Nothing was stored."
        )


def _sync_links(
    session: Session,
    test_ids: list[str],
    cases: dict[str, _Case],
    case_ids: dict[str, int],
    index: ObligationIndex,
    mapping: TestMapping | None,
    unknown: set[str],
    actor: Actor,
    run_id: int,
) -> tuple[int, int]:
    """Make report-made links of these tests match what the report declares now."""
    keys = {key for test_id in test_ids for key in cases[test_id].requirement_keys}
    by_key: dict[str, set[str]] = {}
    if keys:
        for obligation_id, key in session.exec(
            select(WorkItemLink.obligation_id, WorkItemLink.work_item_key).where(
                is_one_of(session, col(WorkItemLink.work_item_key), sorted(keys)),
                col(WorkItemLink.removed_at).is_(None),
            )
        ).all():
            by_key.setdefault(key, set()).add(obligation_id)
    wanted: dict[tuple[str, int], tuple[str, int, str]] = {}
    claims: set[tuple[int, str]] = set()
    for test_id in test_ids:
        case, case_id = cases[test_id], case_ids[test_id]
        declared = [(ob, "report") for ob in case.obligation_ids]
        if mapping is not None:
            declared += [(ob, "mapping") for ob in mapping.obligations_for(test_id)]
        for key in case.requirement_keys:
            declared += [(ob, "xray") for ob in sorted(by_key.get(key, ()))]
        for obligation_id, origin in declared:
            resolved = index.resolve(obligation_id)
            if resolved is None:
                unknown.add(obligation_id)
                claims.add((case_id, obligation_id[:200]))
                continue
            wanted.setdefault((resolved[0], case_id), (origin, resolved[1], resolved[2]))
    active = session.exec(
        select(TestLink).where(
            is_one_of(session, col(TestLink.test_case_id), list(case_ids.values())),
            col(TestLink.removed_at).is_(None),
        )
    ).all()
    linked = {(link.obligation_id, link.test_case_id) for link in active}
    now = utcnow()
    removed = 0
    for link in active:
        if link.origin in REPORT_ORIGINS and (link.obligation_id, link.test_case_id) not in wanted:
            link.removed_at, link.removed_by = now, actor.label
            session.add(link)
            removed += 1
    rows: list[dict[str, Any]] = [
        {
            "obligation_id": obligation_id,
            "test_case_id": case_id,
            "origin": origin,
            "reviewed_version": version,
            "reviewed_fingerprint": fingerprint,
            "created_by": actor.label,
            "created_at": now,
        }
        for (obligation_id, case_id), (origin, version, fingerprint) in wanted.items()
        if (obligation_id, case_id) not in linked
    ]
    if rows:
        bulk_insert(session, _table(TestLink), rows)
    # Keep only each test's newest unknown claims, for the orphans report.
    claim_table = _table(UnknownClaim)
    session.connection().execute(
        claim_table.delete().where(
            is_one_of(session, claim_table.c.test_case_id, list(case_ids.values()))
        )
    )
    if claims:
        bulk_insert(
            session,
            claim_table,
            [{"test_case_id": c, "claimed_id": ob, "run_id": run_id} for c, ob in sorted(claims)],
        )
    return len(rows), removed


def _table(model: type[Any]) -> Table:
    """Return a model's table: Core inserts skip the ORM's per-row work on bulk data."""
    table: Table = model.__table__
    return table


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
