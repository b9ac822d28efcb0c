"""The obligation page's content, kept per obligation until a write changes that obligation.

What the page shows of the obligation (catalog text, mappings, versions, links, tests, status,
decision, proposal, risks) is the same for every viewer, and costs about twenty queries. It is
kept in this process with the data generation it was read at; a later request finds it still
true when the generation's change log (tracker.generation) says that no write since changed
this obligation (a test report changes only the obligations linked to its tests; any other
write counts as changing everything). It is also dropped when its status would age with no
write, or after the matrix cache's time bucket, whichever comes first.

Not kept: the audit history (read for each request: audit events move no generation), a
rejected form's errors and values, and pages of a release's scope (a report naming a release
changes how every obligation's work counts in it). The viewer's own parts (their role's
buttons, the CSRF token) are rendered for each request around what is kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy.engine import Connection

from tracker.generation import changes_since
from tracker.services.evidence import EvidenceScope

EXTENSION = "tracker.obligation_pages"
DEFAULT_ENTRIES = 4096


@dataclass(frozen=True)
class PageParts:
    """What the page shows apart from the viewer's parts and the audit history."""

    page: Any
    epic_form: Any
    why: Any
    mitigates: Any


@dataclass
class _Entry:
    parts: PageParts
    generation: str
    expires: datetime


class ObligationPages:
    """The kept contents by obligation, scope and Jira setting (a bounded LRU, thread-safe)."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[tuple[str, EvidenceScope, bool], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(
        self,
        connection: Connection,
        key: tuple[str, EvidenceScope, bool],
        generation: str | None,
        now: datetime,
        make: Callable[[], tuple[PageParts, datetime | None]],
        max_age: timedelta,
    ) -> tuple[PageParts, datetime | None]:
        """Return the kept parts if no write since changed the obligation, else make them.

        Also returned: the moment the parts stop being true (a status ageing, the end of
        max_age). generation must have been read before anything make() reads (None: a write
        of this request is not committed yet, so nothing is kept or used).
        """
        if generation is None:
            return make()
        found = self._still_true(connection, key, generation, now)
        if found is not None:
            return found
        parts, change = make()
        expires = now + max_age
        if change is not None and change < expires:
            expires = change
        with self._lock:
            self._items[key] = _Entry(parts, generation, expires)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return parts, expires

    def __len__(self) -> int:
        return len(self._items)

    def _still_true(
        self,
        connection: Connection,
        key: tuple[str, EvidenceScope, bool],
        generation: str,
        now: datetime,
    ) -> tuple[PageParts, datetime] | None:
        with self._lock:
            entry = self._items.get(key)
        if entry is None or now >= entry.expires:
            return None
        if entry.generation != generation:
            changed = changes_since(connection, entry.generation, generation)
            if changed is None or key[0] in changed:
                return None
            entry.generation = generation  # still true now: the next check starts here
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
        return entry.parts, entry.expires


def obligation_pages(app: Flask | None = None) -> ObligationPages | None:
    """Return the app's kept obligation pages (None when the matrix cache is turned off)."""
    app = app or current_app
    if app.config.get("MATRIX_CACHE_ENTRIES", 1) <= 0:
        return None
    found: ObligationPages | None = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(EXTENSION, ObligationPages())
    return found
