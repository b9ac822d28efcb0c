"""Sandbox issue routes: get/create/edit/delete, transitions, comments and remote links."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from tracker.sandbox.context import SandboxContext, api_blueprint, sandbox_context
from tracker.sandbox.replies import fail, json_reply, kind, no_content
from tracker.sandbox.representation import FIELD_DEFINITIONS, FieldSelection
from tracker.sandbox.state import ISSUE_TYPES, STATUSES, InvalidChangeError, Issue, SandboxState

blueprint = api_blueprint("sandbox_issues")

FORBIDDEN_MESSAGE = "You do not have permission to edit issues in this project."
UNSETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
# Known Jira fields the sandbox does not model: accepted on writes and ignored.
_IGNORED_FIELDS = frozenset(
    {"priority", "reporter", "components", "environment", "duedate"}
    | {entry["id"] for entry in FIELD_DEFINITIONS if entry["custom"]}
)
TRANSITIONS = {"11": "new", "21": "indeterminate", "31": "done"}


@blueprint.get("/issue/<key>")
@kind("issue_get")
def get_issue(key: str) -> Response:
    """Answer an issue; `fields` (repeated or comma list) defaults to *all."""
    context = sandbox_context()
    selection = FieldSelection.parse(request.args.getlist("fields"), default="*all")
    with context.state.lock:
        issue = context.state.require_issue(key)
        return json_reply(context.renderer().issue(issue, selection))


@blueprint.put("/issue/<key>")
@kind("issue_update")
def edit_issue(key: str) -> Response:
    """Edit fields and apply `update` verbs (add/remove/set); 204, or the issue on returnIssue."""
    context = sandbox_context()
    body = _json_body()
    state = context.state
    with state.lock:
        issue = state.require_issue(key)
        _require_writable(context, issue.project_key)
        changes, comments = _edit_changes(body, issue, state)
        if changes:
            state.edit_issue(issue.key, changes)
        for text in comments:
            state.add_comment(issue.key, text)
        if context.is_cloud and request.args.get("returnIssue", "").lower() == "true":
            return json_reply(context.renderer().issue(issue, FieldSelection.parse(None, "*all")))
    return no_content()


@blueprint.delete("/issue/<key>")
@kind("issue_delete")
def delete_issue(key: str) -> Response:
    """Delete an issue."""
    context = sandbox_context()
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key)
        context.state.delete_issue(issue.key)
    return no_content()


@blueprint.post("/issue")
@kind("issue_create")
def create_issue() -> Response:
    """Create an issue from `fields`; 201 with {id, key, self}."""
    context = sandbox_context()
    body = _json_body()
    fields = body.get("fields")
    if not isinstance(fields, dict):
        raise fail(400, "The request must have a 'fields' object.")
    if body.get("update"):
        raise fail(400, "The sandbox does not support 'update' on create; use 'fields'.")
    state = context.state
    with state.lock:
        errors: dict[str, str] = {}
        project = _lookup(fields.get("project"), ("key", "id"), state.project)
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        type_name = _issue_type_name(fields.get("issuetype"))
        if fields.get("issuetype") is None:
            errors["issuetype"] = "Specify an issue type"
        elif type_name is None:
            errors["issuetype"] = "Specify a valid issue type"
        if not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        for name in fields:
            if name not in _CREATABLE and name not in _IGNORED_FIELDS:
                errors[name] = UNSETTABLE.format(name)
        if errors or project is None or type_name is None:
            raise InvalidChangeError(errors)
        _require_writable(context, project.key)
        issue = state.add_issue(
            project.key,
            str(fields["summary"]),
            issuetype=type_name,
            description=fields.get("description"),
            labels=_string_list(fields.get("labels") or [], "labels"),
            fix_versions=_version_refs(fields.get("fixVersions") or []),
            assignee=_user_ref(fields.get("assignee")),
            parent_key=_issue_ref(fields.get("parent")),
        )
        return json_reply(context.renderer().issue_ref(issue), 201)


_CREATABLE = frozenset(
    {
        "project",
        "issuetype",
        "summary",
        "description",
        "labels",
        "fixVersions",
        "assignee",
        "parent",
    }
)


@blueprint.get("/issue/<key>/transitions")
@kind("transition_get")
def transitions(key: str) -> Response:
    """Answer the workflow's transitions (one per status, all global)."""
    context = sandbox_context()
    context.state.require_issue(key)
    renderer = context.renderer()
    items = [
        {
            "id": transition_id,
            "name": STATUSES[category].name,
            "to": renderer.status(STATUSES[category]),
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        for transition_id, category in TRANSITIONS.items()
    ]
    return json_reply({"expand": "transitions", "transitions": items})


@blueprint.post("/issue/<key>/transitions")
@kind("transition_post")
def do_transition(key: str) -> Response:
    """Move an issue through a transition id; `fields`/`update` are applied too."""
    context = sandbox_context()
    body = _json_body()
    transition = body.get("transition") or {}
    transition_id = str(transition.get("id", "")) if isinstance(transition, dict) else ""
    state = context.state
    with state.lock:
        issue = state.require_issue(key)
        _require_writable(context, issue.project_key)
        if transition_id not in TRANSITIONS:
            raise fail(400, f"Transition id '{transition_id}' is not valid for this issue.")
        changes, comments = _edit_changes(body, issue, state)
        state.set_status(issue.key, TRANSITIONS[transition_id])
        if changes:
            state.edit_issue(issue.key, changes)
        for text in comments:
            state.add_comment(issue.key, text)
    return no_content()


@blueprint.get("/issue/<key>/comment")
@kind("comment_get")
def list_comments(key: str) -> Response:
    """Answer a page of comments."""
    context = sandbox_context()
    start_at = _int_arg("startAt", 0)
    max_results = min(_int_arg("maxResults", 5000), 5000)
    order = request.args.get("orderBy", "created")
    if order not in ("created", "+created", "-created"):
        raise fail(400, f"Invalid orderBy value '{order}'.")
    with context.state.lock:
        issue = context.state.require_issue(key)
        page = context.renderer().comment_page(issue, 0, len(issue.comments))
        if order == "-created":
            page["comments"].reverse()
        page["comments"] = page["comments"][start_at : start_at + max_results]
        page["startAt"], page["maxResults"] = start_at, max_results
        return json_reply(page)


@blueprint.get("/issue/<key>/comment/<comment_id>")
@kind("comment_get")
def get_comment(key: str, comment_id: str) -> Response:
    """Answer one comment."""
    context = sandbox_context()
    with context.state.lock:
        issue = context.state.require_issue(key)
        for comment in issue.comments:
            if str(comment.id) == comment_id:
                return json_reply(context.renderer().comment(issue, comment))
    raise fail(404, f"Can not find a comment for the id: {comment_id}.")


@blueprint.post("/issue/<key>/comment")
@kind("comment_post")
def add_comment(key: str) -> Response:
    """Add a comment; 201 with the comment."""
    context = sandbox_context()
    body = _json_body()
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key)
        comment = context.state.add_comment(issue.key, str(body.get("body") or ""))
        return json_reply(context.renderer().comment(issue, comment), 201)


@blueprint.get("/issue/<key>/remotelink")
@kind("remotelink_get")
def list_remote_links(key: str) -> Response:
    """Answer all remote links, or the single link with ?globalId=."""
    context = sandbox_context()
    global_id = request.args.get("globalId")
    with context.state.lock:
        issue = context.state.require_issue(key)
        renderer = context.renderer()
        if global_id is not None:
            for link in issue.remote_links:
                if link.global_id == global_id:
                    return json_reply(renderer.remote_link(issue, link))
            raise fail(404, f"No remote link with globalId '{global_id}' found on {issue.key}.")
        return json_reply([renderer.remote_link(issue, link) for link in issue.remote_links])


@blueprint.post("/issue/<key>/remotelink")
@kind("remotelink_post")
def upsert_remote_link(key: str) -> Response:
    """Create (201) or, for a known globalId, replace (200) a remote link."""
    context = sandbox_context()
    body = _json_body()
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key, "link issues")
        link, created = context.state.upsert_remote_link(issue.key, body)
        url = context.renderer().remote_link_url(issue, link)
        return json_reply({"id": link.id, "self": url}, 201 if created else 200)


@blueprint.delete("/issue/<key>/remotelink")
@kind("remotelink_delete")
def delete_remote_link_by_global_id(key: str) -> Response:
    """Delete the link with ?globalId=."""
    context = sandbox_context()
    global_id = request.args.get("globalId")
    if not global_id:
        raise fail(400, "A globalId is required to delete remote links this way.")
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key, "link issues")
        context.state.delete_remote_link(issue.key, global_id=global_id)
    return no_content()


@blueprint.get("/issue/<key>/remotelink/<int:link_id>")
@kind("remotelink_get")
def get_remote_link(key: str, link_id: int) -> Response:
    """Answer one remote link by id."""
    context = sandbox_context()
    with context.state.lock:
        issue = context.state.require_issue(key)
        link = context.state.remote_link(issue.key, link_id)
        return json_reply(context.renderer().remote_link(issue, link))


@blueprint.put("/issue/<key>/remotelink/<int:link_id>")
@kind("remotelink_put")
def replace_remote_link(key: str, link_id: int) -> Response:
    """Replace a remote link by id; omitted fields are cleared."""
    context = sandbox_context()
    body = _json_body()
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key, "link issues")
        context.state.replace_remote_link(issue.key, link_id, body)
    return no_content()


@blueprint.delete("/issue/<key>/remotelink/<int:link_id>")
@kind("remotelink_delete")
def delete_remote_link(key: str, link_id: int) -> Response:
    """Delete a remote link by id."""
    context = sandbox_context()
    with context.state.lock:
        issue = context.state.require_issue(key)
        _require_writable(context, issue.project_key, "link issues")
        context.state.delete_remote_link(issue.key, link_id=link_id)
    return no_content()


# ----- helpers --------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise fail(400, "The request body must be a JSON object.")
    return body


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return max(0, int(value))
    except ValueError as error:
        raise fail(400, f"The value '{value}' is not a valid number for '{name}'.") from error


def _require_writable(
    context: SandboxContext, project_key: str, action: str = "edit issues"
) -> None:
    if project_key in context.state.forbidden_projects:
        message = (
            FORBIDDEN_MESSAGE
            if action == "edit issues"
            else (f"You do not have permission to {action} in this project.")
        )
        raise fail(403, message)


def _lookup(value: Any, keys: tuple[str, ...], finder: Any) -> Any:
    if isinstance(value, dict):
        for name in keys:
            if value.get(name) not in (None, ""):
                return finder(str(value[name]))
    if isinstance(value, str | int) and value != "":
        return finder(str(value))
    return None


def _issue_type_name(value: Any) -> str | None:
    reference = value
    if isinstance(value, dict):
        reference = value.get("name") or value.get("id")
    for name, (type_id, _) in ISSUE_TYPES.items():
        if reference in (name, type_id):
            return name
    return None


def _string_list(value: Any, field_name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidChangeError({field_name: f"Field '{field_name}' must be a list of strings."})
    return value


def _version_refs(value: Any) -> list[int | str]:
    if not isinstance(value, list):
        raise InvalidChangeError({"fixVersions": "Field 'fixVersions' must be a list."})
    return [_version_ref(item) for item in value]


def _version_ref(item: Any) -> int | str:
    if isinstance(item, dict) and (item.get("id") or item.get("name")):
        return str(item.get("id") or item.get("name"))
    raise InvalidChangeError({"fixVersions": "A version needs an 'id' or a 'name'."})


def _user_ref(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        for name in ("accountId", "name", "key", "emailAddress"):
            if value.get(name):
                return str(value[name])
        return None
    return str(value)


def _issue_ref(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("none"):
            return None
        reference = value.get("key") or value.get("id")
        return str(reference) if reference else None
    return str(value)


def _edit_changes(
    body: dict[str, Any], issue: Issue, state: SandboxState
) -> tuple[dict[str, Any], list[str]]:
    """Translate a PUT body into state changes plus comments to add."""
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise fail(400, "'fields' and 'update' must be JSON objects.")
    errors = {
        name: f"Field '{name}' cannot appear in both 'fields' and 'update'."
        for name in set(fields) & set(update)
    }
    for name in list(fields) + list(update):
        if name not in _EDITABLE and name not in _IGNORED_FIELDS:
            errors[name] = UNSETTABLE.format(name)
    if errors:
        raise InvalidChangeError(errors)
    changes: dict[str, Any] = {}
    comments: list[str] = []
    for name, value in fields.items():
        _set_field(changes, name, value)
    for name, operations in update.items():
        if not isinstance(operations, list):
            raise InvalidChangeError({name: "Update operations must be a list."})
        for operation in operations:
            _apply_operation(changes, comments, issue, state, name, operation)
    return changes, comments


_EDITABLE = frozenset(
    {"summary", "description", "labels", "fixVersions", "assignee", "parent", "comment"}
)


def _set_field(changes: dict[str, Any], name: str, value: Any) -> None:
    if name in ("summary", "description"):
        changes[name] = value
    elif name == "labels":
        changes["labels"] = _string_list(value if value is not None else [], "labels")
    elif name == "fixVersions":
        changes["fix_versions"] = _version_refs(value if value is not None else [])
    elif name == "assignee":
        changes["assignee"] = _user_ref(value)
    elif name == "parent":
        changes["parent_key"] = _issue_ref(value)
    elif name == "comment":
        raise InvalidChangeError({"comment": "Add comments with the 'update' verb 'add'."})


def _apply_operation(
    changes: dict[str, Any],
    comments: list[str],
    issue: Issue,
    state: SandboxState,
    name: str,
    operation: Any,
) -> None:
    if not isinstance(operation, dict) or len(operation) != 1:
        raise InvalidChangeError({name: "Each operation must be one of {add|remove|set: value}."})
    verb, value = next(iter(operation.items()))
    if name == "comment":
        if verb != "add" or not isinstance(value, dict):
            raise InvalidChangeError({"comment": "Only {'add': {'body': ...}} is supported."})
        comments.append(str(value.get("body") or ""))
        return
    if verb == "set" or name not in ("labels", "fixVersions"):
        if verb != "set":
            raise InvalidChangeError({name: f"Operation '{verb}' is not supported for '{name}'."})
        _set_field(changes, name, value)
        return
    if name == "labels":
        labels = list(changes.get("labels", issue.labels))
        if not isinstance(value, str):
            raise InvalidChangeError({"labels": "Label operations take a string."})
        if verb == "add" and value not in labels:
            labels.append(value)
        elif verb == "remove":
            labels = [label for label in labels if label != value]
        elif verb not in ("add", "remove"):
            raise InvalidChangeError({"labels": f"Operation '{verb}' is not supported."})
        changes["labels"] = labels
        return
    project = state.require_project(issue.project_key)
    current = [
        str(state.resolve_version(project, ref).id)
        for ref in changes.get("fix_versions", issue.fix_version_ids)
    ]
    version_id = str(state.resolve_version(project, _version_ref(value)).id)
    if verb == "add" and version_id not in current:
        current.append(version_id)
    elif verb == "remove":
        current = [ref for ref in current if ref != version_id]
    elif verb not in ("add", "remove"):
        raise InvalidChangeError({"fixVersions": f"Operation '{verb}' is not supported."})
    changes["fix_versions"] = current
