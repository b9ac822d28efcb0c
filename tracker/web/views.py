"""View objects for the dashboard and the matrix, matrix query parsing, and JSON responses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, current_app, url_for

from tracker.domain.matrix import SORT_KEYS, MatrixFilter, MatrixRow, status_counts
from tracker.domain.status import STATUS_LABELS, STATUS_ORDER, Status
from tracker.errors import ValidationError
from tracker.services.evidence import EvidenceScope

MAX_TEXT_FILTER = 200
SORT_LABELS = {
    "id": "Obligation",
    "instrument": "Instrument",
    "title": "Title",
    "severity": "Severity",
    "status": "Status",
}
STATUS_CSS: dict[Status, str] = {
    status: "st-" + status.value.lower().replace("_", "-") for status in Status
}


def status_css(status: Status | str) -> str:
    """Return the CSS class that colours a status (the label is always shown too)."""
    return STATUS_CSS[Status(status)]


def safe_url(url: str | None) -> str | None:
    """Return the URL when it is http(s), else None (never a javascript: or data: link)."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def evidence_scope() -> EvidenceScope:
    """Return the evidence scope the pages use: the newest runs on the default branch."""
    return EvidenceScope(default_branch=current_app.config.get("DEFAULT_BRANCH", "main"))


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Return UTF-8 JSON (non-ASCII kept as is) with an explicit charset."""
    body = json.dumps(data, ensure_ascii=False, default=_json_default, indent=None)
    return Response(
        body,
        status=status,
        content_type="application/json; charset=utf-8",
        headers=dict(headers or {}),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# --- the matrix query -----------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixQuery:
    """The filters and sort order of a matrix request, parsed and normalised."""

    filter: MatrixFilter

    def args(self, **changes: Any) -> dict[str, str]:
        """Return the non-default query arguments, with changes applied."""
        current = replace(self.filter, **changes) if changes else self.filter
        values = {
            "instrument": current.instrument or "",
            "status": current.status or "",
            "tag": current.tag or "",
            "q": current.text or "",
            "sort": current.sort if current.sort != "id" else "",
            "order": "desc" if current.descending else "",
        }
        return {name: value for name, value in values.items() if value}

    def query_string(self, **changes: Any) -> str:
        """Return '?a=b&...' for links (empty when nothing is set)."""
        args = self.args(**changes)
        return "?" + urlencode(args) if args else ""

    @property
    def active(self) -> bool:
        """Return whether any filter (not just a sort) is set."""
        f = self.filter
        return bool(f.instrument or f.status or f.tag or f.text)


def parse_matrix_query(args: Mapping[str, str]) -> MatrixQuery:
    """Read instrument, status, tag, q, sort and order; ValidationError names a bad value."""
    status = (args.get("status") or "").strip().upper() or None
    if status is not None and status not in Status.__members__:
        choices = ", ".join(item.value for item in STATUS_ORDER)
        raise ValidationError(
            f"Unknown status '{args.get('status')}'. Use one of: {choices}.", field="status"
        )
    sort = (args.get("sort") or "id").strip().lower()
    if sort not in SORT_KEYS:
        raise ValidationError(
            f"Cannot sort by '{args.get('sort')}'. Sort by one of: {', '.join(SORT_KEYS)}.",
            field="sort",
        )
    order = (args.get("order") or "asc").strip().lower()
    if order not in ("asc", "desc"):
        raise ValidationError("order must be 'asc' or 'desc'.", field="order")
    text = (args.get("q") or "").strip() or None
    if text is not None and len(text) > MAX_TEXT_FILTER:
        raise ValidationError(
            f"The search text is too long: use at most {MAX_TEXT_FILTER} characters.", field="q"
        )
    return MatrixQuery(
        MatrixFilter(
            instrument=(args.get("instrument") or "").strip().upper() or None,
            status=status,
            tag=(args.get("tag") or "").strip() or None,
            text=text,
            sort=sort,
            descending=order == "desc",
        )
    )


# --- matrix page ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkItemChip:
    """A linked work item as a matrix cell shows it."""

    key: str
    url: str | None
    state: str
    summary: str
    missing: bool
    suspect: bool


@dataclass(frozen=True, slots=True)
class MatrixRowView:
    """One matrix row with every string the template prints already made."""

    id: str
    href: str
    instrument: str
    citation: str
    title: str
    severity: str
    status_label: str
    status_css: str
    explanation: str
    review_note: str
    work_items: tuple[WorkItemChip, ...]
    tests: str
    stale: str


@dataclass(frozen=True)
class SortLink:
    """A sortable column header."""

    label: str
    href: str
    aria_sort: str
    indicator: str


@dataclass(frozen=True)
class Option:
    """One choice of a select."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class StatusTally:
    """A status with how many rows have it."""

    label: str
    css: str
    count: int


@dataclass(frozen=True)
class MatrixPage:
    """Everything the matrix page shows."""

    rows: list[MatrixRowView]
    total: int
    query: MatrixQuery
    instruments: list[Option]
    statuses: list[Option]
    tags: list[Option]
    sort_links: dict[str, SortLink]
    exports: dict[str, str]
    tallies: list[StatusTally]
    generated_at: str
    scope: str


def obligation_href_prefix() -> str:
    """Return the obligation page URL without the id, so rows need no url_for each."""
    marker = "__OBLIGATION__"
    return url_for("obligations.show", obligation_id=marker).replace(marker, "")


def matrix_row_views(rows: Sequence[MatrixRow]) -> list[MatrixRowView]:
    """Return the rows with their strings, links and classes made once here."""
    prefix = obligation_href_prefix()
    labels = STATUS_LABELS
    views = []
    for row in rows:
        result = row.result
        counts = row.tests
        if counts.total:
            tests = f"{counts.passed} pass · {counts.failed} fail · {counts.not_run} not run"
        else:
            tests = "No tests"
        views.append(
            MatrixRowView(
                id=row.id,
                href=prefix + quote(row.id, safe=""),
                instrument=row.instrument,
                citation=row.citation,
                title=row.title,
                severity=row.severity or "—",
                status_label=labels[result.status],
                status_css=STATUS_CSS[result.status],
                explanation=result.explanation,
                review_note="Links need review"
                if result.suspect and result.status is not Status.SUSPECT
                else "",
                work_items=tuple(
                    WorkItemChip(
                        key=item.key,
                        url=safe_url(item.url),
                        state="missing in Jira"
                        if item.missing
                        else (item.status or item.status_category),
                        summary=item.summary,
                        missing=item.missing,
                        suspect=item.suspect,
                    )
                    for item in row.work_items
                ),
                tests=tests,
                stale=f"{counts.stale} stale" if counts.stale else "",
            )
        )
    return views


def matrix_page(
    all_rows: Sequence[MatrixRow],
    shown: Sequence[MatrixRow],
    query: MatrixQuery,
    generated_at: datetime,
    scope: EvidenceScope,
) -> MatrixPage:
    """Return the matrix page's view object for the rows shown out of all rows."""
    current = query.filter
    instruments = sorted({row.instrument for row in all_rows})
    if current.instrument and current.instrument not in instruments:
        instruments.append(current.instrument)
    tags = sorted({tag for row in all_rows for tag in row.tags})
    if current.tag and current.tag not in tags:
        tags.append(current.tag)
    base = url_for("matrix.index")
    sort_links = {}
    for key, label in SORT_LABELS.items():
        is_current = current.sort == key
        descending = not current.descending if is_current else False
        sort_links[key] = SortLink(
            label=label,
            href=base + query.query_string(sort=key, descending=descending),
            aria_sort=("descending" if current.descending else "ascending")
            if is_current
            else "none",
            indicator=(" ▼" if current.descending else " ▲") if is_current else "",
        )
    query_string = query.query_string()
    return MatrixPage(
        rows=matrix_row_views(shown),
        total=len(all_rows),
        query=query,
        instruments=[Option(item, item, item == current.instrument) for item in instruments],
        statuses=[
            Option(status.value, STATUS_LABELS[status], status.value == current.status)
            for status in STATUS_ORDER
        ],
        tags=[Option(tag, tag, tag == current.tag) for tag in tags],
        sort_links=sort_links,
        exports={
            "CSV": url_for("matrix.export_csv") + query_string,
            "JSON": url_for("matrix.export_json") + query_string,
            "Markdown": url_for("matrix.export_markdown") + query_string,
        },
        tallies=[
            StatusTally(STATUS_LABELS[status], STATUS_CSS[status], count)
            for status, count in status_counts(shown).items()
            if count
        ],
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
        scope=scope.describe(),
    )


# --- dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCell:
    """One status count of an instrument, linking to the matrix filtered to it."""

    status: str
    label: str
    css: str
    count: int
    href: str
    width: str
    title: str


@dataclass(frozen=True)
class InstrumentSummary:
    """An instrument's obligations counted per status."""

    id: str
    title: str
    total: int
    href: str
    cells: list[StatusCell]

    @property
    def segments(self) -> list[StatusCell]:
        """Return the cells drawn in the bar (those with a count)."""
        return [cell for cell in self.cells if cell.count]


@dataclass(frozen=True)
class DashboardPage:
    """Everything the dashboard shows."""

    instruments: list[InstrumentSummary]
    overall: InstrumentSummary
    generated_at: str
    scope: str

    @property
    def empty(self) -> bool:
        """Return whether no obligation is loaded yet."""
        return self.overall.total == 0


def dashboard_page(
    rows: Sequence[MatrixRow],
    instrument_titles: Mapping[str, str],
    generated_at: datetime,
    scope: EvidenceScope,
) -> DashboardPage:
    """Return the dashboard's view object: counts per instrument and overall."""
    base = url_for("matrix.index")
    by_instrument: dict[str, list[MatrixRow]] = {}
    for row in rows:
        by_instrument.setdefault(row.instrument, []).append(row)
    instruments = [
        _summary(base, instrument, instrument_titles.get(instrument, instrument), members)
        for instrument, members in sorted(by_instrument.items())
    ]
    return DashboardPage(
        instruments=instruments,
        overall=_summary(base, None, "All instruments", rows),
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
        scope=scope.describe(),
    )


def _summary(
    base: str, instrument: str | None, title: str, rows: Sequence[MatrixRow]
) -> InstrumentSummary:
    counts = status_counts(rows)
    total = sum(counts.values())
    widths = bar_widths([counts[status] for status in STATUS_ORDER])
    scope = {"instrument": instrument} if instrument else {}
    cells = []
    for status, width in zip(STATUS_ORDER, widths, strict=True):
        count = counts[status]
        label = STATUS_LABELS[status]
        noun = "obligation" if total == 1 else "obligations"
        cells.append(
            StatusCell(
                status=status.value,
                label=label,
                css=STATUS_CSS[status],
                count=count,
                href=f"{base}?{urlencode(scope | {'status': status.value})}",
                width=f"w-{width}",
                title=f"{label}: {count} of {total} {noun}",
            )
        )
    return InstrumentSummary(
        id=instrument or "",
        title=title,
        total=total,
        href=base + (f"?{urlencode(scope)}" if scope else ""),
        cells=cells,
    )


def bar_widths(counts: Sequence[int]) -> list[int]:
    """Return whole-percent widths summing to 100; every non-zero count gets at least 1."""
    total = sum(counts)
    if total == 0:
        return [0 for _ in counts]
    shares = [count * 100 / total for count in counts]
    widths = [
        max(1, int(share)) if count else 0 for count, share in zip(counts, shares, strict=True)
    ]
    by_remainder = sorted(
        (index for index, count in enumerate(counts) if count),
        key=lambda index: shares[index] - int(shares[index]),
        reverse=True,
    )
    surplus = sum(widths) - 100
    while surplus < 0:
        for index in by_remainder:
            if surplus == 0:
                break
            widths[index] += 1
            surplus += 1
    while surplus > 0:
        widest = max(range(len(widths)), key=lambda index: widths[index])
        widths[widest] -= 1
        surplus -= 1
    return widths
