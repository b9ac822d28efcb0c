"""One worker computes, the others wait: short claims in Redis shared by the caches.

A worker that misses a shared cache entry claims its key (SET NX with a short expiry) and
computes it; another worker that misses the same key while the claim stands polls for the
entry for a few seconds, then computes it itself. Redis going away costs speed, never an
answer: every call then falls back to computing here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

CLAIM_MILLISECONDS = 5000
WAIT_SECONDS = 3.0
POLL_SECONDS = 0.01


def redis_client(url: str) -> Any:
    """Connect lazily to the Redis at the URL (its database number included), timeouts 2 s."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def call_redis(call: Callable[[], Any], what: str, default: Any = None) -> Any:
    """Run one Redis call; when Redis fails, log it (naming `what` is cached) and return default."""
    import redis

    try:
        return call()
    except redis.RedisError as error:
        log.warning("The %s cache in Redis is unavailable (%s); computing instead.", what, error)
        return default


class RedisClaims:
    """Claims on computing cache entries, under one key prefix in Redis."""

    def __init__(self, client: Any, prefix: str, what: str) -> None:
        self.client = client
        self.prefix = prefix
        self.what = what

    def claim(self, key: str) -> bool:
        """Take the claim on computing the entry (Redis unavailable: compute anyway)."""
        taken = call_redis(
            lambda: self.client.set(self.prefix + key, b"1", nx=True, px=CLAIM_MILLISECONDS),
            self.what,
            default=True,
        )
        return bool(taken)

    def release(self, key: str) -> None:
        """Drop the claim, so a worker waiting for a failed computation does not wait long."""
        call_redis(lambda: self.client.delete(self.prefix + key), self.what)

    def wait_for(self, key: str, lookup: Callable[[], T | None]) -> T | None:
        """Poll `lookup` while another worker holds the claim, for a few seconds."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = lookup()
            if found is not None:
                return found
            if not call_redis(lambda: self.client.exists(self.prefix + key), self.what):
                return lookup()  # stored just now, or the computation failed
            time.sleep(POLL_SECONDS)
        return None
