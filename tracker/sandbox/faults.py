"""Fault injection for the sandbox: rate limits, outages and slow responses on demand."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Fault:
    """A rule that makes matching API requests slow or fail.

    `times=None` keeps the fault active until it is cleared. `status=None` with a
    `delay_seconds` only slows requests down. Matching is on a substring of the path
    and, optionally, on the HTTP method.
    """

    status: int | None = None
    retry_after: int | None = None
    times: int | None = None
    path_contains: str | None = None
    method: str | None = None
    delay_seconds: float = 0.0
    message: str | None = None
    reason: str = "jira-burst-based"

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be a whole number of seconds >= 0")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or omitted for 'until cleared')")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must be >= 0")
        if self.status is None and not self.delay_seconds:
            raise ValueError("a fault needs a status, a delay_seconds, or both")
        if self.method:
            self.method = self.method.upper()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from an admin-endpoint JSON body."""
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        try:
            return cls(
                status=_optional_int(data.get("status")),
                retry_after=_optional_int(data.get("retry_after")),
                times=_optional_int(data.get("times")),
                path_contains=data.get("path_contains"),
                method=data.get("method"),
                delay_seconds=float(data.get("delay_seconds") or 0.0),
                message=data.get("message"),
                reason=str(data.get("reason") or "jira-burst-based"),
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"invalid fault: {error}") from error

    def to_json(self) -> dict[str, Any]:
        """Return the fault as JSON-ready values."""
        return asdict(self)

    def matches(self, method: str, path: str) -> bool:
        """Return whether this fault applies to a request."""
        if self.method and self.method != method.upper():
            return False
        return not self.path_contains or self.path_contains in path


class FaultInjector:
    """Thread-safe list of active faults, consumed as requests match them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a fault; earlier faults are checked first."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """Return copies of the faults still active."""
        with self._lock:
            return [Fault(**asdict(fault)) for fault in self._faults]

    def take(self, method: str, path: str) -> list[Fault]:
        """Consume the faults that apply to a request, stopping at the first with a status."""
        taken: list[Fault] = []
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                taken.append(Fault(**asdict(fault)))
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                if fault.status is not None:
                    break
        return taken


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected a whole number, got {value!r}")
    return int(value)
