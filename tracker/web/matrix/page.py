"""The matrix page's view objects, and the parsing of its filters, sort and scope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import render_template, url_for
from markupsafe import Markup

from tracker.domain.matrix import SORT_KEYS, MatrixFilter, MatrixRow, status_counts
from tracker.domain.status import STATUS_LABELS, STATUS_ORDER, Status
from tracker.errors import ValidationError
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import ScopeChoices
from tracker.web.fragments import row_fragments
from tracker.web.links import obligation_href_prefix, safe_url
from tracker.web.request_args import parse_scope_args
from tracker.web.status_style import STATUS_CSS, VERIFICATION_CSS, VERIFICATION_LABELS

MAX_TEXT_FILTER = 200
SORT_LABELS = {
    "id": "Obligation",
    "instrument": "Instrument",
    "title": "Title",
    "severity": "Severity",
    "status": "Status",
}


@dataclass(frozen=True)
class MatrixQuery:
    """The filters and sort order of a matrix request, parsed and normalised."""

    filter: MatrixFilter
    release: str | None = None
    branch: str | None = None
    environment: str | None = None

    def args(self, **changes: Any) -> dict[str, str]:
        """Return the non-default query arguments (filters, then scope), with changes applied."""
        current = replace(self.filter, **changes) if changes else self.filter
        values = {
            "instrument": current.instrument or "",
            "status": current.status or "",
            "tag": current.tag or "",
            "q": current.text or "",
            "sort": current.sort if current.sort != "id" else "",
            "order": "desc" if current.descending else "",
            "release": self.release or "",
            "branch": self.branch or "",
            "environment": self.environment or "",
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

    @property
    def scoped(self) -> bool:
        """Return whether an evidence scope other than the default is asked for."""
        return bool(self.release or self.branch or self.environment)


def parse_matrix_query(args: Mapping[str, str]) -> MatrixQuery:
    """Read the filters, sort, order and evidence scope; ValidationError names a bad value."""
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
    scope = parse_scope_args(args)
    return MatrixQuery(
        MatrixFilter(
            instrument=(args.get("instrument") or "").strip().upper() or None,
            status=status,
            tag=(args.get("tag") or "").strip() or None,
            text=text,
            sort=sort,
            descending=order == "desc",
        ),
        release=scope["release"],
        branch=scope["branch"],
        environment=scope["environment"],
    )


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
    verification: str = ""
    verification_css: str = ""
    signoff: str = ""


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

    #: The table's rows, rendered (the same for every viewer; see matrix_rows_html).
    rows_html: Markup
    shown: int
    signoff_column: bool
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
    releases: list[Option] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    default_branch: str = "main"
    #: What the evidence scope lacks (no run reported there), said above the table.
    notes: tuple[str, ...] = ()


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
                signoff=row.signoff,
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
                verification=VERIFICATION_LABELS[result.verification],
                verification_css=VERIFICATION_CSS[result.verification],
            )
        )
    return views


ROW_START = b"\n<tr>"


def matrix_rows_html(rows: Sequence[MatrixRow]) -> bytes:
    """Render the table's rows (nothing per viewer, so the result may be shared).

    Rows kept from the matrix before (it was brought up to date row by row) are not rendered
    again: each row's markup is kept while the row is (tracker.web.fragments.RowFragments).
    """
    return row_fragments().join("matrix-rows", rows, _each_row_html)


def _each_row_html(rows: Sequence[MatrixRow]) -> list[bytes]:
    """Render rows in one pass and cut the markup at each row's start (text is escaped)."""
    html = render_template("matrix/_rows.html", rows=matrix_row_views(rows)).encode("utf-8")
    parts = [ROW_START + part for part in html.split(ROW_START)[1:]]
    if len(parts) == len(rows):
        return parts
    return [  # never with escaped text; kept so that a template change cannot mix rows up
        render_template("matrix/_rows.html", rows=matrix_row_views([row])).encode("utf-8")
        for row in rows
    ]


def matrix_page(
    all_rows: Sequence[MatrixRow],
    shown: Sequence[MatrixRow],
    query: MatrixQuery,
    generated_at: datetime,
    scope: EvidenceScope,
    choices: ScopeChoices | None = None,
    notes: Sequence[str] = (),
    rows_html: bytes | None = None,
) -> MatrixPage:
    """Return the matrix page's view object for the rows shown out of all rows."""
    current = query.filter
    choices = choices or ScopeChoices()
    releases = list(choices.releases)
    if query.release and query.release not in releases:
        releases.append(query.release)
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
    html = matrix_rows_html(shown) if rows_html is None else rows_html
    return MatrixPage(
        rows_html=Markup(html.decode("utf-8")),  # noqa: S704 - rendered by Jinja, autoescaped
        shown=len(shown),
        signoff_column=bool(shown and shown[0].signoff),
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
        releases=[Option(item, item, item == query.release) for item in releases],
        branches=list(choices.branches),
        environments=list(choices.environments),
        default_branch=scope.default_branch,
        notes=tuple(notes),
    )
