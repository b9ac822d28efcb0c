"""The traceability matrix page, its CSV, JSON and Markdown exports, and the OSCAL catalog."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, Response, render_template, request

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.domain.matrix import MatrixRow, apply_filter, to_csv, to_markdown
from tracker.errors import CatalogError, NotFoundError
from tracker.services import catalog_export
from tracker.services.evidence_pages import scope_choices
from tracker.services.matrix import MatrixData, matrix_document
from tracker.web.auth import requires
from tracker.web.caching import request_matrix, with_etag
from tracker.web.collector import with_collector_paused
from tracker.web.fragments import matrix_fragment
from tracker.web.matrix.page import (
    MatrixQuery,
    matrix_page,
    matrix_rows_html,
    parse_matrix_query,
)
from tracker.web.request_args import evidence_scope
from tracker.web.responses import json_response

matrix = Blueprint("matrix", __name__)

#: Where the rendered rows go in the page: a comment no escaped text can contain.
ROWS_MARK_TEXT = f"<!--rows-{secrets.token_hex(8)}-->"
ROWS_MARK = ROWS_MARK_TEXT.encode("ascii")


@matrix.get("/matrix")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def index() -> Response:
    """Show every assessable obligation with its links, tests and status."""
    query = parse_matrix_query(request.args)
    scope = evidence_scope()
    session = get_session()
    data = request_matrix(scope)
    shown = apply_filter(data.rows, query.filter)
    choices = scope_choices(session=session)
    rows_html = matrix_fragment(
        data, "rows" + query.query_string(), lambda: matrix_rows_html(shown)
    )
    # The rows (megabytes at thousands of obligations) go into the page as bytes, not text.
    page = matrix_page(
        data.rows, shown, query, data.generated_at, scope, choices, data.notes, ROWS_MARK
    )
    head, _, tail = render_template("matrix/index.html", page=page).partition(ROWS_MARK_TEXT)
    return Response(
        b"".join((head.encode("utf-8"), rows_html, tail.encode("utf-8"))),
        content_type="text/html; charset=utf-8",
    )


@matrix.get("/matrix.csv")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def export_csv() -> Response:
    """Download exactly the filtered and sorted matrix as CSV."""
    data, rows = _filtered()
    response = _attachment(to_csv(rows), "text/csv; charset=utf-8", data, "csv")
    if data.notes:
        # The rows' explanations say it too; the header lets a script see it without parsing.
        response.headers["X-Evidence-Note"] = _header_text(" ".join(data.notes))
    return response


@matrix.get("/matrix.json")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def export_json() -> Response:
    """Download exactly the filtered and sorted matrix as JSON."""
    data, rows = _filtered()
    response = json_response(matrix_document(data, rows, evidence_scope()))
    response.headers["Content-Disposition"] = _disposition(data, "json")
    return response


@matrix.get("/matrix.md")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def export_markdown() -> Response:
    """Download exactly the filtered and sorted matrix as a Markdown table."""
    data, rows = _filtered()
    # The scope says which test results the statuses rest on; the table alone cannot.
    title, _, rest = to_markdown(rows, data.generated_at).partition("\n")
    scope = _markdown_text(evidence_scope().describe())
    notes = "".join(f"\n**{_markdown_text(note)}**\n" for note in data.notes)
    text = f"{title}\n\nTest evidence: {scope}.\n{notes}{rest}"
    return _attachment(text, "text/markdown; charset=utf-8", data, "md")


@matrix.get("/matrix/oscal/catalog.json")
@requires(Permission.READ)
def export_oscal_catalog() -> Response:
    """Download the whole current catalog as an OSCAL catalog (not only the filtered view)."""
    try:
        export = catalog_export.export_oscal_catalog(session=get_session())
    except CatalogError as error:
        raise NotFoundError(str(error)) from error
    return _oscal_download(export.text, "catalog.json")


@matrix.get("/matrix/oscal/profile.json")
@requires(Permission.READ)
def export_oscal_profile() -> Response:
    """Download the OSCAL profile of what applies; it imports catalog.json beside it."""
    try:
        export = catalog_export.export_oscal_profile(session=get_session())
    except CatalogError as error:
        raise NotFoundError(str(error)) from error
    return _oscal_download(export.text, "profile.json")


def _oscal_download(text: str, filename: str) -> Response:
    # Saved under these names, the profile's relative import finds the catalog, on the
    # server (/matrix/oscal/...) and in a downloads folder alike.
    return Response(
        text,
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def filtered_matrix(query: MatrixQuery) -> tuple[MatrixData, list[MatrixRow]]:
    """Return the matrix and its rows that pass the query, sorted as asked."""
    data = request_matrix(evidence_scope())
    return data, apply_filter(data.rows, query.filter)


def _filtered() -> tuple[MatrixData, list[MatrixRow]]:
    return filtered_matrix(parse_matrix_query(request.args))


def _markdown_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


def _header_text(text: str) -> str:
    # Header values are Latin-1 on the wire; keep them to plain ASCII.
    return text.encode("ascii", "replace").decode("ascii")


def _disposition(data: MatrixData, extension: str) -> str:
    return f'attachment; filename="traceability-matrix-{data.generated_at:%Y%m%d-%H%M}.{extension}"'


def _attachment(body: str, content_type: str, data: MatrixData, extension: str) -> Response:
    return Response(
        body,
        content_type=content_type,
        headers={"Content-Disposition": _disposition(data, extension)},
    )
