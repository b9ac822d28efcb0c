"""The read-only JSON API under /api/v1: obligations, one obligation, the matrix."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for
from sqlmodel import Session, col, select

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.domain.matrix import apply_filter
from tracker.domain.status import STATUS_LABELS
from tracker.models import Obligation
from tracker.services.matrix import matrix_document
from tracker.services.obligations import ObligationDetail, obligation_detail
from tracker.services.work_item_page import work_item_detail
from tracker.web.api import schemas
from tracker.web.api.contract import PathVariable, Reply, operation, reply, shaped_items
from tracker.web.api.queries import EvidenceScopeQuery, MatrixParams, ObligationsQuery
from tracker.web.auth import requires
from tracker.web.caching import request_matrix, with_etag
from tracker.web.collector import with_collector_paused
from tracker.web.fragments import matrix_fragment, row_fragments
from tracker.web.work_items.page import work_item_json

api = Blueprint("api", __name__, url_prefix="/api/v1")

OBLIGATION_ID = {"obligation_id": PathVariable("The obligation's id.", "GDPR-17.1")}


@api.get("/obligations")
@operation(
    "List obligations",
    tag="obligations",
    query=ObligationsQuery,
    cached=True,
    replies={
        200: Reply("A page of the obligations that pass the filters.", schemas.ObligationList)
    },
)
@requires(Permission.READ)
@with_etag
@with_collector_paused
def list_obligations() -> Response:
    """List assessable obligations with their status; filter like the matrix, page by limit."""
    params = ObligationsQuery.from_args(request.args)
    limit, offset = params.limit, params.offset
    session = get_session()
    data = request_matrix(params.evidence_scope())
    rows = apply_filter(data.rows, params.matrix_query().filter)
    page = rows[offset : offset + limit]
    lifecycles = _lifecycles(session, [row.id for row in page])
    return reply(
        schemas.ObligationList,
        {
            "generated_at": data.generated_at,
            "total": len(rows),
            "limit": limit,
            "offset": offset,
            "notes": list(data.notes),
            "items": [
                {
                    "id": row.id,
                    "instrument": row.instrument,
                    "citation": row.citation,
                    "title": row.title,
                    "status": row.result.status.value,
                    "severity": row.severity,
                    "lifecycle": lifecycles.get(row.id),
                    "url": url_for("api.get_obligation", obligation_id=row.id),
                }
                for row in page
            ],
        },
    )


@api.get("/obligations/<obligation_id>")
@operation(
    "Get one obligation",
    tag="obligations",
    query=EvidenceScopeQuery,
    path=OBLIGATION_ID,
    cached=True,
    replies={200: Reply("The obligation.", schemas.ObligationDetail)},
)
@requires(Permission.READ)
@with_etag
def get_obligation(obligation_id: str) -> Response:
    """Return one obligation: catalog fields, mappings, versions, links and status."""
    scope = EvidenceScopeQuery.from_args(request.args).evidence_scope()
    detail = obligation_detail(session=get_session(), obligation_id=obligation_id, scope=scope)
    return reply(schemas.ObligationDetail, obligation_json(detail))


#: Where the matrix document's rows go (its first key is a timestamp, so this comes first).
EMPTY_ROWS = b'"rows": []'


@api.get("/matrix")
@operation(
    "Get the traceability matrix",
    tag="matrix",
    query=MatrixParams,
    cached=True,
    replies={200: Reply("The matrix rows that pass the filters, sorted.", schemas.Matrix)},
)
@requires(Permission.READ)
@with_etag
@with_collector_paused
def matrix() -> Response:
    """Return the filtered and sorted matrix, with the evidence scope it was computed for.

    notes says what the evidence scope lacks, e.g. that no test run reported for the release.
    """
    params = MatrixParams.from_args(request.args)
    scope = params.evidence_scope()
    data = request_matrix(scope)
    query = params.matrix_query()

    def render() -> bytes:
        rows = apply_filter(data.rows, query.filter)
        # The rows kept from the matrix before this one are shaped once (RowFragments).
        head = reply(schemas.Matrix, matrix_document(data, [], scope)).get_data()
        shaped = row_fragments().join(
            "api-matrix",
            rows,
            lambda new: shaped_items(schemas.MatrixRow, [row.to_dict() for row in new]),
            b", ",
        )
        return head.replace(EMPTY_ROWS, b'"rows": [' + shaped + b"]", 1)

    # The document is the same for every caller: shape it once per cached matrix.
    body = matrix_fragment(data, "api-matrix" + query.query_string(), render)
    return Response(body, content_type="application/json; charset=utf-8")


@api.get("/work-items/<key>")
@operation(
    "Get one work item",
    tag="work items",
    query=EvidenceScopeQuery,
    path={"key": PathVariable("The Jira issue key.", "PRIV-1")},
    replies={200: Reply("The work item.", schemas.WorkItemDetail)},
)
@requires(Permission.READ)
def get_work_item(key: str) -> Response:
    """Return one work item: what Jira says, the obligations it carries, the last push."""
    scope = EvidenceScopeQuery.from_args(request.args).evidence_scope()
    detail = work_item_detail(session=get_session(), key=key, scope=scope)
    return reply(schemas.WorkItemDetail, work_item_json(detail))


def obligation_json(detail: ObligationDetail) -> dict[str, Any]:
    """Return an obligation's detail as JSON-ready data."""
    obligation = detail.obligation
    row = detail.row
    status = None
    if row is not None:
        result = row.result
        status = {
            "status": result.status.value,
            "label": STATUS_LABELS[result.status],
            "implementation": result.implementation.value,
            "verification": result.verification.value,
            "suspect": result.suspect,
            "explanation": result.explanation,
            "reasons": list(result.reasons),
        }
    decision = detail.decision
    return {
        "id": obligation.id,
        "instrument": {
            "id": detail.instrument.id,
            "title": detail.instrument.title,
            "jurisdiction": detail.instrument.jurisdiction,
        },
        "citation": obligation.citation,
        "title": obligation.title,
        "summary": obligation.summary,
        "official_url": obligation.official_url,
        "assessable": obligation.assessable,
        "severity": obligation.severity,
        "lifecycle": obligation.lifecycle_status,
        "effective_date": obligation.effective_date,
        "retired_at": obligation.retired_at,
        "freshness_days": obligation.freshness_days,
        "applicability": obligation.applicability,
        "parameters": obligation.parameters,
        "evidence": obligation.evidence,
        "tags": obligation.tags,
        "version": obligation.version,
        "fingerprint": obligation.fingerprint,
        "source": {"file": obligation.source_file, "line": obligation.source_line},
        "parent": obligation.parent_id,
        "children": [child.id for child in detail.children],
        "mappings": [
            {
                "other": mapping.other_id,
                "other_title": mapping.other_title,
                "relationship": mapping.relationship,
                "direction": mapping.direction,
                "notes": mapping.notes,
            }
            for mapping in detail.mappings
        ],
        "versions": [
            {
                "version": version.version,
                "created_at": version.created_at,
                "fingerprint": version.fingerprint,
                "changed_fields": [change.field for change in version.changes],
            }
            for version in detail.versions
        ],
        "links": {
            "work_items": [
                {
                    "key": link.item.key,
                    "summary": link.item.summary,
                    "status": link.item.status,
                    "status_category": link.item.status_category,
                    "url": link.item.url,
                    "missing": link.item.missing,
                    "origin": link.link.origin,
                    "suspect": link.suspect,
                    "linked_by": link.link.created_by,
                    "linked_at": link.link.created_at,
                }
                for link in detail.work_links
            ],
            "tests": [
                {
                    "test_id": link.test_id,
                    "latest_outcome": link.outcome,
                    "latest_run_id": link.run_id,
                    "origin": link.origin,
                    "suspect": link.suspect,
                    "linked_by": link.linked_by,
                    "linked_at": link.linked_at,
                }
                for link in detail.test_links
            ],
        },
        "status": status,
        "applicability_decision": None
        if decision is None
        else {
            "not_applicable": decision.not_applicable,
            "justification": decision.justification,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at,
        },
    }


def _lifecycles(session: Session, obligation_ids: list[str]) -> dict[str, str]:
    # One query for the page of rows; the matrix rows do not carry the lifecycle.
    if not obligation_ids:
        return {}
    return dict(
        session.exec(
            select(Obligation.id, Obligation.lifecycle_status).where(
                col(Obligation.id).in_(obligation_ids)
            )
        ).all()
    )
