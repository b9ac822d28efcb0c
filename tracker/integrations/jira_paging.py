"""Paging a Data Center search past its offset limit: page tokens and keyset windows."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_records import IssueRecord, SearchPage

LOG = logging.getLogger(__name__)

#: Data Center refuses offsets past its max_result_window (default 10,000) with a 500.
MAX_OFFSET = 10_000

_CURSOR_PREFIX = "dc1."


@dataclass(frozen=True)
class DataCenterCursor:
    """Where a Data Center search stands: offset, keyset window, what the window repeats."""

    start: int = 0
    floor: datetime | None = None
    seen: frozenset[tuple[str, datetime]] = field(default_factory=frozenset)

    def encode(self) -> str:
        """Return the opaque page token that decode() turns back into this cursor."""
        state = {
            "start": self.start,
            "floor": self.floor.isoformat() if self.floor else None,
            "seen": sorted([key, moment.isoformat()] for key, moment in self.seen),
        }
        packed = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode())
        return _CURSOR_PREFIX + packed.decode()

    @classmethod
    def decode(cls, token: str) -> DataCenterCursor:
        """Return the cursor a page token stands for; ValidationError if we did not issue it."""
        try:
            if not token.startswith(_CURSOR_PREFIX):
                raise ValueError("unknown prefix")
            state = json.loads(base64.urlsafe_b64decode(token[len(_CURSOR_PREFIX) :]))
            return cls(
                start=int(state["start"]),
                floor=datetime.fromisoformat(state["floor"]) if state["floor"] else None,
                seen=frozenset(
                    (str(key), datetime.fromisoformat(moment)) for key, moment in state["seen"]
                ),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ValidationError(
                "The search page token is not one this gateway issued; start the search again.",
                field="page_token",
            ) from None


def datacenter_page(
    cursor: DataCenterCursor,
    records: Sequence[IssueRecord],
    *,
    total: object,
    page_size: int,
    lower: datetime | None,
    read: int | None = None,
    problems: tuple[str, ...] = (),
) -> SearchPage:
    """Return the records not returned before, with the token for the next request, if any.

    records is what a search from cursor returned, total the total Jira reported with it,
    and lower the updated bound that search used; read counts the issues Jira returned,
    including those that could not be read (problems says which), when it differs.
    """
    fresh = tuple(r for r in records if (r.key, r.updated) not in cursor.seen)
    returned = len(records) if read is None else read
    reached = cursor.start + returned
    if not returned or (isinstance(total, int) and reached >= total):
        return SearchPage(issues=fresh, next_token=None, is_last=True, problems=problems)
    seen = _newest_minute(cursor.seen | {(r.key, r.updated) for r in records})
    if reached + page_size <= MAX_OFFSET:
        following = DataCenterCursor(start=reached, floor=cursor.floor, seen=seen)
    elif not records:
        raise JiraError(
            "A whole page of issues Jira returned could not be read, at the point where Jira "
            "Data Center needs their update times to page on: fix the issues named below in "
            "Jira, or narrow TRACKER_JIRA_JQL, and sync again. " + " ".join(problems)
        )
    else:
        following = DataCenterCursor(start=0, floor=_next_window(records, lower), seen=seen)
    return SearchPage(issues=fresh, next_token=following.encode(), is_last=False, problems=problems)


def _next_window(records: Sequence[IssueRecord], lower: datetime | None) -> datetime:
    # Restart at the newest minute seen: JQL dates have minute precision, and the
    # seen set skips what was already returned within that minute.
    floor = _minute(max(record.updated for record in records))
    if lower is not None and floor <= _minute(lower):
        raise JiraError(
            f"More than {MAX_OFFSET} issues matching the JQL were updated within one minute "
            f"({floor:%Y-%m-%d %H:%M} UTC); Jira Data Center cannot page past that. "
            "Narrow TRACKER_JIRA_JQL (for example by project) and sync again."
        )
    LOG.info("Jira search reached offset %d; continuing from updated >= %s", MAX_OFFSET, floor)
    return floor


def _newest_minute(pairs: frozenset[tuple[str, datetime]]) -> frozenset[tuple[str, datetime]]:
    # Only issues in the newest minute can come back when a window restarts there.
    if not pairs:
        return pairs
    floor = _minute(max(moment for _, moment in pairs))
    return frozenset(pair for pair in pairs if pair[1] >= floor)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
