"""The web layer: CSRF, blueprints, navigation, error pages and objects, security headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from tracker.domain.status import STATUS_LABELS, STATUS_ORDER
from tracker.errors import ConflictError, NotFoundError, ValidationError
from tracker.web.actor import current_actor
from tracker.web.views import json_response

csrf = CSRFProtect()

#: Serves tracker/web/static (the style sheet) under /assets, clear of other blueprints.
assets = Blueprint("web", __name__, static_folder="static", static_url_path="/assets")

NAV_KEY = "tracker.nav"

# No script at all, styles only from our own style sheet, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    500: "internal_error",
}
ERROR_TITLES = {
    400: "This request cannot be handled",
    403: "Not allowed",
    404: "Not found",
    405: "This action is not available here",
    409: "Not possible right now",
    413: "The upload is too large",
    500: "Something went wrong on our side",
}
ERROR_TEMPLATES = {400: "errors/400.html", 404: "errors/404.html", 413: "errors/413.html"}


@dataclass(frozen=True)
class NavItem:
    """One entry of the header navigation."""

    label: str
    endpoint: str


def add_nav_item(app: Flask, label: str, endpoint: str) -> None:
    """Add an entry to the header navigation (later blueprints call this from init_app)."""
    items: list[NavItem] = app.extensions.setdefault(NAV_KEY, [])
    if all(item.endpoint != endpoint for item in items):
        items.append(NavItem(label, endpoint))


def init_app(app: Flask) -> None:
    """Wire CSRF protection, the blueprints, navigation, error handling and headers."""
    from tracker.web.api import api
    from tracker.web.dashboard import dashboard
    from tracker.web.evidence import init_app as init_evidence
    from tracker.web.jira import jira
    from tracker.web.matrix import matrix
    from tracker.web.obligations import obligations
    from tracker.web.webhooks import webhooks

    csrf.init_app(app)
    # Read-only JSON for scripts; a later write route there must authenticate with a token.
    csrf.exempt(api)
    # Jira signs its deliveries with a shared secret (HMAC), which the view verifies.
    csrf.exempt(webhooks)
    for blueprint in (assets, dashboard, matrix, obligations, api, jira, webhooks):
        app.register_blueprint(blueprint)
    add_nav_item(app, "Dashboard", "dashboard.index")
    add_nav_item(app, "Matrix", "matrix.index")
    init_evidence(app)  # evidence pages, "Test evidence" nav item, token-authenticated upload API
    add_nav_item(app, "Jira", "jira.index")

    app.context_processor(_template_globals)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(NotFoundError, _tracker_error(404))
    app.register_error_handler(ValidationError, _tracker_error(400))
    app.register_error_handler(ConflictError, _tracker_error(409))


def _template_globals() -> dict[str, Any]:
    from flask import current_app

    items: list[NavItem] = current_app.extensions.get(NAV_KEY, [])
    current_blueprint = request.blueprint or ""
    nav = [
        {
            "label": item.label,
            "href": url_for(item.endpoint),
            "active": item.endpoint.partition(".")[0] == current_blueprint,
        }
        for item in items
    ]
    return {
        "nav_items": nav,
        "actor": current_actor(),
        "status_labels": {status.value: label for status, label in STATUS_LABELS.items()},
        "status_order": [status.value for status in STATUS_ORDER],
    }


def _security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if isinstance(error, CSRFError):
        message = (
            "The form was missing its security token or it had expired, so nothing was saved. "
            "Reload the page and submit the form again."
        )
    elif code == 413:
        limit = request.max_content_length
        size = f" ({limit // (1024 * 1024)} MB)" if limit and limit >= 1024 * 1024 else ""
        message = f"The request is larger than the limit{size}. Send a smaller file or less text."
    elif code == 405:
        message = f"{request.method} is not allowed on {request.path}."
    elif code >= 500:
        message = "The error was logged. Try again; if it persists, tell the tracker's maintainers."
    else:
        message = error.description or ERROR_TITLES.get(code, "Error")
    return _error_response(code, message)


def _tracker_error(code: int) -> Any:
    def handler(error: Exception) -> ResponseReturnValue:
        return _error_response(code, str(error))

    return handler


def _error_response(code: int, message: str) -> ResponseReturnValue:
    if _wants_json():
        error_code = ERROR_CODES.get(code, "internal_error" if code >= 500 else "bad_request")
        body = {"error": {"status": code, "code": error_code, "message": message}}
        return json_response(body, status=code)
    template = ERROR_TEMPLATES.get(code, "errors/500.html" if code >= 500 else "errors/400.html")
    title = ERROR_TITLES.get(code, "Error")
    return render_template(template, code=code, title=title, message=message), code
