"""Rendered pieces of pages that read the same for every viewer, cached with the matrix they show.

A fragment's key is the matrix cache's key (data generation, time bucket, evidence scope), the
moment that cached matrix was computed, and what the fragment shows of it (filters, sort). A
fragment therefore never outlives the matrix entry it was made from: a write, a new time bucket
or a status that ages makes a new entry with a new computation time, hence a new key. A matrix
computed for one request alone (a write not yet committed, no cache) has no key and gets its
fragments rendered afresh.

Nothing per viewer may go into a fragment: no CSRF token, no name, no role-dependent link or
button. The matrix rows and the API's matrix document qualify; the page shell around them is
rendered for each request. With TRACKER_REDIS_URL the fragments are shared by every worker
(one renders after a write while the others wait for it briefly); without, each process keeps
its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app

from tracker.redis_claims import RedisClaims, call_redis, redis_client
from tracker.services.matrix import MatrixData

EXTENSION = "tracker.fragment_cache"
ROWS_EXTENSION = "tracker.row_fragments"
REDIS_PREFIX = "tracker:fragment:"
LOCK_PREFIX = "tracker:fragment-lock:"
DEFAULT_ENTRIES = 32


class FragmentCache:
    """Rendered bytes by key: this process's LRU, then Redis (when given) for every worker."""

    def __init__(self, client: Any = None, entries: int = DEFAULT_ENTRIES, ttl: int = 60) -> None:
        self.client = client
        self.claims = RedisClaims(client, LOCK_PREFIX, "fragment") if client is not None else None
        self.entries = entries
        self.ttl = ttl
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, *, share: bool = True) -> bytes | None:
        """Return the fragment from this process, else (when shared) from Redis."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        if self.client is None or not share:
            return None
        blob = self._redis(lambda: self.client.get(REDIS_PREFIX + key))
        if not isinstance(blob, bytes):
            return None
        self._keep(key, blob)
        return blob

    def put(self, key: str, blob: bytes, *, share: bool = True) -> None:
        """Store the fragment here and (when shared) in Redis, which forgets it after a while."""
        self._keep(key, blob)
        if self.client is not None and share:
            self._redis(lambda: self.client.set(REDIS_PREFIX + key, blob, ex=self.ttl))

    def get_or_render(self, key: str, render: Callable[[], bytes], *, share: bool = True) -> bytes:
        """Return the fragment, rendering it here unless another worker is already doing so.

        share=False: a fragment of this process's own matrix, which no other worker asks for.
        """
        found = self.get(key, share=share)
        if found is not None:
            return found
        if not share:
            blob = render()
            self.put(key, blob, share=False)
            return blob
        claimed = self.claims is None or self.claims.claim(key)
        if not claimed and self.claims is not None:
            found = self.claims.wait_for(key, lambda: self.get(key))
            if found is not None:
                return found
        try:
            blob = render()
            self.put(key, blob)
        finally:
            if claimed and self.claims is not None:
                self.claims.release(key)
        return blob

    def __len__(self) -> int:
        return len(self._items)

    def _keep(self, key: str, blob: bytes) -> None:
        with self._lock:
            self._items[key] = blob
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def _redis(self, call: Callable[[], Any]) -> Any:
        return call_redis(call, "fragment")


def fragment_cache(app: Flask | None = None) -> FragmentCache:
    """Return the app's fragment cache (sharing Redis when TRACKER_REDIS_URL is set)."""
    app = app or current_app
    cache: FragmentCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        url = app.config.get("REDIS_URL")
        client = redis_client(url) if url else None
        ttl = int(app.config.get("MATRIX_CACHE_SECONDS", 60))
        cache = app.extensions.setdefault(EXTENSION, FragmentCache(client, ttl=max(1, ttl)))
    return cache


def matrix_fragment(data: MatrixData, variant: str, render: Callable[[], bytes]) -> bytes:
    """Return a viewer-independent rendering of the matrix, made once per cached matrix."""
    if data.cache_key is None or current_app.config.get("MATRIX_CACHE_ENTRIES", 1) <= 0:
        return render()
    parts = (data.cache_key, data.generated_at.isoformat(), variant)
    key = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
    return fragment_cache().get_or_render(key, render, share=not data.local)


class RowFragments:
    """Each matrix row's rendering, kept in this process while the row itself is kept.

    A matrix brought up to date row by row (tracker.services.matrix_cache) keeps the row
    objects that did not change, so a page made of rows renders only the new ones. A row is
    found by its identity, never by equality: the entry holds the row, so no other object can
    take its place while the rendering is kept.
    """

    def __init__(self) -> None:
        self._items: dict[tuple[str, int], tuple[object, bytes]] = {}
        self._lock = threading.Lock()

    def join(
        self,
        variant: str,
        rows: Sequence[Any],
        render: Callable[[Sequence[Any]], list[bytes]],
        separator: bytes = b"",
    ) -> bytes:
        """Return the rows' renderings joined; render(rows) renders those not kept, in order."""
        with self._lock:
            found = [self._items.get((variant, id(row))) for row in rows]
        missing = [
            row for row, item in zip(rows, found, strict=True) if item is None or item[0] is not row
        ]
        made = iter(render(missing)) if missing else iter(())
        parts = []
        with self._lock:
            for row, item in zip(rows, found, strict=True):
                if item is None or item[0] is not row:
                    item = (row, next(made))
                    self._items[(variant, id(row))] = item
                parts.append(item[1])
            if len(self._items) > 4 * len(rows) + 1000:  # drop rows no matrix holds now
                kept = {id(row) for row in rows}
                self._items = {
                    key: item
                    for key, item in self._items.items()
                    if key[0] != variant or key[1] in kept
                }
        return separator.join(parts)


def row_fragments(app: Flask | None = None) -> RowFragments:
    """Return the app's per-row renderings (this process only)."""
    app = app or current_app
    found: RowFragments | None = app.extensions.get(ROWS_EXTENSION)
    if found is None:
        found = app.extensions.setdefault(ROWS_EXTENSION, RowFragments())
    return found
