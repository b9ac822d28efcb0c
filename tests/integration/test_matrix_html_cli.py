"""`tracker matrix --format html` writes the rows, statuses and notes of the JSON export."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from sqlmodel import Session

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tracker.domain.status import STATUS_LABELS, Status

ROW = re.compile(
    r'<tr><th scope="row">([^<]+)</th>.*?<span class="badge st-[a-z-]+">([^<]+)</span>'
)


def test_the_html_file_has_the_same_rows_and_statuses_as_the_json(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1")))
    out = tmp_path / "matrix.html"
    result = runner.invoke(args=["matrix", "--format", "html", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote 5 rows to {out}." in result.stderr
    page = out.read_text(encoding="utf-8")
    data = json.loads(runner.invoke(args=["matrix", "--format", "json"]).stdout)
    assert [(unescape(i), unescape(s)) for i, s in ROW.findall(page)] == [
        (row["id"], STATUS_LABELS[Status(row["status"])]) for row in data["rows"]
    ]
    assert f"Test evidence: {data['evidence_scope']}." in page


def test_the_notes_are_in_the_file_and_on_stderr(runner: Any, session: Session) -> None:
    load_small_catalog(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1")), release="2026.11")
    result = runner.invoke(args=["matrix", "--format", "html", "--release", "1999.01"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Note: There is no release 1999.01")
    assert '<p class="note">There is no release 1999.01' in result.stdout
    assert "<!DOCTYPE html>" in result.stdout
