"""Sandbox search routes: Cloud enhanced search (/search/jql) and Data Center offset search."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Response, request

from tracker.sandbox.context import SandboxContext, api_blueprint, sandbox_context
from tracker.sandbox.jql import parse_jql
from tracker.sandbox.replies import fail, jersey_not_found, jira_error, json_reply, kind
from tracker.sandbox.representation import FIELD_DEFINITIONS, FieldSelection
from tracker.sandbox.search import OrderedResult, PageTokenError, make_page_token, read_page_token

blueprint = api_blueprint("sandbox_search")

UNBOUNDED_MESSAGE = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
GONE_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_FIELD_NAMES = {entry["id"]: entry["name"] for entry in FIELD_DEFINITIONS}


@dataclass
class SearchParams:
    """Search parameters from the query string (GET) or the JSON body (POST)."""

    jql: str
    fields: list[str] | None
    max_results: int | None
    start_at: int
    next_page_token: str | None
    validate_query: str
    expand: str
    reconcile_issues: list[Any]


@blueprint.route("/search/jql", methods=["GET", "POST"])
@kind("search")
def enhanced_search() -> Response:
    """Cloud enhanced search: cursor pages with nextPageToken/isLast, no total."""
    context = sandbox_context()
    if not context.is_cloud:
        return jersey_not_found()
    params = _read_params()
    if not params.jql.strip() or not parse_jql(params.jql).bounded:
        raise fail(400, UNBOUNDED_MESSAGE)
    if len(params.reconcile_issues) > 50:
        raise fail(400, "The number of reconcileIssues must not exceed 50.")
    size = max(1, min(params.max_results or 50, context.max_results_cap))
    selection = FieldSelection.parse(params.fields, default="id")
    state = context.state
    with state.lock:
        result = context.search.run(params.jql)
        now_ms = int(state.now().timestamp() * 1000)
        start = 0
        if params.next_page_token:
            try:
                start = result.position_after(
                    read_page_token(params.next_page_token, params.jql, now_ms)
                )
            except PageTokenError as error:
                raise fail(400, str(error)) from error
        page = result.issues[start : start + size]
        end = start + len(page)
        renderer = context.renderer()
        body: dict[str, Any] = {"issues": [renderer.issue(issue, selection) for issue in page]}
        if end < len(result.issues):
            body["nextPageToken"] = make_page_token(params.jql, result.values[end - 1], now_ms)
        body["isLast"] = end >= len(result.issues)
        _add_names(body, params.expand, selection)
    return json_reply(body)


@blueprint.route("/search/approximate-count", methods=["POST"])
@kind("approximate_count")
def approximate_count() -> Response:
    """Cloud approximate count (exact here)."""
    context = sandbox_context()
    if not context.is_cloud:
        return jersey_not_found()
    params = _read_params()
    if not params.jql.strip() or not parse_jql(params.jql).bounded:
        raise fail(400, UNBOUNDED_MESSAGE)
    return json_reply({"count": len(context.search.run(params.jql).issues)})


@blueprint.route("/search", methods=["GET", "POST"])
@kind("search")
def offset_search() -> Response:
    """Data Center search with startAt/maxResults/total; Cloud answers 410 Gone."""
    context = sandbox_context()
    if context.is_cloud:
        return jira_error(410, [GONE_MESSAGE])
    params = _read_params()
    size = max(
        0, min(50 if params.max_results is None else params.max_results, context.max_results_cap)
    )
    requested = params.start_at + size
    if requested > context.max_result_window:
        return _search_limit_exceeded(context, requested)
    strict = params.validate_query.lower() not in ("false", "none", "warn")
    selection = FieldSelection.parse(params.fields, default="*navigable")
    with context.state.lock:
        result = context.search.run(params.jql, strict=strict)
        page = result.issues[params.start_at : params.start_at + size]
        body: dict[str, Any] = _offset_body(result, params, size)
        renderer = context.renderer()
        body["issues"] = [renderer.issue(issue, selection) for issue in page]
        _add_names(body, params.expand, selection)
    return json_reply(body)


def _offset_body(result: OrderedResult, params: SearchParams, size: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": params.start_at,
        "maxResults": size,
        "total": len(result.issues),
    }
    if result.warnings:
        body["warningMessages"] = list(result.warnings)
    return body


def _search_limit_exceeded(context: SandboxContext, requested: int) -> Response:
    # Jira DC's generic REST error (message + stack-trace), as in Atlassian's KB article.
    message = (
        f"Search limit exceeded. We couldn't complete your search because it requests "
        f"{requested:,} results which exceeded the search platform limit of "
        f"{context.max_result_window:,}. Try refining your query or contact your Jira "
        f"administrator. Repeating the same search may not work."
    )
    referral = f"Please contact your admin passing attached Log's referral number: {uuid.uuid4()}"
    return json_reply({"message": message, "stack-trace": referral}, 500)


def _add_names(body: dict[str, Any], expand: str, selection: FieldSelection) -> None:
    if "names" in {part.strip() for part in expand.split(",")}:
        body["names"] = {
            name: _FIELD_NAMES[name] for name in sorted(selection.fields) if name in _FIELD_NAMES
        }


def _read_params() -> SearchParams:
    if request.method == "POST":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise fail(400, "The request body must be a JSON object.")
        raw_fields = body.get("fields")
        fields = [raw_fields] if isinstance(raw_fields, str) else raw_fields
        return SearchParams(
            jql=str(body.get("jql") or ""),
            fields=[str(name) for name in fields] if fields else None,
            max_results=_int_param("maxResults", body.get("maxResults")),
            start_at=_int_param("startAt", body.get("startAt")) or 0,
            next_page_token=body.get("nextPageToken") or None,
            validate_query=str(body.get("validateQuery", "strict")),
            expand=_expand_text(body.get("expand")),
            reconcile_issues=list(body.get("reconcileIssues") or []),
        )
    args = request.args
    return SearchParams(
        jql=args.get("jql", ""),
        fields=args.getlist("fields") or None,
        max_results=_int_param("maxResults", args.get("maxResults")),
        start_at=_int_param("startAt", args.get("startAt")) or 0,
        next_page_token=args.get("nextPageToken") or None,
        validate_query=args.get("validateQuery", "strict"),
        expand=args.get("expand", ""),
        reconcile_issues=args.getlist("reconcileIssues"),
    )


def _expand_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(part) for part in value)
    return str(value or "")


def _int_param(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise fail(400, f"The value '{value}' is not a valid number for '{name}'.") from error
    if number < 0:
        raise fail(400, f"The value of '{name}' must not be negative.")
    return number
