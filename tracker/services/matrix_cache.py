"""The computed matrix, cached per data generation, time bucket and scope.

An entry is found only under the generation it was computed at (tracker.generation moves it
on with every committed write that can change a status), within one time bucket, and before
the first moment a status in it would read otherwise with no write at all (evidence ageing;
tracker.domain.status_expiry). The bucket bounds anything time-dependent beyond that.

An entry holds the rows, not the facts behind them: no reader of the cache needs the facts
(pages that do, such as release readiness, compute their own matrix), and at 3,000 obligations
they are nine tenths of the entry and most of the time it takes to decode it (decoding the
rows takes a tenth of computing them). After a write, one worker computes the new entry while
the others wait for it briefly (a short lock in Redis), instead of every worker computing it.

Reads cost what changed: when the data generation's change log (tracker.generation) tells
which obligations changed since the newest entry this process holds for the same time bucket
and scope (a test report changes only the rows of the obligations linked to its tests), only
those rows are computed again and the rest are kept. Entries so made stay in this process:
each worker brings its own up to date for the price of those rows, which is less than reading
a whole matrix back from Redis. A release scope is always computed in full (a report can name
a release, which changes how every row's work items count).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session

from tracker.domain.status_expiry import next_status_change
from tracker.generation import changes_since, current_generation, pending
from tracker.models import utcnow
from tracker.redis_claims import RedisClaims, call_redis
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import MatrixData, build_matrix
from tracker.services.matrix_codec import decode_matrix, encode_matrix

DEFAULT_BUCKET_SECONDS = 60
DEFAULT_ENTRIES = 64
REDIS_PREFIX = "tracker:matrix:"
LOCK_PREFIX = "tracker:matrix-lock:"


class MatrixCache(Protocol):
    """Where computed matrices are kept: in this process, or in Redis for every worker."""

    def get(self, key: str, now: datetime) -> MatrixData | None:
        """Return the matrix stored under the key if it has not expired by now."""

    def put(
        self,
        key: str,
        data: MatrixData,
        expires: datetime,
        *,
        newest_of: str | None = None,
        share: bool = True,
    ) -> None:
        """Store the matrix under the key until it expires.

        newest_of: the scope (MatrixKey.scope_text) it is now the newest entry of; share:
        whether other workers get it too (False: this process only).
        """

    def newest(self, scope_text: str, now: datetime) -> MatrixData | None:
        """Return the newest entry stored for the scope, if it has not expired."""

    def claim(self, key: str) -> bool:
        """Return whether this worker should compute the entry (others are computing it)."""

    def release(self, key: str) -> None:
        """Give up the claim on the entry (it is stored, or computing it failed)."""

    def wait(self, key: str, now: datetime) -> MatrixData | None:
        """Return the entry once another worker has stored it, or None after a short wait."""


@dataclass(frozen=True)
class MatrixKey:
    """What a cached matrix was computed for."""

    generation: str
    bucket: int
    scope: EvidenceScope
    include_retired: bool = False
    max_evidence_age_days: int | None = None

    def text(self) -> str:
        """Return the key as a short, fixed-length string (release names may be long)."""
        scope = self.scope
        parts = (
            self.generation,
            str(self.bucket),
            scope.release or "",
            scope.branch or "",
            scope.environment or "",
            scope.default_branch,
            "retired" if self.include_retired else "",
            str(self.max_evidence_age_days or ""),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]

    def scope_text(self) -> str:
        """Return the key without its generation: what entries that follow one another share."""
        return replace(self, generation="").text()


class LocalMatrixCache:
    """A bounded least-recently-used cache in this process (safe across threads)."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[str, tuple[MatrixData, datetime]] = OrderedDict()
        self._newest: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: datetime) -> MatrixData | None:
        """Return the matrix stored under the key if it has not expired by now."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if now >= item[1]:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(
        self,
        key: str,
        data: MatrixData,
        expires: datetime,
        *,
        newest_of: str | None = None,
        share: bool = True,
    ) -> None:
        """Store the matrix, dropping the least recently used entries beyond the bound.

        An entry that follows another for the same scope drops the one before: nothing but
        a request still reading an older generation would ask for it.
        """
        with self._lock:
            if newest_of is not None:
                before = self._newest.get(newest_of)
                if before is not None and before != key:
                    self._items.pop(before, None)
                self._newest[newest_of] = key
            self._items[key] = (data, expires)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
            if len(self._newest) > 4 * self.entries:
                self._newest = {s: k for s, k in self._newest.items() if k in self._items}

    def newest(self, scope_text: str, now: datetime) -> MatrixData | None:
        """Return the newest entry stored for the scope, if it has not expired."""
        key = self._newest.get(scope_text)
        return None if key is None else self.get(key, now)

    def claim(self, key: str) -> bool:
        """Return True: in one process a worker computes what it misses."""
        return True

    def release(self, key: str) -> None:
        """Hold no claim in one process."""

    def wait(self, key: str, now: datetime) -> MatrixData | None:
        """Return None: nobody else computes the entry."""
        return None

    def __len__(self) -> int:
        return len(self._items)


class RedisMatrixCache:
    """Redis shared by every worker, as JSON, with this process's LRU in front of it.

    The LRU is safe to keep: an entry's key names its generation, so it cannot outlive a
    write. Redis going away costs speed, never an answer: the matrix is then computed.
    """

    def __init__(self, client: Any, entries: int = DEFAULT_ENTRIES) -> None:
        self.client = client
        self.local = LocalMatrixCache(entries)
        self.claims = RedisClaims(client, LOCK_PREFIX, "matrix")

    @classmethod
    def from_url(cls, url: str, entries: int = DEFAULT_ENTRIES) -> RedisMatrixCache:
        """Connect lazily to the Redis at the URL (its database number included)."""
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), entries)

    def get(self, key: str, now: datetime) -> MatrixData | None:
        """Return the matrix from this process's LRU, else from Redis, if not expired."""
        found = self.local.get(key, now)
        if found is not None:
            return found
        blob = self._redis(lambda: self.client.get(REDIS_PREFIX + key))
        if not isinstance(blob, bytes):
            return None
        decoded = decode_matrix(blob)
        if decoded is None or now >= decoded[1]:
            return None
        data = replace(decoded[0], cache_key=key, valid_until=decoded[1])
        self.local.put(key, data, decoded[1])
        return data

    def put(
        self,
        key: str,
        data: MatrixData,
        expires: datetime,
        *,
        newest_of: str | None = None,
        share: bool = True,
    ) -> None:
        """Store the matrix here and (when shared) in Redis, which drops it when it expires."""
        self.local.put(key, data, expires, newest_of=newest_of)
        if not share:
            return
        milliseconds = max(1, int((expires - utcnow()).total_seconds() * 1000))
        blob = encode_matrix(data, expires)
        self._redis(lambda: self.client.set(REDIS_PREFIX + key, blob, px=milliseconds))

    def newest(self, scope_text: str, now: datetime) -> MatrixData | None:
        """Return this process's newest entry for the scope (Redis keeps no such pointer)."""
        return self.local.newest(scope_text, now)

    def claim(self, key: str) -> bool:
        """Take the short claim on computing the entry (Redis unavailable: compute anyway)."""
        return self.claims.claim(key)

    def release(self, key: str) -> None:
        """Drop the claim, so a worker waiting for a failed computation does not wait long."""
        self.claims.release(key)

    def wait(self, key: str, now: datetime) -> MatrixData | None:
        """Poll Redis for the entry while another worker computes it, for a few seconds."""
        return self.claims.wait_for(key, lambda: self.get(key, now))

    def _redis(self, call: Callable[[], Any]) -> Any:
        return call_redis(call, "matrix")


def time_bucket(now: datetime, seconds: int) -> int:
    """Return the number of the time bucket that now falls in."""
    return int(now.timestamp()) // seconds


def _outside_writes(session: Session) -> bool:
    """Whether the session holds no write of its own (committed data: the cache may serve it)."""
    return not (pending(session.connection()) or session.new or session.dirty or session.deleted)


def cached_statuses(
    *,
    session: Session,
    cache: MatrixCache | None,
    scope: EvidenceScope,
    obligation_ids: Collection[str],
    generation: str | None = None,
    bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
    now: datetime | None = None,
) -> MatrixData:
    """Return rows holding at least these obligations' statuses in the scope.

    The whole matrix when the cache holds it (another request computed it); otherwise only
    these rows, computed here and not stored: a page that shows a few statuses does not pay
    for the whole catalog's.
    """
    now = now or utcnow()
    if cache is not None and _outside_writes(session):
        generation = generation or current_generation(session.connection())
        key = MatrixKey(generation, time_bucket(now, bucket_seconds), scope)
        found = cache.get(key.text(), now)
        if found is not None:
            return found
    data = build_matrix(
        session=session, scope=scope, obligation_ids=sorted(obligation_ids), now=now
    )
    return replace(data, valid_until=next_status_change(data.facts.values(), now))


def cached_matrix(
    *,
    session: Session,
    cache: MatrixCache | None,
    scope: EvidenceScope | None = None,
    generation: str | None = None,
    bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
    now: datetime | None = None,
    include_retired: bool = False,
    max_evidence_age_days: int | None = None,
) -> MatrixData:
    """Return the matrix for the scope from the cache, computing and storing it on a miss.

    With a cache, the matrix comes without its facts (an empty dict), whether it was found or
    computed here, so a reader that needs them fails in its tests, not only after a cache hit.

    generation, when the caller read it already (for an ETag), must have been read in this
    session's transaction before any of the matrix's data. A session holding changes not
    yet committed gets a matrix computed afresh and stores nothing: what it would store may
    be rolled back.
    """
    scope = scope or EvidenceScope()
    now = now or utcnow()
    if cache is None or not _outside_writes(session):
        return build_matrix(
            session=session,
            scope=scope,
            now=now,
            include_retired=include_retired,
            max_evidence_age_days=max_evidence_age_days,
        )
    # Read first: data read after it is at least as new, so an entry is never older than its key.
    generation = generation or current_generation(session.connection())
    bucket = time_bucket(now, bucket_seconds)
    matrix_key = MatrixKey(generation, bucket, scope, include_retired, max_evidence_age_days)
    key, scope_text = matrix_key.text(), matrix_key.scope_text()
    found = cache.get(key, now)
    if found is not None:
        if found.generation != generation:  # read back from Redis: follow it from here on
            found = replace(found, generation=generation)
            cache.put(key, found, found.valid_until or now, newest_of=scope_text, share=False)
        return found
    bucket_end = datetime.fromtimestamp((bucket + 1) * bucket_seconds, UTC)
    updated = _updated(session, cache.newest(scope_text, now), matrix_key, now, bucket_end, key)
    if updated is not None:
        if updated.valid_until and updated.valid_until > now + timedelta(milliseconds=1):
            cache.put(key, updated, updated.valid_until, newest_of=scope_text, share=False)
        return updated
    claimed = cache.claim(key)
    if not claimed:
        found = cache.wait(key, now)
        if found is not None:
            return found
    try:
        data = build_matrix(
            session=session,
            scope=scope,
            now=now,
            include_retired=include_retired,
            max_evidence_age_days=max_evidence_age_days,
        )
        expires = _earliest(bucket_end, next_status_change(data.facts.values(), now))
        entry = MatrixData(
            rows=data.rows,
            facts={},
            generated_at=data.generated_at,
            notes=data.notes,
            cache_key=key,
            valid_until=expires,
            generation=generation,
        )
        if expires > now + timedelta(milliseconds=1):
            cache.put(key, entry, expires, newest_of=scope_text)
    finally:
        if claimed:
            cache.release(key)
    return entry


def _updated(
    session: Session,
    base: MatrixData | None,
    key: MatrixKey,
    now: datetime,
    bucket_end: datetime,
    key_text: str,
) -> MatrixData | None:
    """Return the base entry with the rows changed since it computed again (None: compute all).

    Only when the change log names what changed, and those are at most half the rows.
    """
    if base is None or base.generation is None or key.scope.release:
        return None
    changed = changes_since(session.connection(), base.generation, key.generation)
    if changed is None or len(changed) > len(base.rows) // 2:
        return None
    fresh = build_matrix(
        session=session,
        scope=key.scope,
        obligation_ids=sorted(changed),
        now=now,
        include_retired=key.include_retired,
        max_evidence_age_days=key.max_evidence_age_days,
    )
    if fresh.notes != base.notes:  # the scope's first run: every row with tests reads otherwise
        return None
    by_id = {row.id: row for row in fresh.rows}
    kept = {row.id for row in base.rows}
    if not by_id.keys() <= kept or len(by_id) != len(changed & kept):
        return None  # an obligation came or went: not something a report does
    expires = _earliest(bucket_end, next_status_change(fresh.facts.values(), now))
    if base.valid_until is not None:
        expires = min(expires, base.valid_until)
    return MatrixData(
        rows=[by_id.get(row.id, row) for row in base.rows],
        facts={},
        generated_at=now,
        notes=base.notes,
        cache_key=key_text,
        valid_until=expires,
        generation=key.generation,
        local=True,
    )


def _earliest(end: datetime, change: datetime | None) -> datetime:
    return change if change is not None and change < end else end
