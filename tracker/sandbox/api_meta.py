"""Sandbox metadata routes: serverInfo, myself, field, projects, versions, types, statuses."""

from __future__ import annotations

from flask import Blueprint, Response

from tracker.sandbox.context import api_blueprint, sandbox_context
from tracker.sandbox.replies import fail, json_reply, kind
from tracker.sandbox.representation import FIELD_DEFINITIONS
from tracker.sandbox.state import STATUSES

blueprint = api_blueprint("sandbox_meta")
applinks_blueprint = Blueprint("sandbox_applinks", __name__, url_prefix="/rest/applinks")


@blueprint.get("/serverInfo")
@kind("server_info")
def server_info() -> Response:
    """Answer serverInfo; deploymentType is what pycontribs uses to detect Cloud."""
    context = sandbox_context()
    return json_reply(context.renderer().server_info(context.deployment_type))


@blueprint.get("/myself")
@kind("myself")
def myself() -> Response:
    """Answer the authenticated user."""
    context = sandbox_context()
    email = context.auth.email if context.auth else None
    return json_reply(context.renderer().myself(email))


@blueprint.get("/field")
@kind("field")
def fields() -> Response:
    """Answer the field list with clauseNames and custom-field schemas."""
    return json_reply(FIELD_DEFINITIONS)


@blueprint.get("/project")
@kind("project_get")
def projects() -> Response:
    """Answer every project."""
    context = sandbox_context()
    renderer = context.renderer()
    with context.state.lock:
        return json_reply([renderer.project(project) for project in context.state.projects()])


@blueprint.get("/project/<key>")
@kind("project_get")
def project(key: str) -> Response:
    """Answer one project by key or id (issueTypes always included)."""
    context = sandbox_context()
    with context.state.lock:
        found = context.state.project(key)
        if found is None:
            raise fail(404, f"No project could be found with key '{key}'.")
        return json_reply(context.renderer().project(found))


@blueprint.get("/project/<key>/versions")
@kind("project_versions")
def project_versions(key: str) -> Response:
    """Answer a project's versions, unpaginated."""
    context = sandbox_context()
    with context.state.lock:
        found = context.state.project(key)
        if found is None:
            raise fail(404, f"No project could be found with key '{key}'.")
        renderer = context.renderer()
        return json_reply([renderer.version(version) for version in found.versions])


@blueprint.get("/version/<version_id>")
@kind("version_get")
def version(version_id: str) -> Response:
    """Answer one version by id."""
    context = sandbox_context()
    found = context.state.version(version_id)
    if found is None:
        raise fail(404, f"Could not find version for id '{version_id}'")
    return json_reply(context.renderer().version(found))


@blueprint.get("/issuetype")
@kind("issuetype")
def issue_types() -> Response:
    """Answer the issue types (Epic, Story, Task)."""
    return json_reply(sandbox_context().renderer().issue_types())


@blueprint.get("/status")
@kind("status")
def statuses() -> Response:
    """Answer the three statuses, one per category."""
    return json_reply(sandbox_context().renderer().statuses())


@blueprint.get("/statuscategory")
@kind("status")
def status_categories() -> Response:
    """Answer the status categories."""
    renderer = sandbox_context().renderer()
    undefined = {
        "self": f"{renderer.api}/statuscategory/1",
        "id": 1,
        "key": "undefined",
        "colorName": "medium-gray",
        "name": "No Category",
    }
    return json_reply([undefined] + [renderer.status_category(s) for s in STATUSES.values()])


@applinks_blueprint.get("/latest/listApplicationlinks")
@kind("applinks")
def application_links() -> Response:
    """Answer an empty application-link list, so add_remote_link stays quiet."""
    return json_reply({"list": []})
