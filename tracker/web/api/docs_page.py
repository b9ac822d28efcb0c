"""The API reference page's view objects, read from the OpenAPI document (nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REF_PREFIX = "#/components/schemas/"
METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class TypePart:
    """A piece of a type written out: text, linking to a schema when it names one."""

    text: str
    schema: str | None = None


@dataclass(frozen=True)
class Field:
    """A parameter, body field or schema property."""

    name: str
    where: str
    type: tuple[TypePart, ...]
    required: bool
    description: str
    rules: str


@dataclass(frozen=True)
class Answer:
    """One status an operation may answer."""

    status: str
    description: str
    media_type: str | None
    type: tuple[TypePart, ...]
    headers: tuple[str, ...]


@dataclass(frozen=True)
class BodyView:
    """A request body: each media type it may come as, and its fields."""

    description: str
    media_types: tuple[str, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class OperationView:
    """One method on one path."""

    anchor: str
    method: str
    path: str
    summary: str
    description: str
    security: str
    parameters: tuple[Field, ...]
    body: BodyView | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class SchemaView:
    """A named schema: an object's properties, or the values of an enumeration."""

    name: str
    description: str
    fields: tuple[Field, ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class DocsPage:
    """The whole reference: operations by tag, then every schema."""

    title: str
    version: str
    description: str
    groups: tuple[tuple[str, tuple[OperationView, ...]], ...]
    schemas: tuple[SchemaView, ...]


def docs_page(document: Mapping[str, Any]) -> DocsPage:
    """Return the reference page of an OpenAPI document."""
    groups: dict[str, list[OperationView]] = {}
    for path, methods in document.get("paths", {}).items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            item = methods[method]
            tag = (item.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(_operation(path, method, item))
    schemas = document.get("components", {}).get("schemas", {})
    info = document.get("info", {})
    return DocsPage(
        title=info.get("title", "API"),
        version=info.get("version", ""),
        description=info.get("description", ""),
        groups=tuple((tag, tuple(items)) for tag, items in groups.items()),
        schemas=tuple(_schema(name, schema) for name, schema in schemas.items()),
    )


def type_parts(schema: Mapping[str, Any]) -> tuple[TypePart, ...]:
    """Write a JSON Schema's type for a person: 'list of MatrixRow', 'string or null'."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(REF_PREFIX)
        return (TypePart(name, name),)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts: list[TypePart] = []
            for index, option in enumerate(schema[key]):
                if index:
                    parts.append(TypePart(" or "))
                parts.extend(type_parts(option))
            return tuple(parts)
    kind = schema.get("type")
    if kind == "array":
        return (TypePart("list of "), *type_parts(schema.get("items", {})))
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return (TypePart("map of "), *type_parts(schema["additionalProperties"]))
    if "enum" in schema:
        return (TypePart("one of " + ", ".join(str(value) for value in schema["enum"])),)
    if "const" in schema:
        return (TypePart(repr(schema["const"])),)
    text = kind if isinstance(kind, str) else "any"
    if schema.get("format"):
        text += f" ({schema['format']})"
    return (TypePart(text),)


# --- private helpers ---------------------------------------------------------------------------


def _operation(path: str, method: str, item: Mapping[str, Any]) -> OperationView:
    parameters = tuple(
        _field(
            parameter["name"],
            parameter.get("schema", {}),
            parameter.get("required", False),
            parameter.get("description", ""),
            parameter.get("in", ""),
        )
        for parameter in item.get("parameters", [])
    )
    body = item.get("requestBody")
    return OperationView(
        anchor=str(item.get("operationId", f"{method}-{path}")),
        method=method.upper(),
        path=path,
        summary=item.get("summary", ""),
        description=item.get("description", ""),
        security=_security(item.get("security", [])),
        parameters=parameters,
        body=_body(body) if body else None,
        answers=tuple(
            _answer(status, answer) for status, answer in item.get("responses", {}).items()
        ),
    )


def _body(body: Mapping[str, Any]) -> BodyView:
    content: Mapping[str, Any] = body.get("content", {})
    fields: list[Field] = []
    for media_type, entry in content.items():
        schema = entry.get("schema", {})
        if schema.get("type") == "object":
            required = set(schema.get("required", []))
            fields.extend(
                _field(name, prop, name in required, prop.get("description", ""), media_type)
                for name, prop in schema.get("properties", {}).items()
            )
        else:
            fields.append(_field("(body)", schema, True, schema.get("description", ""), media_type))
    return BodyView(body.get("description", ""), tuple(content), tuple(fields))


def _answer(status: str, answer: Mapping[str, Any]) -> Answer:
    content: Mapping[str, Any] = answer.get("content", {})
    media_type = next(iter(content), None)
    schema = content[media_type].get("schema", {}) if media_type else {}
    return Answer(
        status=status,
        description=answer.get("description", ""),
        media_type=media_type,
        type=type_parts(schema) if schema else (),
        headers=tuple(answer.get("headers", {})),
    )


def _schema(name: str, schema: Mapping[str, Any]) -> SchemaView:
    required = set(schema.get("required", []))
    fields = tuple(
        _field(prop_name, prop, prop_name in required, prop.get("description", ""), "")
        for prop_name, prop in schema.get("properties", {}).items()
    )
    values = tuple(str(value) for value in schema.get("enum", ()))
    return SchemaView(name, schema.get("description", ""), fields, values)


def _field(
    name: str, schema: Mapping[str, Any], required: bool, description: str, where: str
) -> Field:
    return Field(name, where, type_parts(schema), required, description, _rules(schema))


def _rules(schema: Mapping[str, Any]) -> str:
    rules = []
    for key, label in (
        ("minimum", "at least"),
        ("maximum", "at most"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
    ):
        if key in schema:
            rules.append(label.format(schema[key]) if "{}" in label else f"{label} {schema[key]}")
    for option in schema.get("anyOf", ()):
        if "maxLength" in option:
            rules.append(f"at most {option['maxLength']} characters")
    if schema.get("pattern"):
        rules.append(f"matches {schema['pattern']}")
    if "default" in schema and schema["default"] is not None:
        rules.append(f"default {schema['default']}")
    return "; ".join(rules)


def _security(options: list[Mapping[str, Any]]) -> str:
    names = {"token": "API token (bearer)", "session": "signed-in session"}
    words = [" and ".join(names.get(key, key) for key in option) or "none" for option in options]
    return ", or ".join(words) if words else "none"
