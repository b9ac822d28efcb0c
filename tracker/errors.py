"""Error types the tracker raises, and the Problem record that validation collects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is and what to do about it."""

    message: str
    file: str | None = None
    line: int | None = None
    obligation_id: str | None = None
    field: str | None = None
    severity: str = "error"

    def location(self) -> str:
        """Return 'file:line' (or what is known of it) for messages."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or "-"

    def __str__(self) -> str:
        parts = [self.location()]
        if self.obligation_id:
            parts.append(self.obligation_id)
        if self.field:
            parts.append(self.field)
        return f"{': '.join(parts)}: {self.message}"


class TrackerError(Exception):
    """Root of the tracker's own errors; the message is meant for a person."""


class CatalogError(TrackerError):
    """The obligation catalog cannot be read or is invalid."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NotFoundError(TrackerError):
    """A thing asked for by id or key does not exist."""


class ValidationError(TrackerError):
    """Input from a person or a script is not acceptable."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ReportError(TrackerError):
    """A test report cannot be read; line and column say where, when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class ReportTooLargeError(ReportError):
    """A test report is larger than allowed (after decompression)."""


class JiraError(TrackerError):
    """Jira refused or failed a request; the message says what to do about it."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable

    @property
    def transient(self) -> bool:
        """Whether Jira may answer otherwise later (429, 5xx, no answer): worth a later retry."""
        # Any other 4xx (even 408 or 409, which a request may repeat at once) stays the same.
        status = self.status
        return self.retryable and (status is None or status == 429 or status >= 500)


class ForbiddenError(TrackerError):
    """The one asking may not do this (a token outside its limits, ...); nothing was changed."""


class ConflictError(TrackerError):
    """The operation cannot run now (another sync holds the lock, a duplicate, ...)."""
