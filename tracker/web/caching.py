"""Reads that cost what changed: the app's matrix cache, and ETags that answer 304 unrendered.

An ETag is a hash of the data generation, the time bucket, the path and query, and who is
looking (account, role, name and login session, or token), so a page made for one person is
never confirmed to another. Tags are weak (W/"..."): the same tag may stand for bodies that
differ in bytes but not in meaning (the CSRF token in a form, the moment a worker computed its
copy of the matrix), which is exactly what a weak validator promises and all that
If-None-Match needs. Responses say Cache-Control: private, no-cache, so a browser keeps its
copy for the signed-in person only and asks again each time, and a 304 costs one small query.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection
from datetime import datetime
from functools import wraps
from typing import ParamSpec, cast

from flask import Flask, current_app, g, make_response, request, session
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from tracker.db import get_session
from tracker.generation import current_generation, pending
from tracker.models import utcnow
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import MatrixData
from tracker.services.matrix_cache import cached_matrix, cached_statuses, time_bucket
from tracker.services.matrix_stores import LocalMatrixCache, MatrixCache, RedisMatrixCache
from tracker.web.auth import SESSION_KEY, current_identity

P = ParamSpec("P")

CACHE_KEY = "tracker.matrix_cache"
CACHE_CONTROL = "private, no-cache"
VARY = "Cookie, Authorization"


def matrix_cache(app: Flask | None = None) -> MatrixCache | None:
    """Return the app's matrix cache (Redis when TRACKER_REDIS_URL is set), made on first use."""
    app = app or current_app
    if app.config.get("MATRIX_CACHE_ENTRIES", 1) <= 0:
        return None
    cache: MatrixCache | None = app.extensions.get(CACHE_KEY)
    if cache is None:
        entries = int(app.config.get("MATRIX_CACHE_ENTRIES", 64))
        url = app.config.get("REDIS_URL")
        cache = RedisMatrixCache.from_url(url, entries) if url else LocalMatrixCache(entries)
        cache = app.extensions.setdefault(CACHE_KEY, cache)
    return cache


def request_matrix(scope: EvidenceScope) -> MatrixData:
    """Return the matrix for this request's scope, from the cache when nothing has changed."""
    return _until_valid(
        cached_matrix(
            session=get_session(),
            cache=matrix_cache(),
            scope=scope,
            generation=request_generation(),
            bucket_seconds=_bucket_seconds(),
            now=_request_now(),
        )
    )


def request_statuses(scope: EvidenceScope, obligation_ids: Collection[str]) -> MatrixData:
    """Return rows holding at least these obligations' statuses (services.cached_statuses)."""
    return _until_valid(
        cached_statuses(
            session=get_session(),
            cache=matrix_cache(),
            scope=scope,
            obligation_ids=obligation_ids,
            generation=request_generation(),
            bucket_seconds=_bucket_seconds(),
            now=_request_now(),
        )
    )


def _until_valid(data: MatrixData) -> MatrixData:
    """Note until when the answer holds (its ETag is confirmed until then); return data."""
    if data.valid_until is not None:
        earliest: datetime | None = g.get("tracker_valid_until")
        g.tracker_valid_until = min(earliest or data.valid_until, data.valid_until)
    return data


def request_generation() -> str | None:
    """Return the data generation, read once per request (None inside a write not committed)."""
    if "tracker_generation" not in g:
        connection = get_session().connection()
        g.tracker_generation = None if pending(connection) else current_generation(connection)
    generation: str | None = g.tracker_generation
    return generation


def with_etag(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
    """Give a read-only view's answers an ETag, and answer a matching If-None-Match with 304."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        # A message to show once: the page must be rendered to show it, and never confirmed.
        if "_flashes" in session:
            return make_response(view(*args, **kwargs))
        tag = _confirmed_tag()
        if tag is not None:
            not_modified = Response(status=304)
            _validators(not_modified, tag)
            return not_modified
        response = make_response(view(*args, **kwargs))
        tag = _etag()  # again: rendering may have given the session its CSRF token
        if tag is not None and response.status_code == 200:
            _validators(response, tag)
        return response

    return cast(Callable[P, Response], wrapper)


def _confirmed_tag() -> str | None:
    """Return the client's tag when it still stands for what this request would be answered.

    A tag names the moment its answer stops being true (the end of its time bucket, or the
    first moment a status in it ages with no write), so a copy is confirmed only before that.
    """
    now = _request_now()
    for tag in request.if_none_match.as_set(include_weak=True):
        _, _, until = (tag or "").rpartition(".")
        if not (until.isascii() and until.isdigit() and len(until) <= 12):
            continue
        if int(until) <= now.timestamp():
            continue
        if _etag(int(until)) == tag:
            return tag
    return None


def _etag(until: int | None = None) -> str | None:
    """Return the tag of this request's answer, valid until `until` (seconds since 1970)."""
    generation = request_generation()
    if generation is None:
        return None
    if until is None:
        until = _valid_until()
    parts = (
        generation,
        str(time_bucket(_request_now(), _bucket_seconds())),
        request.path,
        request.query_string.decode("latin-1"),
        _viewer(),
        str(until),
    )
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"{digest}.{until}"


def _valid_until() -> int:
    """Return when the answer being made stops being true: its bucket's end or a status ageing."""
    seconds = _bucket_seconds()
    until = (time_bucket(_request_now(), seconds) + 1) * seconds
    earliest: datetime | None = g.get("tracker_valid_until")
    if earliest is not None:
        until = min(until, math.ceil(earliest.timestamp()))
    return until


def _viewer() -> str:
    identity = current_identity()
    if identity is None:
        return "anonymous"
    if identity.token is not None:
        scopes = ",".join(sorted(scope.value for scope in identity.scopes or ()))
        return f"token:{identity.token.id}:{scopes}"
    user = identity.user
    role = identity.actor.role.value if identity.actor.role else ""
    account = f"{user.id}:{user.email}:{user.display_name}" if user is not None else ""
    login = str(session.get(SESSION_KEY, "proxy"))
    return f"user:{account}:{role}:{identity.actor.name}:{login}:{session.get('csrf_token', '')}"


def _validators(response: Response, tag: str) -> None:
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.update(part.strip() for part in VARY.split(","))


def _bucket_seconds() -> int:
    return int(current_app.config.get("MATRIX_CACHE_SECONDS", 60))


def _request_now() -> datetime:
    if "tracker_now" not in g:
        g.tracker_now = utcnow()
    now: datetime = g.tracker_now
    return now
