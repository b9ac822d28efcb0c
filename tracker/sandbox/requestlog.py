"""Request log and per-kind counters of the sandbox, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

# Zero-initialised so that a benchmark can read any of them without a KeyError.
KNOWN_KINDS: tuple[str, ...] = (
    "server_info",
    "myself",
    "field",
    "search",
    "approximate_count",
    "issue_get",
    "issue_create",
    "issue_update",
    "issue_delete",
    "transition_get",
    "transition_post",
    "comment_get",
    "comment_post",
    "remotelink_get",
    "remotelink_post",
    "remotelink_put",
    "remotelink_delete",
    "project_get",
    "project_versions",
    "version_get",
    "issuetype",
    "status",
    "applinks",
    "other",
)


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the sandbox received it."""

    at: datetime
    method: str
    path: str
    query: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        """Return the record as JSON-ready values."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class RequestLog:
    """Thread-safe bounded log of requests plus counters per endpoint kind."""

    def __init__(self, max_records: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._counts: Counter[str] = Counter()
        self._faults = 0

    def record(self, method: str, path: str, query: str, kind: str) -> None:
        """Append one request and count it under its kind."""
        entry = RequestRecord(datetime.now(UTC), method, path, query, kind)
        with self._lock:
            self._records.append(entry)
            self._counts[kind] += 1

    def record_fault(self) -> None:
        """Count one injected fault response."""
        with self._lock:
            self._faults += 1

    def stats(self) -> dict[str, int]:
        """Return counts by kind, plus 'total' and 'faults_injected'."""
        with self._lock:
            counts = {kind: 0 for kind in KNOWN_KINDS}
            counts.update(self._counts)
            counts["total"] = sum(self._counts.values())
            counts["faults_injected"] = self._faults
            return counts

    def records(self, limit: int | None = None) -> list[RequestRecord]:
        """Return the most recent records, oldest first."""
        with self._lock:
            items = list(self._records)
        return items[-limit:] if limit else items

    entries = records  # the name some callers reach for first

    def reset(self) -> None:
        """Forget all records and counters."""
        with self._lock:
            self._records.clear()
            self._counts.clear()
            self._faults = 0
