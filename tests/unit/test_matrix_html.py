"""The standalone HTML matrix escapes every value and needs nothing from outside the file."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tracker.domain.matrix import MatrixRow, TestCounts, WorkItemCell
from tracker.domain.matrix_html import to_html
from tracker.domain.status import Implementation, Status, StatusResult, Verification

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def _row(**changes: object) -> MatrixRow:
    row = MatrixRow(
        id="GDPR-17.1",
        instrument="GDPR",
        citation="Art. 17(1)",
        title="Right to erasure",
        severity="high",
        tags=(),
        sort_key="GDPR-17.1",
        result=StatusResult(
            Status.FAILING, Implementation.DONE, Verification.FAILING, False, ("1 test fails.",)
        ),
        work_items=(WorkItemCell("PRIV-1", "Erase", "Done", "done", None, False, True, "manual"),),
        tests=TestCounts(total=3, passed=1, failed=1, not_run=1, stale=0),
    )
    return row._replace(**changes)


def test_every_value_from_the_data_is_escaped() -> None:
    page = to_html(
        [_row(title=HOSTILE, citation=HOSTILE)],
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        scope=f"branch {HOSTILE}",
        notes=[f"No run on {HOSTILE}"],
    )
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert page.count("&lt;script&gt;") == 4  # title, citation, scope and note


def test_the_page_shows_status_tests_work_items_and_why() -> None:
    page = to_html([_row()], datetime(2026, 12, 1, 12, 0, tzinfo=UTC), scope="branch main")
    assert "<h1>Traceability matrix (2026-12-01 12:00 UTC)</h1>" in page
    assert "<p>Test evidence: branch main.</p>" in page
    assert '<span class="badge st-failing">Failing</span>' in page
    assert "1 test fails." in page
    assert "1/1/1" in page
    assert "PRIV-1" in page and "Needs review" in page
    assert "Sign-off" not in page  # no release asked for: no sign-off column


def test_the_file_loads_no_script_style_sheet_image_or_font() -> None:
    page = to_html([_row()], datetime(2026, 12, 1, tzinfo=UTC), scope="branch main")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert not re.search(r"\b(src|href)=", page)
    assert "url(" not in page and "@import" not in page
