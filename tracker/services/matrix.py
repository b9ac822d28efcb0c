"""Building matrix rows from the database with a fixed number of queries, whatever the size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tracker.bulk import one_of_parameter
from tracker.domain.matrix import MatrixRow, TestCounts, WorkItemCell, to_json
from tracker.domain.release_verdict import ObligationInRelease, SignOffFact, signoff_state
from tracker.domain.releases import ReleaseScope, standing
from tracker.domain.status import (
    FAILING_OUTCOMES,
    PASSING_OUTCOMES,
    ObligationFacts,
    Status,
    TestFact,
    WorkItemFact,
    overall_status,
)
from tracker.models import (
    ApplicabilityDecision,
    Obligation,
    SignOff,
    TestCase,
    TestLink,
    WorkItem,
    WorkItemLink,
    utcnow,
)
from tracker.services.evidence import EvidenceScope, latest_results, latest_run_ids
from tracker.services.releases import list_releases


@dataclass(frozen=True)
class MatrixData:
    """Rows and the facts behind them, for pages that show more than a row."""

    rows: list[MatrixRow]
    facts: dict[str, ObligationFacts]
    generated_at: datetime
    #: What the evidence scope lacks, in words (no run reported there, an unknown release).
    notes: tuple[str, ...] = ()
    #: The matrix cache's key for this matrix (None: computed for one request only).
    cache_key: str | None = None
    #: When a cached matrix stops being true (its time bucket ends or a status ages).
    valid_until: datetime | None = None
    #: The data generation a cached matrix holds the rows of (None: not known).
    generation: str | None = None
    #: Whether it was brought up to date in this process only (other workers have their own).
    local: bool = False


def matrix_document(
    data: MatrixData, rows: Sequence[MatrixRow], scope: EvidenceScope
) -> dict[str, Any]:
    """Return the JSON export (web, API and CLI): the rows, the scope and what the scope lacks."""
    return to_json(rows, data.generated_at) | {
        "evidence_scope": scope.describe(),
        "notes": list(data.notes),
    }


def build_matrix(
    *,
    session: Session,
    scope: EvidenceScope | None = None,
    obligation_ids: list[str] | None = None,
    include_retired: bool = False,
    now: datetime | None = None,
    max_evidence_age_days: int | None = None,
    contents: ReleaseScope | None = None,
    signoffs: Mapping[str, SignOffFact] | None = None,
    test_links: Sequence[tuple[str, int, int, str]] | None = None,
) -> MatrixData:
    """Compute every assessable obligation's status (or only the ids given).

    With a release in the scope, its test runs are the evidence and only the work items in
    the release count (by their fix versions; see tracker.domain.releases.standing);
    contents applies that work-item rule with evidence from another scope; signoffs and
    test_links (obligation id, reviewed version, test case id, test id of the obligations
    asked for), when the caller read them already, save reading them again.
    """
    scope = scope or EvidenceScope()
    now = now or utcnow()
    release = contents or (release_scope(session, scope.release) if scope.release else None)
    # Core rows, not ORM ones: no per-row bookkeeping for tens of thousands of links.
    connection = session.connection()
    queries = _queries(connection.dialect.name, obligation_ids is not None, include_retired)
    ids = {"ids": list(obligation_ids)} if obligation_ids is not None else {}
    obligations = connection.execute(queries.obligations, ids).all()
    versions = {row[0]: row[7] for row in obligations}

    decisions: dict[str, tuple[bool, str, str, str | None]] = {}
    for obligation_id, not_applicable, justification, by, role in connection.execute(
        queries.decisions, ids
    ).all():
        decisions[obligation_id] = (not_applicable, justification, by, role)

    cells: dict[str, list[WorkItemCell]] = defaultdict(list)
    fix_versions: dict[str, list[str]] = {}
    work_rows = connection.execute(queries.work, ids).all()
    for ob_id, reviewed, origin, key, summary, status, category, url, missing, fixes in work_rows:
        if ob_id not in versions:
            continue
        fix_versions[key] = fixes or []
        cells[ob_id].append(
            WorkItemCell(
                key=key,
                summary=summary,
                status=status,
                status_category=category,
                url=url,
                missing=missing,
                suspect=reviewed < versions[ob_id],
                origin=origin,
            )
        )

    if test_links is None:
        test_links = connection.execute(queries.tests, ids).all()
    test_links = [row for row in test_links if row[0] in versions]
    results = latest_results(
        session, scope, {row[2] for row in test_links} if obligation_ids is not None else None
    )
    tests: dict[str, list[TestFact]] = defaultdict(list)
    for ob_id, reviewed, case_id, test_id in test_links:
        tests[ob_id].append(
            TestFact(
                test_id=test_id, latest=results.get(case_id), suspect=reviewed < versions[ob_id]
            )
        )

    # A result in scope proves a run there; only without one is the scope looked at again.
    scope_notes = () if results else evidence_notes(session, scope)
    if signoffs is None:
        signoffs = _signoffs(session, release.name) if release is not None else {}
    rows: list[MatrixRow] = []
    all_facts: dict[str, ObligationFacts] = {}
    for ob_id, instrument, citation, title, severity, tags, key, _version, freshness in obligations:
        decision = decisions.get(ob_id)
        work_cells = tuple(sorted(cells.get(ob_id, ()), key=_by_key))
        work_facts, notes = _work_in_release(work_cells, release, fix_versions)
        facts = ObligationFacts(
            obligation_id=ob_id,
            work_items=work_facts,
            # Sorting each short list here is cheaper than ORDER BY over every link in SQL.
            tests=tuple(sorted(tests.get(ob_id, ()))),
            not_applicable=bool(decision and decision[0]),
            justification=decision[1] if decision else None,
            decided_by=decision[2] if decision else None,
            decided_role=decision[3] if decision else None,
            freshness=timedelta(
                days=min(freshness, max_evidence_age_days) if max_evidence_age_days else freshness
            ),
        )
        all_facts[ob_id] = facts
        result = overall_status(facts, now)
        if scope_notes and facts.tests:
            notes = notes + scope_notes  # why its linked tests count as not run
        if notes:
            result = result._replace(reasons=result.reasons + notes)
        signoff = ""
        if release is not None:
            state, _ = signoff_state(
                ObligationInRelease(
                    id=ob_id,
                    instrument=instrument,
                    severity=severity,
                    status=result.status,
                    version=versions[ob_id],
                    signoff=signoffs.get(ob_id),
                )
            )
            signoff = state.value
        rows.append(
            MatrixRow(
                id=ob_id,
                instrument=instrument,
                citation=citation,
                title=title,
                severity=severity,
                tags=tuple(tags or ()),
                sort_key=key,
                result=result,
                work_items=work_cells,
                tests=_count(facts.tests, now, facts.freshness),
                signoff=signoff,
            )
        )
    return MatrixData(rows=rows, facts=all_facts, generated_at=now, notes=scope_notes)


@dataclass(frozen=True)
class _MatrixQueries:
    obligations: Any
    decisions: Any
    work: Any
    tests: Any


@cache
def _queries(dialect: str, by_ids: bool, include_retired: bool) -> _MatrixQueries:
    """Return build_matrix's statements, built once: a statement built for each call costs
    more than running it (with obligation ids, they take the list as the parameter "ids")."""

    def of_ids(query: Any, column: Any) -> Any:
        return query.where(one_of_parameter(dialect, column, "ids")) if by_ids else query

    # SQLAlchemy's select(): SQLModel's select() has types for at most four columns.
    obligations = core_select(
        col(Obligation.id),
        col(Obligation.instrument_id),
        col(Obligation.citation),
        col(Obligation.title),
        col(Obligation.severity),
        col(Obligation.tags),
        col(Obligation.sort_key),
        col(Obligation.version),
        col(Obligation.freshness_days),
    ).where(col(Obligation.assessable) == True)  # noqa: E712 - SQL expression
    if not include_retired:
        obligations = obligations.where(col(Obligation.retired_at).is_(None))
    decisions = core_select(
        col(ApplicabilityDecision.obligation_id),
        col(ApplicabilityDecision.not_applicable),
        col(ApplicabilityDecision.justification),
        col(ApplicabilityDecision.decided_by),
        col(ApplicabilityDecision.decided_role),
    ).order_by(col(ApplicabilityDecision.decided_at), col(ApplicabilityDecision.id))
    work = (
        core_select(
            col(WorkItemLink.obligation_id),
            col(WorkItemLink.reviewed_version),
            col(WorkItemLink.origin),
            col(WorkItem.key),
            col(WorkItem.summary),
            col(WorkItem.status),
            col(WorkItem.status_category),
            col(WorkItem.url),
            col(WorkItem.missing),
            col(WorkItem.fix_versions),
        )
        .join(WorkItem, col(WorkItem.key) == WorkItemLink.work_item_key)
        .where(col(WorkItemLink.removed_at).is_(None))
    )
    tests = (
        core_select(
            col(TestLink.obligation_id),
            col(TestLink.reviewed_version),
            col(TestCase.id),
            col(TestCase.test_id),
        )
        .join(TestCase, col(TestCase.id) == TestLink.test_case_id)
        .where(col(TestLink.removed_at).is_(None))
    )
    return _MatrixQueries(
        obligations=of_ids(obligations, col(Obligation.id)).order_by(col(Obligation.sort_key)),
        decisions=of_ids(decisions, col(ApplicabilityDecision.obligation_id)),
        work=of_ids(work, col(WorkItemLink.obligation_id)),
        tests=of_ids(tests, col(TestLink.obligation_id)),
    )


def evidence_notes(session: Session, scope: EvidenceScope) -> tuple[str, ...]:
    """Return what to say when no test run is in the scope (and when its release is unknown).

    Without a run every linked test counts as not run, which would otherwise look like tests
    that were skipped; a release nobody has heard of is most likely a typo.
    """
    if latest_run_ids(session, scope):
        return ()
    no_run = f"No test run reported for {scope_words(scope)}: verification shows not run."
    if scope.release and release_scope(session, scope.release) is None:
        unknown = (
            f"There is no release {scope.release}: no Jira fix version, tracker release or "
            "test run has that name."
        )
        return (f"{unknown} {no_run}",)
    return (no_run,)


def scope_words(scope: EvidenceScope) -> str:
    """Return the scope as "release 2026.12, branch main" (the default branch when unscoped)."""
    parts = []
    if scope.release:
        parts.append(f"release {scope.release}")
    if scope.branch or not scope.release:
        parts.append(f"branch {scope.branch or scope.default_branch}")
    if scope.environment:
        parts.append(f"environment {scope.environment}")
    return ", ".join(parts)


def _signoffs(session: Session, release: str) -> dict[str, SignOffFact]:
    """Return the newest sign-off of each obligation for the release (one query)."""
    query = (
        select(SignOff.obligation_id, SignOff.signed_by, SignOff.obligation_version, SignOff.status)
        .where(col(SignOff.release) == release)
        .order_by(col(SignOff.id))
    )
    return {
        ob_id: SignOffFact(by, version, Status(status), "")
        for ob_id, by, version, status in session.execute(query).all()
    }


def release_scope(session: Session, name: str) -> ReleaseScope | None:
    """Return the release with every release's date, or None when no release has the name."""
    found = {release.name: release.release_date for release in list_releases(session=session)}
    if name not in found:
        return None
    return ReleaseScope(name=name, release_date=found[name], dates=found)


def _work_in_release(
    cells: tuple[WorkItemCell, ...],
    release: ReleaseScope | None,
    fix_versions: dict[str, list[str]],
) -> tuple[tuple[WorkItemFact, ...], tuple[str, ...]]:
    """Return the work that counts for the release, and notes on what does not (and why)."""
    counted: list[WorkItemFact] = []
    planned_later: list[WorkItemFact] = []
    notes: list[str] = []
    for cell in cells:
        fact = WorkItemFact(
            key=cell.key,
            status=cell.status,
            status_category=cell.status_category,
            suspect=cell.suspect,
            missing=cell.missing,
        )
        if release is None:
            counted.append(fact)
            continue
        standing_ = standing(release, cell.key, fix_versions.get(cell.key, []))
        if standing_.note:
            notes.append(standing_.note)
        (counted if standing_.counts else planned_later).append(fact)
    if not counted and planned_later:
        # All of its work is for a later release: for this one it is planned, not a gap.
        first = planned_later[0]
        counted.append(first._replace(status="planned for a later release", status_category="new"))
    return tuple(counted), tuple(notes)


def _by_key(cell: WorkItemCell) -> str:
    return cell.key


def _count(tests: tuple[TestFact, ...], now: datetime, freshness: timedelta) -> TestCounts:
    passed = failed = not_run = stale = 0
    for test in tests:
        latest = test.latest
        if latest is None or (
            latest.outcome not in PASSING_OUTCOMES and latest.outcome not in FAILING_OUTCOMES
        ):
            not_run += 1
        elif latest.outcome in FAILING_OUTCOMES:
            failed += 1
        elif now - latest.at > freshness:
            stale += 1
        else:
            passed += 1
    return TestCounts(total=len(tests), passed=passed, failed=failed, not_run=not_run, stale=stale)
