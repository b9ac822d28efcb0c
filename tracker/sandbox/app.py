"""The sandbox's WSGI app: Jira REST routes plus auth, fault injection and request counting."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from tracker.sandbox import admin, api_issues, api_meta, api_search, browse
from tracker.sandbox.context import EXTENSION_KEY, SandboxAuth, SandboxContext, sandbox_context
from tracker.sandbox.jql import JqlError
from tracker.sandbox.replies import ApiError, fault_reply, jersey_not_found, jira_error, json_reply
from tracker.sandbox.representation import CLOUD, DATACENTER, Renderer
from tracker.sandbox.search import SearchEngine
from tracker.sandbox.state import InvalidChangeError, NotFoundError, SandboxState
from tracker.sandbox.webhooks import WebhookConfig, WebhookDispatcher

__all__ = ["SandboxAuth", "create_sandbox_app", "sandbox_context"]

log = logging.getLogger(__name__)

UNAUTHORIZED_MESSAGE = (
    "You are not authenticated. Authentication required to perform this operation."
)


def create_sandbox_app(
    state: SandboxState,
    mode: str = CLOUD,
    auth: SandboxAuth | None = None,
    webhook: WebhookConfig | None = None,
    *,
    base_url: str | None = None,
    max_results_cap: int = 100,
    max_result_window: int = 10_000,
    deployment_type: str | None = None,
) -> Flask:
    """Build the Jira stand-in as a Flask (WSGI) app over `state`.

    `mode` is "cloud" (enhanced search, /search answers 410) or "datacenter" (offset
    search, /search/jql answers 404). `deployment_type` overrides what serverInfo reports
    ("Cloud" / "Server" by default). With `webhook`, issue changes are POSTed there.
    """
    if mode not in (CLOUD, DATACENTER):
        raise ValueError(f"mode must be '{CLOUD}' or '{DATACENTER}', not {mode!r}")
    app = Flask("tracker.sandbox")
    context = SandboxContext(
        state=state,
        mode=mode,
        auth=auth,
        search=SearchEngine(state),
        deployment_type=deployment_type or ("Cloud" if mode == CLOUD else "Server"),
        max_results_cap=max_results_cap,
        max_result_window=max_result_window,
        base_url=base_url.rstrip("/") if base_url else None,
    )
    app.extensions[EXTENSION_KEY] = context
    if webhook is not None:
        context.webhooks = WebhookDispatcher(
            webhook, state, lambda: Renderer(state, context.base_url or "http://127.0.0.1", mode)
        )
        context.webhooks.start()

    app.register_blueprint(api_meta.blueprint)
    app.register_blueprint(api_meta.applinks_blueprint)
    app.register_blueprint(api_search.blueprint)
    app.register_blueprint(api_issues.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(browse.blueprint)
    app.before_request(_pipeline)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(NotFoundError, _not_found)
    app.register_error_handler(InvalidChangeError, _invalid_change)
    app.register_error_handler(JqlError, _bad_query)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _pipeline() -> Response | None:
    """Count the request, apply faults, then check credentials."""
    if not request.path.startswith("/rest/"):
        return None
    context = sandbox_context()
    state = context.state
    view = current_app.view_functions.get(request.endpoint or "")
    request_kind = getattr(view, "sandbox_kind", "other")
    state.requests.record(
        request.method, request.path, request.query_string.decode("latin-1"), request_kind
    )
    for fault in state.faults.take(request.method, request.path):
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.status is not None:
            state.requests.record_fault()
            return fault_reply(fault, state.now())
    return _authenticate(context, request_kind)


def _authenticate(context: SandboxContext, request_kind: str) -> Response | None:
    if context.auth is None:
        return None
    header = request.headers.get("Authorization", "")
    if not header and request_kind == "server_info":
        return None  # Jira answers serverInfo anonymously
    if header and context.auth.accepts(header):
        return None
    return jira_error(
        401, [UNAUTHORIZED_MESSAGE], headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
    )


def _api_error(error: ApiError) -> Response:
    return error.response


def _not_found(error: NotFoundError) -> Response:
    return jira_error(404, [str(error)])


def _invalid_change(error: InvalidChangeError) -> Response:
    return jira_error(400, [], error.errors)


def _bad_query(error: JqlError) -> Response:
    return jira_error(400, [str(error)])


def _http_error(error: HTTPException) -> Response:
    if request.path.startswith("/rest/") and error.code == 404:
        return jersey_not_found()
    if request.path.startswith("/rest/"):
        return jira_error(error.code or 500, [error.description or error.name])
    return json_reply({"error": error.description or error.name}, error.code or 500)


def _unexpected(error: Exception) -> Response:
    log.exception("sandbox request failed: %s %s", request.method, request.path)
    return jira_error(500, ["Internal server error"])
