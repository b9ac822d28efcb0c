"""How a task says it failed while keeping what it did."""

from __future__ import annotations

from typing import Any

from tracker.errors import TrackerError


class JobFailed(TrackerError):
    """The job did part of its work; the message says what failed, the result what was done."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


class RetryLater(TrackerError):
    """A passing failure (the database or a service was away): the job is tried again later."""
