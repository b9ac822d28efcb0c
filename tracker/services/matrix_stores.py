"""Where computed matrices are kept: this process's memory, or Redis shared by every worker.

What is kept, under which key and for how long is decided in tracker.services.matrix_cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from tracker.models import utcnow
from tracker.redis_claims import RedisClaims, call_redis, redis_client
from tracker.services.matrix import MatrixData
from tracker.services.matrix_codec import decode_matrix, encode_matrix

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
        return cls(redis_client(url), entries)

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
