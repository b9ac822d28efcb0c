"""Logging: the request id (one per web request, carried into jobs), JSON lines, request logs.

`init_app` gives every web request an id (a safe incoming `X-Request-Id`, else a new one),
binds it for the request, echoes it in the response and, with TRACKER_LOG_FORMAT=json, logs one
line per request. `configure_logging` sends every record as one JSON object per line; the plain
text of Flask, werkzeug and gunicorn stays as it is otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from tracker.domain.timestamps import rfc3339_utc

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

_REQUEST_ID: ContextVar[str | None] = ContextVar("tracker_request_id", default=None)

REQUEST_ID_HEADER = "X-Request-Id"
#: An incoming id is kept only when it is short and cannot forge a log line or a header.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOG_FORMATS = ("text", "json")
#: The logger of the one line per request (JSON format only; text keeps the server's own).
REQUEST_LOGGER = "tracker.requests"
#: What a request log line adds to time, level, logger, message and request_id. Deliberately
#: no headers (Authorization, cookies) and no query string (the sign-on callback's code).
REQUEST_FIELDS = ("method", "path", "endpoint", "status", "duration_ms", "remote_addr")

_HANDLER_MARK = "tracker_log_handler"
_STARTED = "tracker_request_started"
_BINDING = "tracker_request_id_binding"


def current_request_id() -> str | None:
    """Return the id of the request (or of the job's originating request) being served."""
    return _REQUEST_ID.get()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[None]:
    """Make `value` the current request id for the block (a job binds its request's id)."""
    token = _REQUEST_ID.set(value)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


def request_id_from(header: str | None) -> str:
    """Return the incoming id when it is safe ([A-Za-z0-9._-], at most 64), else a new one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    import uuid  # here, not at the top: `tracker --help` does not pay for it

    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (RFC 3339, UTC), level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON (a traceback goes into "exception")."""
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": rfc3339_utc(moment, fraction=True),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        for field in REQUEST_FIELDS:
            if field in record.__dict__:
                line[field] = record.__dict__[field]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(value: str | None) -> str:
    """Return the log format named by TRACKER_LOG_FORMAT (text by default); ValueError else."""
    name = (value or "text").strip().lower()
    if name not in LOG_FORMATS:
        raise ValueError(f"TRACKER_LOG_FORMAT must be text or json, not '{value}'.")
    return name


def formatter_for(name: str) -> logging.Formatter:
    """Return the formatter of a log format: JSON lines, or the plain text used so far."""
    if name == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(name: str, *, stream: IO[str] | None = None) -> None:
    """With the json format, send every record of this process as JSON lines (to stderr).

    Idempotent: a second call replaces the handler it installed before. The text format leaves
    logging as Flask, werkzeug and gunicorn set it up.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    if name != "json":
        return
    handler = logging.StreamHandler(stream) if stream is not None else _StandardError()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    # The tracker's own line per request replaces werkzeug's, which carries the query string.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from flask.logging import default_handler

    logging.getLogger("tracker").removeHandler(default_handler)  # else errors print twice


def init_app(app: Flask) -> None:
    """Give each request an id (bound for the request, echoed back); log it in JSON format.

    Call it first in create_app, so the id is bound before any other hook runs.
    """
    name = log_format(app.config.get("LOG_FORMAT"))
    app.config["LOG_FORMAT"] = name
    if name == "json":
        configure_logging(name)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (a test or a server may replace it)."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass  # StreamHandler.__init__ sets it; the property above always wins


def _start_request() -> None:
    from flask import g, request

    setattr(g, _STARTED, time.perf_counter())
    setattr(g, _BINDING, _REQUEST_ID.set(request_id_from(request.headers.get(REQUEST_ID_HEADER))))


def _finish_request(response: Response) -> Response:
    from flask import current_app, g, request

    from tracker import metrics

    request_id = current_request_id()
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get(_STARTED)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    metrics.observe_request(request.endpoint, request.method, response.status_code, seconds)
    if current_app.config.get("LOG_FORMAT") == "json":
        logging.getLogger(REQUEST_LOGGER).info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "remote_addr": request.remote_addr,
            },
        )
    return response


def _end_request(_error: BaseException | None) -> None:
    from flask import g

    token: Token[str | None] | None = g.pop(_BINDING, None)
    if token is not None:
        try:
            _REQUEST_ID.reset(token)
        except ValueError:
            _REQUEST_ID.set(None)  # set in another context (a streamed response): just clear it
