"""`tracker matrix` says when no test run is in the evidence scope, without spoiling the export."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from tests.evidence_helpers import case, ingest, load_small_catalog, report

NOTE = (
    "There is no release 1999.01: no Jira fix version, tracker release or test run has that "
    "name. No test run reported for release 1999.01: verification shows not run."
)


def test_the_note_goes_to_stderr_and_into_the_json(runner: Any, session: Session) -> None:
    load_small_catalog(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1")), release="2026.11")
    result = runner.invoke(args=["matrix", "--format", "json", "--release", "1999.01"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Note: {NOTE}\n"
    data = json.loads(result.stdout)
    assert data["notes"] == [NOTE]
    assert data["evidence_scope"] == "newest run of each suite on release 1999.01"
    row = next(item for item in data["rows"] if item["id"] == "ALPHA-1.1")
    assert NOTE in row["explanation"]


def test_a_scope_with_runs_has_no_note(runner: Any, session: Session) -> None:
    load_small_catalog(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1")), release="2026.11")
    result = runner.invoke(args=["matrix", "--format", "csv", "--release", "2026.11"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("id,instrument,")
