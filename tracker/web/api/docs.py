"""The API contract served: the OpenAPI document at /api/v1/openapi.json and its page, /api-docs.

Both need the READ permission, like the API itself: a tracker that hides itself from visitors
who are not signed in (the default) hides what it is too; with TRACKER_ANONYMOUS_READ=1 they
are open, and a token with the `read` scope fetches the document for tools such as schemathesis.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template
from pydantic import BaseModel, ConfigDict

from tracker.domain.access import Permission
from tracker.web.api.contract import Reply, openapi_document, operation, reply
from tracker.web.api.docs_page import docs_page
from tracker.web.auth import requires

api_docs = Blueprint("api_docs", __name__)

DOCUMENT_KEY = "tracker.openapi"


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document (its parts as the OpenAPI specification defines them)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@api_docs.get("/api/v1/openapi.json")
@operation(
    "Get this OpenAPI document",
    tag="contract",
    replies={200: Reply("The OpenAPI 3.1 document of /api/v1.", OpenApiDocument)},
)
@requires(Permission.READ)
def openapi() -> Response:
    """Return the OpenAPI 3.1 document of every /api/v1 operation."""
    return reply(OpenApiDocument, document())


@api_docs.get("/api-docs")
@requires(Permission.READ)
def reference() -> str:
    """Show the API reference: every operation, its parameters, answers and their schemas."""
    return render_template("api/docs.html", page=docs_page(document()))


def document() -> dict[str, Any]:
    """Return this app's OpenAPI document, made once (the routes do not change while it runs)."""
    made: dict[str, Any] | None = current_app.extensions.get(DOCUMENT_KEY)
    if made is None:
        made = openapi_document(current_app)
        current_app.extensions[DOCUMENT_KEY] = made
    return made
