"""Sandbox admin routes under /_sandbox/: stats, faults and simulated Jira activity.

These are not Jira APIs: they need no credentials, are never faulted and are not counted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from tracker.sandbox.context import sandbox_context
from tracker.sandbox.faults import Fault
from tracker.sandbox.replies import ApiError, json_reply, no_content
from tracker.sandbox.representation import jira_datetime
from tracker.sandbox.seed import seed_demo, seed_generated
from tracker.sandbox.state import Issue

blueprint = Blueprint("sandbox_admin", __name__, url_prefix="/_sandbox")


@blueprint.get("/stats")
def stats() -> Response:
    """Answer request counters by kind, plus total and faults_injected."""
    return json_reply(sandbox_context().state.stats())


@blueprint.post("/reset-stats")
def reset_stats() -> Response:
    """Zero the counters and forget the request log."""
    sandbox_context().state.reset_stats()
    return no_content()


@blueprint.get("/requests")
def requests_log() -> Response:
    """Answer the most recent requests (?limit=N, default 100)."""
    limit = _int(request.args.get("limit"), 100)
    records = sandbox_context().state.requests.records(limit)
    return json_reply([record.to_json() for record in records])


@blueprint.get("/faults")
def list_faults() -> Response:
    """Answer the active faults."""
    return json_reply([fault.to_json() for fault in sandbox_context().state.faults.active()])


@blueprint.post("/faults")
def add_fault() -> Response:
    """Activate a fault, e.g. {"status": 429, "retry_after": 1, "times": 2}."""
    try:
        fault = Fault.from_json(_body())
    except ValueError as error:
        raise _bad(str(error)) from error
    sandbox_context().state.faults.add(fault)
    return json_reply(fault.to_json(), 201)


@blueprint.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    sandbox_context().state.faults.clear()
    return no_content()


@blueprint.post("/issues")
def create_issue() -> Response:
    """Create an issue as if someone did in Jira (fires a webhook)."""
    body = _body()
    issue = sandbox_context().state.add_issue(
        str(body.get("project", "")),
        str(body.get("summary", "")),
        issuetype=str(body.get("issuetype", "Epic")),
        status=str(body.get("status", "new")),
        labels=list(body.get("labels") or []),
        fix_versions=list(body.get("fix_versions") or []),
        description=body.get("description"),
        assignee=body.get("assignee"),
        parent_key=body.get("parent"),
    )
    return json_reply(_summary(issue), 201)


@blueprint.post("/issues/<key>/status")
def set_status(key: str) -> Response:
    """Move an issue to a status category: {"category": "new|indeterminate|done"}."""
    body = _body()
    category = body.get("category") or body.get("status")
    if not category:
        raise _bad("give a 'category': new, indeterminate or done")
    return json_reply(_summary(sandbox_context().state.set_status(key, str(category))))


@blueprint.post("/issues/<key>/labels")
def set_labels(key: str) -> Response:
    """Replace labels ({"labels": [...]}) or add/remove some ({"add": [...], "remove": [...]})."""
    body = _body()
    state = sandbox_context().state
    if "labels" in body:
        issue = state.set_labels(key, list(body["labels"] or []))
    else:
        issue = state.update_labels(
            key, add=list(body.get("add") or []), remove=list(body.get("remove") or [])
        )
    return json_reply(_summary(issue))


@blueprint.post("/issues/<key>/move")
def move_issue(key: str) -> Response:
    """Move an issue to another project: {"project": "APP"}; answers old and new key."""
    body = _body()
    state = sandbox_context().state
    old_key = state.require_issue(key).key
    issue = state.move_issue(key, str(body.get("project", "")))
    return json_reply({**_summary(issue), "old_key": old_key})


@blueprint.post("/issues/<key>/touch")
def touch_issue(key: str) -> Response:
    """Bump an issue's `updated` to now."""
    return json_reply(_summary(sandbox_context().state.touch(key)))


@blueprint.delete("/issues/<key>")
def delete_issue(key: str) -> Response:
    """Delete an issue (fires jira:issue_deleted)."""
    sandbox_context().state.delete_issue(key)
    return no_content()


@blueprint.get("/forbidden-projects")
def forbidden_projects() -> Response:
    """Answer the projects whose writes answer 403."""
    return json_reply(sorted(sandbox_context().state.forbidden_projects))


@blueprint.post("/forbidden-projects")
def set_forbidden_projects() -> Response:
    """Replace the projects whose writes answer 403: {"projects": ["WEB"]}."""
    state = sandbox_context().state
    projects = [str(key).upper() for key in _body().get("projects") or []]
    with state.lock:
        state.forbidden_projects.clear()
        state.forbidden_projects.update(projects)
    return json_reply(sorted(state.forbidden_projects))


@blueprint.post("/reset")
def reset() -> Response:
    """Drop all data and reseed: {"seed": "demo"}, {"seed": 500} or {"seed": null}."""
    seed = _body().get("seed", "demo")
    state = sandbox_context().state
    with state.lock:
        state.clear()
        state.faults.clear()
        state.reset_stats()
        if seed == "demo":
            seed_demo(state)
        elif seed not in (None, "", "none"):
            seed_generated(state, _int(seed, 0))
        return json_reply({"issues": state.issue_count()})


@blueprint.get("/webhooks")
def webhook_deliveries() -> Response:
    """Answer webhook delivery outcomes (empty when no webhook is configured)."""
    dispatcher = sandbox_context().webhooks
    deliveries = dispatcher.deliveries() if dispatcher else []
    return json_reply([delivery.__dict__ | {"ok": delivery.ok} for delivery in deliveries])


def _summary(issue: Issue) -> dict[str, Any]:
    return {
        "id": str(issue.id),
        "key": issue.key,
        "status": issue.status.name,
        "statusCategory": issue.status_category,
        "labels": list(issue.labels),
        "updated": jira_datetime(issue.updated),
    }


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise _bad(f"not a whole number: {value!r}") from error


def _bad(message: str) -> ApiError:
    return ApiError(json_reply({"error": message}, 400))
