"""Where finished answers are kept: this process's memory, and Redis shared by every worker.

A kept answer is the headers and body a read-only view gave one viewer (only a 200 is kept),
with what it rests on: the data generation it was read at, the obligations it shows (None:
everything), a marker of anything else it shows that moves no generation (the obligation
page's audit history), and the moment it stops being true. Whether a kept answer may be given
again is decided in tracker.web.caching; this module only stores and bounds them.

In Redis an answer is one value: a JSON header line, then the body. Nothing is unpickled:
a value that does not parse is a miss. Redis going away costs speed, never an answer.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from tracker.redis_claims import call_redis

REDIS_PREFIX = "tracker:answer:"
#: Answers larger than this are not kept: storing a matrix page of thousands of rows (megabytes)
#: for each viewer after every write cost more than rendering it from the kept rows.
MOST_BYTES = 512 * 1024
#: What one process keeps in memory at most, bodies counted.
LOCAL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class KeptAnswer:
    """One viewer's answer to one read, and what it rests on."""

    generation: str
    names: frozenset[str] | None
    marker: str
    until: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self) -> bytes:
        """Return the answer as stored in Redis: a JSON line, then the body."""
        head = {
            "generation": self.generation,
            "names": sorted(self.names) if self.names is not None else None,
            "marker": self.marker,
            "until": self.until,
            "headers": [list(pair) for pair in self.headers],
        }
        return json.dumps(head, separators=(",", ":")).encode("utf-8") + b"\n" + self.body

    @classmethod
    def decode(cls, blob: bytes) -> KeptAnswer | None:
        """Return the answer stored in blob, or None when it is not one."""
        line, newline, body = blob.partition(b"\n")
        if not newline:
            return None
        try:
            head = json.loads(line)
            names = head["names"]
            return cls(
                generation=str(head["generation"]),
                names=frozenset(str(name) for name in names) if names is not None else None,
                marker=str(head["marker"]),
                until=int(head["until"]),
                headers=tuple((str(name), str(value)) for name, value in head["headers"]),
                body=body,
            )
        except (ValueError, KeyError, TypeError):
            return None


class AnswerStore:
    """Kept answers by key: a bounded LRU here, then Redis (when given) for every worker."""

    def __init__(self, client: Any = None, local_bytes: int = LOCAL_BYTES) -> None:
        self.client = client
        self.local_bytes = local_bytes
        self._items: OrderedDict[str, KeptAnswer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str, now: int) -> KeptAnswer | None:
        """Return the answer kept under the key, unless it stopped being true by now."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                if found.until > now:
                    self._items.move_to_end(key)
                    return found
                self._forget(key)
        if self.client is None:
            return None
        blob = call_redis(lambda: self.client.get(REDIS_PREFIX + key), "answer")
        answer = KeptAnswer.decode(blob) if isinstance(blob, bytes) else None
        if answer is None or answer.until <= now:
            return None
        self._keep(key, answer)
        return answer

    def put(self, key: str, answer: KeptAnswer, now: int) -> None:
        """Keep the answer here and in Redis until it stops being true (large ones: not at all)."""
        if len(answer.body) > MOST_BYTES or answer.until <= now:
            return
        self._keep(key, answer)
        if self.client is not None:
            blob = answer.encode()
            seconds = answer.until - now
            call_redis(lambda: self.client.set(REDIS_PREFIX + key, blob, ex=seconds), "answer")

    def forget(self, key: str) -> None:
        """Drop the answer kept here under the key (one that no longer holds)."""
        with self._lock:
            self._forget(key)

    def _keep(self, key: str, answer: KeptAnswer) -> None:
        with self._lock:
            self._forget(key)
            self._items[key] = answer
            self._size += len(answer.body)
            while self._size > self.local_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped.body)

    def _forget(self, key: str) -> None:
        dropped = self._items.pop(key, None)
        if dropped is not None:
            self._size -= len(dropped.body)
