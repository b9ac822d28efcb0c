"""The traceability matrix as one standalone HTML file: no scripts, no external assets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from tracker.domain.matrix import MatrixRow, status_counts
from tracker.domain.status import STATUS_LABELS, Status

#: The page's own style: the status colours of the web pages, so a printed file reads the same.
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937;
  margin: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { border-bottom: 1px solid #d4d4d8; padding: .35rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: #f4f4f5; position: sticky; top: 0; }
ul { margin: 0; padding-left: 1rem; }
.muted { color: #52525b; }
.note { background: #e0ecfb; border-left: 4px solid #1d4ed8; padding: .25rem .75rem; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; border: 1px solid;
  font-size: .8125rem; font-weight: 600; white-space: nowrap; }
.st-verified { background: #e3f4e8; color: #14532d; border-color: #2e7d32; }
.st-implemented { background: #dff3f1; color: #134e4a; border-color: #0f766e; }
.st-in-progress { background: #e0ecfb; color: #1e3a8a; border-color: #1d4ed8; }
.st-planned { background: #e8edf3; color: #334155; border-color: #64748b; }
.st-gap { background: #fef9c3; color: #713f12; border: 1px dashed #a16207; }
.st-failing { background: #b91c1c; color: #ffffff; border-color: #7f1d1d; }
.st-suspect { background: #efe4fb; color: #4c1d95; border-color: #7e22ce; }
.st-not-applicable { background: #eeeeee; color: #3f3f46; border-color: #71717a; }
"""


def to_html(
    rows: Sequence[MatrixRow],
    generated_at: datetime,
    *,
    scope: str,
    notes: Sequence[str] = (),
) -> str:
    """Return the matrix as a standalone HTML document; every value from the data is escaped."""
    signoffs = any(row.signoff for row in rows)
    tallies = " ".join(
        f'<span class="badge {_css(status)}">{escape(STATUS_LABELS[status])}: {count}</span>'
        for status, count in status_counts(rows).items()
        if count
    )
    head = [
        "Obligation",
        "Instrument",
        "Citation",
        "Title",
        "Severity",
        "Work items",
        "Tests (pass/fail/not run)",
        "Status",
    ]
    if signoffs:
        head.append("Sign-off")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Traceability matrix {generated_at:%Y-%m-%d %H:%M} UTC</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        f"<h1>Traceability matrix ({generated_at:%Y-%m-%d %H:%M} UTC)</h1>",
        f"<p>Test evidence: {escape(scope)}.</p>",
        *(f'<p class="note">{escape(note)}</p>' for note in notes),
        f"<p>{len(rows)} obligations. {tallies}</p>",
        "<table>",
        "<thead><tr>" + "".join(f'<th scope="col">{name}</th>' for name in head) + "</tr></thead>",
        "<tbody>",
    ]
    parts.extend(_row(row, signoffs) for row in rows)
    parts += ["</tbody>", "</table>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _row(row: MatrixRow, signoffs: bool) -> str:
    result = row.result
    if row.work_items:
        items = "".join(
            f"<li>{escape(item.key)} <span class=muted>{escape(item.status)}</span>"
            + (' <span class="badge st-suspect">Needs review</span>' if item.suspect else "")
            + (" <strong>missing from Jira</strong>" if item.missing else "")
            + "</li>"
            for item in row.work_items
        )
        work = f"<ul>{items}</ul>"
    else:
        work = '<span class="muted">None linked</span>'
    tests = f"{row.tests.passed}/{row.tests.failed}/{row.tests.not_run}"
    if row.tests.stale:
        tests += f" <span class=muted>({row.tests.stale} stale)</span>"
    cells = [
        f'<th scope="row">{escape(row.id)}</th>',
        f"<td>{escape(row.instrument)}</td>",
        f"<td>{escape(row.citation)}</td>",
        f"<td>{escape(row.title)}</td>",
        f"<td>{escape(row.severity or '')}</td>",
        f"<td>{work}</td>",
        f"<td>{escape(result.verification.value)}<br>{tests}</td>",
        f'<td><span class="badge {_css(result.status)}">{escape(STATUS_LABELS[result.status])}'
        f"</span><br><span class=muted>{escape(result.explanation)}</span></td>",
    ]
    if signoffs:
        cells.append(f"<td>{escape(row.signoff or '-')}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _css(status: Status) -> str:
    return "st-" + status.value.lower().replace("_", "-")
