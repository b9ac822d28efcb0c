"""When computed statuses change with no write at all: evidence ageing past its freshness."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tracker.domain.status import PASSING_OUTCOMES, ObligationFacts

ONE_DAY = timedelta(days=1)
#: Statuses compare "older than the window" strictly: the change is just after the boundary.
JUST_AFTER = timedelta(microseconds=1)


def next_status_change(facts: Iterable[ObligationFacts], now: datetime) -> datetime | None:
    """Return the first moment after now at which a status or its explanation may read otherwise.

    A passing result turns stale once it is older than its freshness window; a stale one's
    explanation counts its age in whole days. Failing and skipped results, work items and
    decisions change only by a write. None: nothing here changes with time.
    """
    earliest: datetime | None = None
    for obligation in facts:
        for test in obligation.tests:
            latest = test.latest
            if latest is None or latest.outcome not in PASSING_OUTCOMES:
                continue
            age = now - latest.at
            if age <= obligation.freshness:
                moment = latest.at + obligation.freshness + JUST_AFTER
            else:
                moment = latest.at + ONE_DAY * (age.days + 1)
            if earliest is None or moment < earliest:
                earliest = moment
    return earliest
