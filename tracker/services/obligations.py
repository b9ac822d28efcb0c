"""The obligation page: one obligation with its mappings, versions, links, status and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, or_, select

from tracker.domain.catalog_schema import RELATIONSHIP_INVERSES
from tracker.domain.diff import FieldChange, diff_versions
from tracker.domain.matrix import MatrixRow
from tracker.domain.status import ResultFact
from tracker.domain.status_expiry import next_status_change
from tracker.models import (
    ApplicabilityDecision,
    AuditEvent,
    Instrument,
    Obligation,
    ObligationMapping,
    ObligationVersion,
    TestCase,
    TestLink,
    WorkItem,
    WorkItemLink,
    utcnow,
)
from tracker.services.evidence import EvidenceScope, latest_results
from tracker.services.links import get_obligation
from tracker.services.matrix import build_matrix

#: How many audit events the page shows.
HISTORY_SHOWN = 200


@dataclass(frozen=True)
class MappingView:
    """A cross-law mapping seen from this obligation."""

    other_id: str
    other_title: str
    relationship: str
    notes: str | None
    direction: str  # "outgoing" (declared here) or "incoming" (declared on the other one)


@dataclass(frozen=True)
class VersionView:
    """One version and what changed from the one before it."""

    version: int
    created_at: datetime
    fingerprint: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class WorkLinkView:
    """A work-item link with its work item."""

    link: WorkItemLink
    item: WorkItem
    suspect: bool


@dataclass(frozen=True)
class TestLinkView:
    """A test link with its test and latest result."""

    __test__ = False

    test_id: str
    origin: str
    linked_by: str
    linked_at: datetime
    outcome: str | None
    run_id: int | None
    suspect: bool


@dataclass(frozen=True)
class ObligationEvidence:
    """The part of the page a test report can change: tests, outcomes and the status."""

    test_links: list[TestLinkView]
    row: MatrixRow | None
    #: The first moment the status reads otherwise with no write (evidence ageing), if any.
    valid_until: datetime | None


@dataclass(frozen=True)
class ObligationDetail:
    """Everything the obligation page shows."""

    obligation: Obligation
    instrument: Instrument
    parent: Obligation | None
    children: list[Obligation]
    mappings: list[MappingView]
    versions: list[VersionView]
    work_links: list[WorkLinkView]
    test_links: list[TestLinkView]
    row: MatrixRow | None
    decision: ApplicabilityDecision | None
    history: list[AuditEvent]
    #: The first moment its status reads otherwise with no write (evidence ageing), if any.
    valid_until: datetime | None = None


def obligation_detail(
    *, session: Session, obligation_id: str, scope: EvidenceScope | None = None
) -> ObligationDetail:
    """Return the obligation page's content; NotFoundError when the id is unknown."""
    obligation = get_obligation(session, obligation_id)
    instrument = session.get(Instrument, obligation.instrument_id)
    assert instrument is not None  # noqa: S101 - foreign key guarantees it
    parent = session.get(Obligation, obligation.parent_id) if obligation.parent_id else None
    children = list(
        session.exec(
            select(Obligation)
            .where(Obligation.parent_id == obligation.id)
            .order_by(Obligation.sort_key)
        ).all()
    )
    mapping_rows = session.exec(
        select(ObligationMapping).where(
            or_(
                col(ObligationMapping.source_id) == obligation.id,
                col(ObligationMapping.target_id) == obligation.id,
            )
        )
    ).all()
    outgoing = [row for row in mapping_rows if row.source_id == obligation.id]
    incoming = [row for row in mapping_rows if row.target_id == obligation.id]
    # Only the titles of the mapped obligations, not the whole catalog's.
    other_ids = {row.target_id for row in outgoing} | {row.source_id for row in incoming}
    titles = (
        dict(
            session.exec(
                select(Obligation.id, Obligation.title).where(col(Obligation.id).in_(other_ids))
            ).all()
        )
        if other_ids
        else {}
    )
    mappings = [
        MappingView(
            row.target_id, titles.get(row.target_id, ""), row.relationship, row.notes, "outgoing"
        )
        for row in sorted(outgoing, key=_by_id)
    ] + [
        MappingView(
            row.source_id,
            titles.get(row.source_id, ""),
            RELATIONSHIP_INVERSES.get(row.relationship, row.relationship),
            row.notes,
            "incoming",
        )
        for row in sorted(incoming, key=_by_id)
    ]
    version_rows = session.exec(
        select(ObligationVersion)
        .where(ObligationVersion.obligation_id == obligation.id)
        .order_by(col(ObligationVersion.version))
    ).all()
    versions = []
    previous: dict[str, object] = {}
    for version in version_rows:
        versions.append(
            VersionView(
                version.version,
                version.created_at,
                version.fingerprint,
                diff_versions(previous, version.content) if previous else [],
            )
        )
        previous = version.content
    versions.reverse()

    work_links = [
        WorkLinkView(link, item, link.reviewed_version < obligation.version)
        for link, item in session.exec(
            select(WorkItemLink, WorkItem)
            .join(WorkItem, col(WorkItem.key) == WorkItemLink.work_item_key)
            .where(WorkItemLink.obligation_id == obligation.id)
            .where(col(WorkItemLink.removed_at).is_(None))
            .order_by(WorkItem.key)
        ).all()
    ]
    evidence = obligation_evidence(
        session=session, obligation_id=obligation.id, version=obligation.version, scope=scope
    )
    decision = session.exec(
        select(ApplicabilityDecision)
        .where(ApplicabilityDecision.obligation_id == obligation.id)
        .order_by(
            col(ApplicabilityDecision.decided_at).desc(), col(ApplicabilityDecision.id).desc()
        )
    ).first()
    history = obligation_history(session, obligation.id)
    return ObligationDetail(
        obligation=obligation,
        instrument=instrument,
        parent=parent,
        children=children,
        mappings=mappings,
        versions=versions,
        work_links=work_links,
        test_links=evidence.test_links,
        row=evidence.row,
        decision=decision,
        history=history,
        valid_until=evidence.valid_until,
    )


def obligation_evidence(
    *, session: Session, obligation_id: str, version: int, scope: EvidenceScope | None = None
) -> ObligationEvidence:
    """Return the obligation's tests with their latest outcomes, and its status.

    This is all of the page that a test report can change (tracker.services.ingest writes
    tests, their links, runs and results, nothing else): a page kept from before a report is
    brought up to date by reading this part again. version is the obligation's current one
    (a link reviewed against an older one is suspect).
    """
    # (case id, test id, origin, linked by, linked at, reviewed version) of each linked test
    test_rows: list[Any] = list(
        session.connection().execute(_TEST_LINKS, {"obligation_id": obligation_id})
    )
    now = utcnow()
    matrix = build_matrix(
        session=session,
        scope=scope,
        obligation_ids=[obligation_id],
        include_retired=True,
        now=now,
        test_links=[(obligation_id, row[5], row[0], row[1]) for row in test_rows],
    )
    facts = matrix.facts.get(obligation_id)
    if facts is not None:
        # The matrix read these tests' latest results already (same scope, same links).
        by_test = {fact.test_id: fact.latest for fact in facts.tests}
        results: dict[int, ResultFact | None] = {row[0]: by_test.get(row[1]) for row in test_rows}
    else:  # a grouping node is not in the matrix, but its page lists its tests
        results = dict(
            latest_results(session, scope or EvidenceScope(), [row[0] for row in test_rows])
        )
    test_links = []
    for case_id, test_id, origin, linked_by, linked_at, reviewed_version in test_rows:
        latest = results.get(case_id)
        test_links.append(
            TestLinkView(
                test_id=test_id,
                origin=origin,
                linked_by=linked_by,
                linked_at=linked_at,
                outcome=latest.outcome if latest else None,
                run_id=latest.run_id if latest else None,
                suspect=reviewed_version < version,
            )
        )
    return ObligationEvidence(
        test_links=test_links,
        row=matrix.rows[0] if matrix.rows else None,
        valid_until=next_status_change(matrix.facts.values(), now),
    )


# Built once, as these run for every obligation page.
_TEST_LINKS = (
    core_select(
        col(TestCase.id),
        col(TestCase.test_id),
        col(TestLink.origin),
        col(TestLink.created_by),
        col(TestLink.created_at),
        col(TestLink.reviewed_version),
    )
    .join(TestCase, col(TestCase.id) == TestLink.test_case_id)
    .where(col(TestLink.obligation_id) == bindparam("obligation_id"))
    .where(col(TestLink.removed_at).is_(None))
    .order_by(col(TestCase.test_id))
)
_OF_OBLIGATION = (
    col(AuditEvent.entity_type) == "obligation",
    col(AuditEvent.entity_id) == bindparam("obligation_id"),
)
_HISTORY = (
    select(AuditEvent)
    .where(*_OF_OBLIGATION)
    .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    .limit(HISTORY_SHOWN)
)
_MARKER = select(func.count(), func.max(AuditEvent.id)).where(*_OF_OBLIGATION)


def obligation_history(session: Session, obligation_id: str) -> list[AuditEvent]:
    """Return the obligation's audit events, newest first (the last 200)."""
    return list(session.exec(_HISTORY, params={"obligation_id": obligation_id}).all())


def history_marker(session: Session, obligation_id: str) -> str:
    """Return a mark that moves whenever the obligation's audit history gains an event."""
    count, newest = session.exec(_MARKER, params={"obligation_id": obligation_id}).one()
    return f"{count}:{newest or 0}"


def _by_id(mapping: ObligationMapping) -> int:
    return mapping.id or 0
