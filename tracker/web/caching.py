"""Reads that cost what changed: the app's matrix cache, and ETags that answer 304 unrendered.

An ETag is a hash of the data generation, the time bucket, the path and query, and who is
looking (account, role, name and login session, or token), so a page made for one person is
never confirmed to another. Tags are weak (W/"..."): the same tag may stand for bodies that
differ in bytes but not in meaning (the CSRF token in a form, the moment a worker computed its
copy of the matrix), which is exactly what a weak validator promises and all that
If-None-Match needs. Responses say Cache-Control: private, no-cache, so a browser keeps its
copy for the signed-in person only and asks again each time, and a 304 costs one small query.

The server keeps the answers behind those tags as well (tracker.web.answer_store): an answer is
kept per address and viewer, the same parts as the tag's, so what a 304 may confirm the server
may give again in full. kept_answer extends that to the obligation page, whose answer rests on
one obligation: it is given again while the change log names no write to that obligation and
its audit history has not moved.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import wraps
from typing import ParamSpec, cast

from flask import Flask, current_app, g, make_response, request, session
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from tracker.db import get_session, request_connection
from tracker.generation import changes_since, current_generation, pending
from tracker.models import utcnow
from tracker.redis_claims import redis_client
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import MatrixData
from tracker.services.matrix_cache import cached_matrix, cached_statuses, time_bucket
from tracker.services.matrix_stores import LocalMatrixCache, MatrixCache, RedisMatrixCache
from tracker.web.answer_store import AnswerStore, KeptAnswer
from tracker.web.auth import SESSION_KEY, current_identity

P = ParamSpec("P")

CACHE_KEY = "tracker.matrix_cache"
CACHE_CONTROL = "private, no-cache"
VARY = "Cookie, Authorization"
ANSWERS_KEY = "tracker.kept_answers"
#: Headers of a view's answer that are not kept with it: set afresh for each request.
UNKEPT_HEADERS = frozenset({"set-cookie", "content-length", "etag", "cache-control", "vary"})


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
        answer_valid_until(data.valid_until)
    return data


def answer_valid_until(moment: datetime) -> None:
    """Note that this request's answer stops being true at moment (a status ageing)."""
    earliest: datetime | None = g.get("tracker_valid_until")
    g.tracker_valid_until = min(earliest or moment, moment)


def request_generation() -> str | None:
    """Return the data generation, read once per request (None inside a write not committed).

    Read before the view when the request is signed in (with the sign-in check, see auth),
    else on first use: either way before anything the answer shows.
    """
    if pending(request_connection()):
        return None
    if "tracker_generation" not in g:
        g.tracker_generation = current_generation(get_session().connection())
    generation: str = g.tracker_generation
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
        response = _kept_or_made(lambda: make_response(view(*args, **kwargs)))
        tag = _etag()  # again: rendering may have given the session its CSRF token
        if tag is not None and response.status_code == 200:
            _validators(response, tag)
        return response

    return cast(Callable[P, Response], wrapper)


def kept_answer(
    depends: Callable[P, tuple[frozenset[str] | None, str]],
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, Response]]:
    """Keep a read-only view's answers per viewer while the data they show stays the same.

    depends(*view arguments) names what the answer rests on: the obligations it shows (None:
    any write may change it) and a marker of what it shows that moves no data generation.
    A kept answer is given again while the marker is unchanged and no write since changed
    those obligations (tracker.generation's change log), before it would go stale. Views
    under with_etag are kept the same way with no names: until the next write.
    """

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            return _kept_or_made(
                lambda: make_response(view(*args, **kwargs)), lambda: depends(*args, **kwargs)
            )

        return cast(Callable[P, Response], wrapper)

    return decorate


def answer_store(app: Flask | None = None) -> AnswerStore | None:
    """Return the app's kept answers (shared through Redis when TRACKER_REDIS_URL is set)."""
    app = app or current_app
    if app.config.get("MATRIX_CACHE_ENTRIES", 1) <= 0:
        return None
    store: AnswerStore | None = app.extensions.get(ANSWERS_KEY)
    if store is None:
        url = app.config.get("REDIS_URL")
        client = redis_client(url) if url else None
        store = app.extensions.setdefault(ANSWERS_KEY, AnswerStore(client))
    return store


def _kept_or_made(
    make: Callable[[], Response],
    depends: Callable[[], tuple[frozenset[str] | None, str]] = lambda: (None, ""),
) -> Response:
    """Give this viewer's kept answer when it still holds; else make it, and keep it if it may.

    depends() says what the answer rests on (see kept_answer); the default: any write.
    A page carrying a one-time message is neither given from nor kept.
    """
    store = answer_store()
    if store is None or "_flashes" in session or request.method not in ("GET", "HEAD"):
        return make()
    names, marker = depends()
    generation = request_generation()  # read before anything the answer shows
    if generation is None:
        return make()
    now = int(_request_now().timestamp())
    key = _answer_key()
    found = store.get(key, now)
    if found is not None:
        if _still_holds(found, generation, marker):
            answer_valid_until(datetime.fromtimestamp(found.until, UTC))
            return Response(found.body, headers=list(found.headers))
        store.forget(key)
    response = make()
    if response.status_code != 200 or response.is_streamed or "_flashes" in session:
        return response
    kept = KeptAnswer(
        generation=generation,
        names=names,
        marker=marker,
        until=_valid_until(),
        headers=tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in UNKEPT_HEADERS
        ),
        body=response.get_data(),
    )
    store.put(_answer_key(), kept, now)  # again: rendering may have given a CSRF token
    return response


def _still_holds(answer: KeptAnswer, generation: str, marker: str) -> bool:
    if answer.marker != marker:
        return False
    if answer.generation == generation:
        return True
    if answer.names is None:
        return False
    changed = changes_since(get_session().connection(), answer.generation, generation)
    return changed is not None and not (changed & answer.names)


def _answer_key() -> str:
    parts = (request.path, request.query_string.decode("latin-1"), _viewer())
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


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
