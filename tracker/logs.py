"""The request id: one per web request, carried into the jobs it enqueues and into log lines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST_ID: ContextVar[str | None] = ContextVar("tracker_request_id", default=None)


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
