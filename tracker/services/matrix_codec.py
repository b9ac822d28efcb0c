"""A computed matrix as JSON and back, for caches shared between processes (never pickle)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tracker.domain.matrix import MatrixRow, TestCounts, WorkItemCell
from tracker.domain.status import (
    Implementation,
    ObligationFacts,
    ResultFact,
    Status,
    StatusResult,
    TestFact,
    Verification,
    WorkItemFact,
)
from tracker.services.matrix import MatrixData

#: Bumped when the shape below changes, so entries written by an older release are not read.
FORMAT = 1


def encode_matrix(data: MatrixData, expires: datetime) -> bytes:
    """Return the matrix and when it expires as UTF-8 JSON (named tuples become arrays)."""
    document = {
        "format": FORMAT,
        "expires": expires.isoformat(),
        "generated_at": data.generated_at.isoformat(),
        "notes": data.notes,
        "rows": data.rows,
        "facts": list(data.facts.values()),
    }
    return json.dumps(document, default=_plain, separators=(",", ":")).encode("utf-8")


def decode_matrix(blob: bytes) -> tuple[MatrixData, datetime] | None:
    """Return the matrix and its expiry, or None for an entry of another format."""
    document = json.loads(blob)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    rows = [_row(row) for row in document["rows"]]
    facts = [_facts(item) for item in document["facts"]]
    data = MatrixData(
        rows=rows,
        facts={item.obligation_id: item for item in facts},
        generated_at=datetime.fromisoformat(document["generated_at"]),
        notes=tuple(document["notes"]),
    )
    return data, datetime.fromisoformat(document["expires"])


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} has no JSON form in the matrix cache")


def _row(row: list[Any]) -> MatrixRow:
    ob_id, instrument, citation, title, severity, tags, key, result, work, tests, signoff = row
    status, implementation, verification, suspect, reasons = result
    return MatrixRow(
        id=ob_id,
        instrument=instrument,
        citation=citation,
        title=title,
        severity=severity,
        tags=tuple(tags),
        sort_key=key,
        result=StatusResult(
            status=Status(status),
            implementation=Implementation(implementation),
            verification=Verification(verification),
            suspect=suspect,
            reasons=tuple(reasons),
        ),
        work_items=tuple(WorkItemCell(*cell) for cell in work),
        tests=TestCounts(*tests),
        signoff=signoff,
    )


def _facts(item: list[Any]) -> ObligationFacts:
    ob_id, work, tests, not_applicable, justification, freshness, by, role = item
    return ObligationFacts(
        obligation_id=ob_id,
        work_items=tuple(WorkItemFact(*fact) for fact in work),
        tests=tuple(_test(test) for test in tests),
        not_applicable=not_applicable,
        justification=justification,
        freshness=timedelta(seconds=freshness),
        decided_by=by,
        decided_role=role,
    )


def _test(test: list[Any]) -> TestFact:
    test_id, latest, suspect = test
    if latest is None:
        return TestFact(test_id=test_id, latest=None, suspect=suspect)
    outcome, run_id, at, commit, flaky = latest
    fact = ResultFact(
        outcome=outcome, run_id=run_id, at=datetime.fromisoformat(at), commit=commit, flaky=flaky
    )
    return TestFact(test_id=test_id, latest=fact, suspect=suspect)
