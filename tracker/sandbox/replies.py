"""Jira-shaped HTTP replies of the sandbox: JSON bodies, error collections and faults."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Response, request

from tracker.sandbox.faults import Fault

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])


class ApiError(Exception):
    """Raised by a view to answer with a ready-made error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def kind(name: str) -> Callable[[ViewFunction], ViewFunction]:
    """Tag a view with the request kind it is counted under in the stats."""

    def decorate(view: ViewFunction) -> ViewFunction:
        view.sandbox_kind = name  # type: ignore[attr-defined]
        return view

    return decorate


def json_reply(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Return a JSON response (Jira sends application/json on successes and errors alike)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def no_content() -> Response:
    """Return 204 No Content."""
    return Response(status=204)


def jira_error(
    status: int,
    messages: Sequence[str] = (),
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return Jira's ErrorCollection: {"errorMessages": [...], "errors": {...}}."""
    return json_reply(
        {"errorMessages": list(messages), "errors": dict(errors or {})}, status, headers
    )


def fail(status: int, *messages: str, errors: Mapping[str, str] | None = None) -> ApiError:
    """Build an ApiError carrying a Jira error collection, for `raise fail(...)`."""
    return ApiError(jira_error(status, messages, errors))


def jersey_not_found() -> Response:
    """Return the 404 a Jira REST servlet gives for a path it has no resource for."""
    return json_reply({"message": f"null for uri: {request.url}", "status-code": 404}, 404)


def fault_reply(fault: Fault, now: datetime) -> Response:
    """Return the response of an injected fault, with Jira's rate-limit headers on 429."""
    status = fault.status or 500
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if status == 429:
        reset = now + timedelta(seconds=fault.retry_after or 60)
        headers.update(
            {
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-NearLimit": "true",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                "RateLimit-Reason": fault.reason,
            }
        )
        message = fault.message or "Rate limit exceeded."
    else:
        message = fault.message or _phrase(status)
    return jira_error(status, [message], headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
