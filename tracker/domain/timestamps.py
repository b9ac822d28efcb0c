"""Times as JSON, exports and OSCAL write them: RFC 3339 in UTC with a Z, one way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339_utc(moment: datetime, *, fraction: bool = False) -> str:
    """Return the time in UTC as RFC 3339, such as 2026-12-01T15:19:59Z (naive times are UTC).

    To the second, unless fraction is set and the time has a fraction of a second, which is
    then kept (2026-12-01T15:19:59.250000Z).
    """
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    timespec = "microseconds" if fraction and aware.microsecond else "seconds"
    return aware.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"
