"""The obligation page's content, kept per obligation and brought up to date part by part.

What the page shows of the obligation (catalog text, mappings, versions, links, tests, status,
decision, proposal, risks) is the same for every viewer, and costs about twenty queries. It is
kept with the data generation it was read at, in Redis for every worker when TRACKER_REDIS_URL
is set (as JSON checked against the page's types when read back: nothing is unpickled, and a
value that does not fit is a miss), else in this process. A later request asks the generation's
change log (tracker.generation) what was written since:

- nothing that changes this obligation: the kept content is still true;
- only test reports, one of which changes this obligation (a report changes the obligations
  linked to its tests, and writes nothing but tests, their links, runs and results): only its
  tests and status are read again (tracker.services.obligations.obligation_evidence);
- anything else, or a change log that no longer reaches back that far: all of it is read again.

The status is also read again when it would age with no write (evidence getting old) and after
the matrix cache's time bucket, and all of it every ten minutes (READ_IN_FULL_AFTER).

The audit history is kept with its marker (a count and the newest id of the obligation's audit
events, read for each request: audit events move no generation) and read again when the marker
moved. Not kept: a rejected form's errors and values, and pages of a release's scope (a report
can name a release, which changes how every obligation's work counts in it). The viewer's own
parts (their role's buttons, the CSRF token) are rendered for each request around what is kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy.engine import Connection

from tracker.generation import changes_since
from tracker.redis_claims import call_redis, redis_client
from tracker.services.dpia_mitigations import MitigatedRisk
from tracker.services.evidence import EvidenceScope
from tracker.web.applicability.page import WhySection
from tracker.web.jira.page import EpicForm
from tracker.web.obligations.page import HistoryItem, ObligationPage

log = logging.getLogger(__name__)

EXTENSION = "tracker.obligation_pages"
DEFAULT_ENTRIES = 4096
REDIS_PREFIX = "tracker:obligation-page:"
#: What no test report changes (catalog text, mappings, versions, work items, decision,
#: proposal, risks) is read in full again after this even when no write says it changed.
READ_IN_FULL_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class PageParts:
    """What the page shows apart from the viewer's parts and the audit history."""

    page: ObligationPage
    epic_form: EpicForm | None
    why: WhySection | None
    mitigates: list[MitigatedRisk]
    #: The audit history as it was when the marker read history_marker (audit events move
    #: no data generation: a page whose marker moved reads its history again).
    history: list[HistoryItem]
    history_marker: str


@dataclass
class _Entry:
    parts: PageParts
    generation: str
    #: When the whole content is read again (READ_IN_FULL_AFTER).
    read_again: datetime
    #: When its tests and status are read again: the end of the time bucket, or sooner
    #: when the status would age with no write.
    expires: datetime

    def encode(self) -> bytes:
        """Return the entry as kept in Redis: a JSON line of when it holds, then the parts."""
        head = {
            "generation": self.generation,
            "read_again": self.read_again.timestamp(),
            "expires": self.expires.timestamp(),
        }
        return json.dumps(head).encode() + b"\n" + bytes(_parts_type().dump_json(self.parts))

    @classmethod
    def decode(cls, blob: bytes) -> _Entry | None:
        """Return the entry kept in blob, None when it is not one (another version's, say)."""
        from pydantic import ValidationError

        line, newline, rest = blob.partition(b"\n")
        parts_type = _parts_type()
        try:
            head = json.loads(line)
            return cls(
                parts=parts_type.validate_json(rest),
                generation=str(head["generation"]),
                read_again=datetime.fromtimestamp(float(head["read_again"]), UTC),
                expires=datetime.fromtimestamp(float(head["expires"]), UTC),
            )
        except (ValidationError, ValueError, KeyError, TypeError, OverflowError, OSError):
            return None


@cache
def _parts_type() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(PageParts)


Key = tuple[str, EvidenceScope, bool]
Made = tuple[PageParts, datetime | None]


class ObligationPages:
    """The kept contents by obligation, scope and Jira setting: in Redis when given (shared
    by every worker), else a bounded LRU in this process (thread-safe)."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, client: Any = None) -> None:
        self.entries = entries
        self.client = client
        self._items: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(
        self,
        connection: Connection,
        key: Key,
        generation: str | None,
        now: datetime,
        make: Callable[[], Made],
        refresh: Callable[[PageParts], Made],
        max_age: timedelta,
    ) -> tuple[PageParts, datetime | None]:
        """Return the content, from what is kept when it is still true, else made again.

        make() reads all of it, refresh(parts) only what a test report changes; each also
        returns the moment its status would age. The status is read again after max_age at
        most (the time bucket), all of it after READ_IN_FULL_AFTER. The answer comes with the
        moment the content stops being true. generation must have been read before anything
        make() or refresh() reads (None: a write of this request is not committed yet, so
        nothing is kept or used).
        """
        if generation is None:
            return make()
        entry = self._find(key)
        if entry is not None and now < entry.read_again:
            current = self._evidence_current(connection, entry, key[0], generation, now)
            if current is True:
                # Still true now: this process's later checks start here (what Redis holds
                # keeps its own stamp; writing the page again only to move it costs more).
                entry.generation = generation
                return entry.parts, entry.expires
            if current is False:
                parts, change = refresh(entry.parts)
                until = min(entry.read_again, now + max_age, change or entry.read_again)
                self._keep(key, _Entry(parts, generation, entry.read_again, until), now)
                return parts, until
        parts, change = make()
        read_again = now + max(max_age, READ_IN_FULL_AFTER)
        until = min(now + max_age, change or read_again)
        self._keep(key, _Entry(parts, generation, read_again, until), now)
        return parts, until

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def _evidence_current(
        connection: Connection, entry: _Entry, obligation_id: str, generation: str, now: datetime
    ) -> bool | None:
        """Return True: all still true; False: only tests and status changed; None: unknown."""
        if entry.generation != generation:
            changed = changes_since(connection, entry.generation, generation)
            if changed is None:
                return None
            if obligation_id in changed:
                return False
        return now < entry.expires

    def _find(self, key: Key) -> _Entry | None:
        if self.client is None:
            with self._lock:
                entry = self._items.get(key)
                if entry is not None:
                    self._items.move_to_end(key)
                return entry
        blob = call_redis(lambda: self.client.get(_redis_key(key)), "obligation page")
        return _Entry.decode(blob) if isinstance(blob, bytes) else None

    def _keep(self, key: Key, entry: _Entry, now: datetime) -> None:
        if self.client is None:
            with self._lock:
                self._items[key] = entry
                self._items.move_to_end(key)
                while len(self._items) > self.entries:
                    self._items.popitem(last=False)
            return
        seconds = max(1, int((entry.read_again - now).total_seconds() + 1))
        try:
            blob = entry.encode()
        except (ValueError, TypeError):  # not storable as JSON: made again next time
            log.warning("An obligation page could not be kept in Redis; it is read in full.")
            return
        call_redis(lambda: self.client.set(_redis_key(key), blob, ex=seconds), "obligation page")


def _redis_key(key: Key) -> str:
    obligation_id, scope, jira_configured = key
    text = "\x1f".join(
        (
            obligation_id,
            scope.release or "",
            scope.branch or "",
            scope.environment or "",
            scope.default_branch,
            "jira" if jira_configured else "",
        )
    )
    return REDIS_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def obligation_pages(app: Flask | None = None) -> ObligationPages | None:
    """Return the app's kept obligation pages (None when the matrix cache is turned off)."""
    app = app or current_app
    if app.config.get("MATRIX_CACHE_ENTRIES", 1) <= 0:
        return None
    found: ObligationPages | None = app.extensions.get(EXTENSION)
    if found is None:
        url = app.config.get("REDIS_URL")
        client = redis_client(url) if url else None
        found = app.extensions.setdefault(EXTENSION, ObligationPages(client=client))
    return found
