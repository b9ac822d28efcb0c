"""The API contract: each /api/v1 operation declared beside its view, and the OpenAPI 3.1
document generated from those declarations, the routes, their permissions and the models that
check and shape the data (`schemas`, `queries`).

Nothing in the document is written by hand beside the code: paths and path variables come from
the URL rules, security from the declared permission, parameters from the query models, bodies
from the answer models, which every answer passes through (`reply`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TypeVar

from flask import Flask, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tracker.domain.access import Permission, Scope, roles_allowed, scopes_allow
from tracker.domain.bounds import DATABASE_INTEGER_MAX
from tracker.web.api.queries import QueryModel
from tracker.web.api.schemas import ErrorResponse
from tracker.web.auth import route_permission
from tracker.web.inputs import PATH_VALUES
from tracker.web.responses import json_response

View = TypeVar("View", bound=Callable[..., Any])
Model = TypeVar("Model", bound=BaseModel)

API_PREFIX = "/api/v1"
OPERATION_ATTRIBUTE = "tracker_operation"
REF = "#/components/schemas/{model}"
JSON = "application/json"
#: Every operation can answer these: a refused input, no or a bad credential, a credential
#: without the right, and an unexpected failure (logged; the answer says nothing more).
COMMON_ERRORS = (400, 401, 403, 500)
ERROR_MEANINGS = {
    400: "An input was refused: the message says which and what is allowed.",
    401: "No credential, or one that is invalid, expired or revoked.",
    403: "The credential may not do this (role, token scope or token limits).",
    404: "Nothing has this id or key.",
    409: "Not possible right now (another operation holds the lock).",
    413: "The upload is larger than the server accepts (TRACKER_MAX_UPLOAD_BYTES).",
    415: "The body's media type or encoding is not one the operation takes.",
    429: "Too many requests: wait, then try again.",
    500: "Something failed on the server's side; it was logged.",
}


@dataclass(frozen=True)
class Reply:
    """One answer of an operation: its meaning, its JSON model (None: no body), its headers."""

    description: str
    model: type[BaseModel] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PathVariable:
    """A variable of an operation's path: what it names, and an example of one."""

    description: str
    example: str | int | None = None


@dataclass(frozen=True)
class Body:
    """A request body: the schema of each media type it may come as."""

    description: str
    content: Mapping[str, dict[str, Any]]
    required: bool = True


@dataclass(frozen=True)
class Operation:
    """What an API view takes and answers, as the OpenAPI document tells it."""

    summary: str
    tag: str
    replies: Mapping[int, Reply]
    errors: tuple[int, ...] = ()
    query: type[QueryModel] | None = None
    body: Body | None = None
    path: Mapping[str, PathVariable | str] = field(default_factory=dict)
    #: Answers carry an ETag, and 304 to a request whose If-None-Match matches it.
    cached: bool = False

    @property
    def statuses(self) -> list[int]:
        """Return every status the operation may answer, in order."""
        errors = set(COMMON_ERRORS) | set(self.errors) | ({404} if self.path else set())
        return sorted(set(self.replies) | errors | ({304} if self.cached else set()))


def operation(
    summary: str,
    *,
    tag: str,
    replies: Mapping[int, Reply],
    errors: tuple[int, ...] = (),
    query: type[QueryModel] | None = None,
    body: Body | None = None,
    path: Mapping[str, PathVariable | str] | None = None,
    cached: bool = False,
) -> Callable[[View], View]:
    """Declare what an API view takes and answers; its docstring is the long description.

    path describes each variable of the URL rule (a text, or a PathVariable with an example).
    """
    declared = Operation(summary, tag, replies, errors, query, body, dict(path or {}), cached)

    def declare(view: View) -> View:
        setattr(view, OPERATION_ATTRIBUTE, declared)
        return view

    return declare


def declared_operation(app: Flask, endpoint: str) -> Operation | None:
    """Return the operation an endpoint declares, or None."""
    found: Operation | None = getattr(app.view_functions.get(endpoint), OPERATION_ATTRIBUTE, None)
    return found


def reply(
    model: type[Model],
    data: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Answer with the data as the model shapes it (a field the model lacks is an error)."""
    body = model.model_validate(data).model_dump(mode="json")
    return json_response(body, status=status, headers=headers)


def shaped_items(model: type[Model], items: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Return each item as the model shapes it, as JSON (what reply writes for one item)."""
    return [
        json.dumps(model.model_validate(item).model_dump(mode="json"), ensure_ascii=False).encode()
        for item in items
    ]


@dataclass(frozen=True)
class Route:
    """One method of one /api/v1 URL rule, and what its view declares."""

    rule: str
    method: str
    endpoint: str
    operation: Operation | None


def api_routes(app: Flask) -> Iterator[Route]:
    """Yield every method of every /api/v1 rule, documented or not, in URL order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda item: item.rule):
        if rule.rule != API_PREFIX and not rule.rule.startswith(API_PREFIX + "/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield Route(rule.rule, method, rule.endpoint, declared_operation(app, rule.endpoint))


def openapi_document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every declared /api/v1 operation."""
    routes = [route for route in api_routes(app) if route.operation is not None]
    models: set[type[BaseModel]] = {ErrorResponse}
    queries: set[type[QueryModel]] = set()
    for route in routes:
        assert route.operation is not None  # noqa: S101 - filtered above
        models.update(item.model for item in route.operation.replies.values() if item.model)
        if route.operation.query is not None:
            queries.add(route.operation.query)
    ordered = sorted(models, key=lambda model: model.__name__)
    query_list = sorted(queries, key=lambda model: model.__name__)
    keys, definitions = models_json_schema(
        [(model, "serialization") for model in ordered]
        + [(query, "validation") for query in query_list],
        ref_template=REF,
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    query_schemas = {query: schemas.pop(query.__name__) for query in query_list}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        assert route.operation is not None  # noqa: S101 - filtered above
        view = app.view_functions[route.endpoint]
        item = _operation_object(app, route, route.operation, view, query_schemas)
        paths.setdefault(_openapi_path(route.rule), {})[route.method.lower()] = item
    del keys
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Privacy obligations tracker API",
            "version": _version(),
            "description": (
                "Read obligations, their statuses and the traceability matrix; upload JUnit "
                "XML test results. Send an API token as 'Authorization: Bearer <token>' (an "
                "admin creates one with `tracker tokens create`); a signed-in browser session "
                'may read too. Errors are JSON: {"error": {"status", "code", "message"}}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token with the scope the operation names.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": app.config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "A signed-in browser session (reading only).",
                },
            },
        },
    }


# --- private helpers ---------------------------------------------------------------------------

_VARIABLE = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _openapi_path(rule: str) -> str:
    return _VARIABLE.sub(lambda match: "{" + match.group(2) + "}", rule)


def _operation_object(
    app: Flask,
    route: Route,
    declared: Operation,
    view: Callable[..., Any],
    query_schemas: Mapping[type[QueryModel], dict[str, Any]],
) -> dict[str, Any]:
    permission = route_permission(app, route.endpoint) or Permission.PUBLIC
    parameters = _path_parameters(route.rule, declared)
    if declared.query is not None:
        parameters += _query_parameters(query_schemas[declared.query])
    if declared.cached:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of an answer you have: 304 when it still holds.",
                "schema": {"type": "string"},
            }
        )
    item: dict[str, Any] = {
        "operationId": route.endpoint.replace(".", "_"),
        "summary": declared.summary,
        "description": _describe(view, permission),
        "tags": [declared.tag],
        "parameters": parameters,
        "responses": {
            str(status): _response_object(status, declared) for status in declared.statuses
        },
        "security": _security(app, route.method, permission),
    }
    if declared.body is not None:
        item["requestBody"] = {
            "description": declared.body.description,
            "required": declared.body.required,
            "content": {name: {"schema": schema} for name, schema in declared.body.content.items()},
        }
    return item


def _describe(view: Callable[..., Any], permission: Permission) -> str:
    text = " ".join((view.__doc__ or "").split())
    scopes = [scope.value for scope in Scope if scopes_allow(frozenset({scope}), permission)]
    roles = [role.value for role in roles_allowed(permission)]
    who = []
    if scopes:
        who.append("a token with the scope " + " or ".join(f"`{scope}`" for scope in scopes))
    if roles and permission is Permission.READ:
        who.append("a signed-in person of any role")
    return text + (" Needs " + ", or ".join(who) + "." if who else "")


def _security(app: Flask, method: str, permission: Permission) -> list[dict[str, list[str]]]:
    if permission is Permission.PUBLIC:
        return [{}]
    if permission is not Permission.READ or method != "GET":
        return [{"token": []}]  # changes through the API need a token
    options: list[dict[str, list[str]]] = [{"token": []}, {"session": []}]
    if app.config.get("ANONYMOUS_READ"):
        options.append({})
    return options


def _path_parameters(rule: str, declared: Operation) -> list[dict[str, Any]]:
    parameters = []
    for match in _VARIABLE.finditer(rule):
        converter, name = match.group(1) or "default", match.group(2)
        if converter == "int":
            schema: dict[str, Any] = {
                "type": "integer",
                "minimum": 0,
                "maximum": DATABASE_INTEGER_MAX,
            }
        else:
            schema = {"type": "string", "minLength": 1}
            if name in PATH_VALUES:
                schema["maxLength"] = PATH_VALUES[name][2]
            if converter != "path":
                schema["pattern"] = "^[^/]+$"
        variable = declared.path.get(name, "")
        if isinstance(variable, str):
            variable = PathVariable(variable)
        if variable.example is not None:
            schema["examples"] = [variable.example]
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": variable.description,
                "schema": schema,
            }
        )
    return parameters


def _query_parameters(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        value = {key: item for key, item in prop.items() if key not in ("title", "description")}
        options = value.pop("anyOf", None)
        if options is not None:  # "x or null": in a query, leaving it out is the null
            value.update(next(option for option in options if option != {"type": "null"}))
        if value.get("default") is None:
            value.pop("default", None)
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": prop.get("description", ""),
                "schema": value,
            }
        )
    return parameters


def _response_object(status: int, declared: Operation) -> dict[str, Any]:
    if status == 304:
        return {"description": "Not modified: the answer you have (its ETag) still holds."}
    declared_reply = declared.replies.get(status)
    if declared_reply is None:
        answer: dict[str, Any] = {
            "description": ERROR_MEANINGS.get(status, "An error."),
            "content": {JSON: {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
        }
        if status == 401:
            answer["headers"] = {
                "WWW-Authenticate": {
                    "description": "Bearer, and why the token was refused.",
                    "schema": {"type": "string"},
                }
            }
        return answer
    answer = {"description": declared_reply.description}
    if declared_reply.model is not None:
        answer["content"] = {
            JSON: {"schema": {"$ref": REF.format(model=declared_reply.model.__name__)}}
        }
    headers = dict(declared_reply.headers)
    if declared.cached and status == 200:
        headers.setdefault("ETag", "Send it back as If-None-Match to get 304 while it holds.")
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return answer


def _version() -> str:
    try:
        return metadata.version("privacy-tracker")
    except metadata.PackageNotFoundError:
        return "unknown"
