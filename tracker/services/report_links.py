"""The links a report declares: report, mapping and Xray links of its tests, kept in step."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from tracker.bulk import bulk_insert, is_one_of, table_of
from tracker.domain.access import Actor
from tracker.integrations.result_mapping import TestMapping
from tracker.models import TestLink, UnknownClaim, WorkItemLink, column_length, utcnow
from tracker.services.report_cases import ReportCase
from tracker.services.work_items import ObligationIndex

REPORT_ORIGINS = ("report", "mapping", "xray")
#: Unknown obligation ids a run lists (further ones still get their claims, for the orphans).
UNKNOWN_LISTED = 1000
_KEY_LENGTH = column_length(WorkItemLink, "work_item_key")


def sync_report_links(
    session: Session,
    test_ids: list[str],
    cases: dict[str, ReportCase],
    case_ids: dict[str, int],
    index: ObligationIndex,
    mapping: TestMapping | None,
    unknown: set[str],
    actor: Actor,
    run_id: int,
) -> tuple[int, int, set[str]]:
    """Make report-made links of these tests match what the report declares now.

    Returns the links added and removed, and the obligations these tests were or now are
    linked to (whose rows the report may change).
    """
    # A key longer than the column names no work item: leave it out of the query.
    keys = {
        key
        for test_id in test_ids
        for key in cases[test_id].requirement_keys
        if len(key) <= _KEY_LENGTH
    }
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
                if len(unknown) < UNKNOWN_LISTED:
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
        bulk_insert(session, table_of(TestLink), rows)
    # Keep only each test's newest unknown claims, for the orphans report.
    claim_table = table_of(UnknownClaim)
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
    touched = {link.obligation_id for link in active} | {ob for ob, _ in wanted}
    return len(rows), removed, touched
