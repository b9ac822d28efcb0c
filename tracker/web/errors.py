"""Error pages and JSON error bodies: HTTP errors and the tracker's own errors, by status.

A JSON endpoint (the API, webhooks, JSON downloads) answers every error as JSON
`{"error": {"status", "code", "message"}}`, an unexpected exception included (500, logged by
Flask with its traceback; the answer carries neither traceback nor detail). Pages answer HTML.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from tracker.services.gate_policy import PolicyError
from tracker.web.api.schemas import error_body
from tracker.web.auth import Unauthorized
from tracker.web.responses import json_response

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
ERROR_TITLES = {
    400: "This request cannot be handled",
    403: "Not allowed",
    404: "Not found",
    405: "This action is not available here",
    409: "Not possible right now",
    413: "The upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "The service is not set up right",
}
ERROR_TEMPLATES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
}


def init_app(app: Flask) -> None:
    """Answer HTTP errors and NotFound/Validation/Conflict errors with a page or JSON."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(NotFoundError, _tracker_error(404))
    app.register_error_handler(ValidationError, _tracker_error(400))
    app.register_error_handler(ConflictError, _tracker_error(409))
    app.register_error_handler(ForbiddenError, _tracker_error(403))
    # A configured gate policy that cannot be used: the operator's to fix, said as it is.
    app.register_error_handler(PolicyError, _tracker_error(503))
    app.register_error_handler(Unauthorized, _unauthorized)


def _unauthorized(error: Unauthorized) -> ResponseReturnValue:
    if not _wants_json():
        return redirect(url_for("accounts.login"))
    response = json_response(error_body(401, "unauthorized", error.message), status=401)
    invalid = ', error="invalid_token"' if error.invalid else ""
    response.headers["WWW-Authenticate"] = f'Bearer realm="tracker"{invalid}'
    return response


#: Where the JSON endpoints are: what they answer errors with is JSON too.
JSON_PREFIXES = ("/api/", "/webhooks/")
JSON_SUFFIXES = (".json", ".jsonl")


def _wants_json() -> bool:
    path = request.path
    return path == "/api" or path.startswith(JSON_PREFIXES) or path.endswith(JSON_SUFFIXES)


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
    elif code == 429:
        message = (
            "Too many failed sign-in attempts from here or for this e-mail. Wait a few minutes, "
            "then try again; an admin can reset the password."
        )
    elif code == 405:
        message = f"{request.method} is not allowed on {request.path}."
    elif code >= 500:
        message = "The error was logged. Try again; if it persists, tell the tracker's maintainers."
    elif code == 404 and (error.description or "").startswith("The requested URL was not found"):
        message = "There is no page at this address."
    else:
        message = error.description or ERROR_TITLES.get(code, "Error")
    return _error_response(code, message)


def _tracker_error(code: int) -> Any:
    def handler(error: Exception) -> ResponseReturnValue:
        return _error_response(code, str(error), getattr(error, "field", None))

    return handler


def _error_response(code: int, message: str, field: str | None = None) -> ResponseReturnValue:
    if _wants_json():
        error_code = ERROR_CODES.get(code, "internal_error" if code >= 500 else "bad_request")
        extra = {"field": field} if field else {}
        return json_response(error_body(code, error_code, message, **extra), status=code)
    template = ERROR_TEMPLATES.get(code, "errors/500.html" if code >= 500 else "errors/400.html")
    title = ERROR_TITLES.get(code, "Error")
    return render_template(template, code=code, title=title, message=message), code
