"""Every web input checked once, before any view: characters, lengths, ids and JSON bodies.

`register_converter` installs the bounded `int` URL converter (before the blueprints, whose id
rules take it). `init_app` adds a `before_request` check, run after sign-in and CSRF so that a
request that may not be made is refused before its body is read: it refuses control characters
in path segments, query values and form fields, bounds their lengths, and refuses JSON bodies
that are too deep or hold NUL (or half a surrogate pair). Webhook deliveries are left to their
own parser, which checks the fields it uses and ignores the rest, and views declared with
`reads_no_input` (the health probes and /metrics) are not checked at all. The views then read typed
values with the readers in `tracker.web.request_args`, which apply the same rules
(`tracker.domain.text_rules`) with each field's own bound, read from its database column with
`tracker.models.column_length`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter

from tracker.domain.bounds import DATABASE_INTEGER_MAX, MAX_QUERY_VALUE
from tracker.domain.text_rules import field_label, has_control_characters, text_problem
from tracker.errors import NotFoundError, ValidationError
from tracker.models import JiraVersion, Obligation, TrackerRelease, WorkItem, column_length

MAX_FORM_VALUE = 8000
MAX_NAME = 100  # of a query parameter or form field itself
MAX_FILE_NAME = 255
MAX_PATH_VALUE = 255
#: JSON bodies: Jira's issue events nest about ten levels and weigh a few kilobytes.
MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 1024 * 1024

View = TypeVar("View", bound=Callable[..., Any])
NO_INPUT_ATTRIBUTE = "tracker_reads_no_input"

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: Signed Jira deliveries: their parser (services.jira_webhooks) reads only the fields it uses,
#: each checked, so a NUL in a comment of an ignored event must not refuse the delivery.
OWN_JSON_PARSER_PREFIXES = ("/webhooks/",)

# A JSON string (skipped whole: possessive, so linear on any input) or one bracket.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_HALF_PAIR = (
    "half of a surrogate pair (a \\ud800 to \\udfff escape without its other half), which is "
    "not valid text"
)


#: A release is a Jira fix version or one made in the tracker: its name fits the longer column.
LONGEST_RELEASE_NAME = max(
    column_length(TrackerRelease, "name"), column_length(JiraVersion, "name")
)
#: Path variables by name: what they name in messages, and the column that bounds them.
PATH_VALUES: dict[str, tuple[str, str, int]] = {
    "obligation_id": ("obligation", "an id", column_length(Obligation, "id")),
    "key": ("work item", "a key", column_length(WorkItem, "key")),
    "name": ("release", "a name", LONGEST_RELEASE_NAME),
}


class IdConverter(IntegerConverter):
    """The `int` URL converter, limited to what an id column holds: beyond it, no page (404)."""

    regex = r"[0-9]{1,10}"  # ASCII digits only; more than ten cannot fit

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DATABASE_INTEGER_MAX)
        super().__init__(url_map, *args, **kwargs)


def register_converter(app: Flask) -> None:
    """Make `int` in URL rules the bounded id converter; call it before adding any blueprint."""
    app.url_map.converters["int"] = IdConverter


def init_app(app: Flask) -> None:
    """Check every request's inputs before its view; call it after the sign-in and CSRF hooks.

    Flask runs these hooks in the order they were added: a request without the right to be
    made is refused first, before this check reads its body (a large upload included).
    """
    app.before_request(check_request)


def reads_no_input(view: View) -> View:
    """Declare a view that reads no input at all (the probes), so nothing is checked for it."""
    setattr(view, NO_INPUT_ATTRIBUTE, True)
    return view


def check_request() -> None:
    """Refuse a request whose path, query, form or JSON body holds what cannot be stored."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, NO_INPUT_ATTRIBUTE, False):
        return  # a probe must answer whatever a load balancer appends to its address
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_path_value(name, value)
    for name, values in request.args.lists():
        _check_values(name, values, MAX_QUERY_VALUE, multiline=False)
    if request.mimetype in FORM_TYPES:
        for name, values in request.form.lists():
            _check_values(name, values, MAX_FORM_VALUE, multiline=True)
        for name, upload in request.files.items(multi=True):
            _check_name(name)
            check_text(f"The name of the file in {name}", upload.filename or "", MAX_FILE_NAME)
    if request.is_json and not request.path.startswith(OWN_JSON_PARSER_PREFIXES):
        _check_json_body()


def check_path_value(name: str, value: str) -> str:
    """Return a path segment's value; control characters are a 400, too long a value a 404."""
    label, noun, maximum = PATH_VALUES.get(name, (field_label(name), "a value", MAX_PATH_VALUE))
    if has_control_characters(value):
        raise ValidationError(
            f"The {label} in the address contains a control character (such as NUL), which no "
            f"{label} has: check the address.",
            field=name,
        )
    if len(value) > maximum:
        raise NotFoundError(
            f"There is no {label} with {noun} that long: it has at most {maximum} characters."
        )
    return value


def check_text(name: str, value: str, maximum: int, *, multiline: bool = False) -> str:
    """Return the text, or raise ValidationError naming the field (control characters, length)."""
    problem = text_problem(name, value, maximum, multiline)
    if problem is not None:
        raise ValidationError(problem, field=name)
    return value


def check_json_text(text: str, what: str) -> None:
    """Refuse JSON too deep, or holding a NUL or half a surrogate pair, without parsing it."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket[0] == '"':
            problem = _escape_problem(bracket) if "\\u" in bracket else None
            if problem is not None:
                raise ValidationError(f"{what} contains {problem}: remove it and send it again.")
            continue
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(
                f"{what} is nested more than {MAX_JSON_DEPTH} levels deep: send a flatter document."
            )
    if "\x00" in text:
        raise ValidationError(f"{what} contains a NUL byte: send it as UTF-8 text.")


# --- private helpers ---------------------------------------------------------------------------


def _check_values(name: str, values: Iterable[str], maximum: int, multiline: bool) -> None:
    _check_name(name)
    for value in values:
        check_text(name, value, maximum, multiline=multiline)


def _check_name(name: str | None) -> None:
    if name is None:  # werkzeug's reading of a part whose name it cannot parse (name="a\\")
        raise ValidationError(
            "A part of the form has a name that cannot be read (check its quoting): name each "
            'field plainly, e.g. name="report".'
        )
    if has_control_characters(name) or len(name) > MAX_NAME:
        raise ValidationError(
            f"The request names a field '{field_label(name)}' that no form has: a field name has "
            f"at most {MAX_NAME} characters and no control characters."
        )


def _check_json_body() -> None:
    current = request.max_content_length
    if current is None or current > MAX_JSON_BYTES:
        request.max_content_length = MAX_JSON_BYTES  # raises 413 on reading beyond it
    data = request.get_data(cache=True)  # the view reads the same bytes again from the cache
    text = data.decode(json.detect_encoding(data), errors="replace")
    check_json_text(text, "The JSON body")


def _escape_problem(string: str) -> str | None:
    """Return what an escape in a JSON string stands for that no text column holds, if any."""
    expect_low = False
    end = -1
    for match in _JSON_ESCAPE.finditer(string):
        before = match.start() - 1
        while string[before] == "\\":
            before -= 1
        if (match.start() - 1 - before) % 2 == 1:
            continue  # its backslash is escaped: plain text "\\u..."
        code = int(match.group(1), 16)
        if expect_low and (match.start() != end or not 0xDC00 <= code <= 0xDFFF):
            return _HALF_PAIR
        if code == 0:
            return "a NUL character (\\u0000), which cannot be stored"
        if 0xDC00 <= code <= 0xDFFF and not expect_low:
            return _HALF_PAIR
        expect_low = 0xD800 <= code <= 0xDBFF
        end = match.end()
    return _HALF_PAIR if expect_low else None
