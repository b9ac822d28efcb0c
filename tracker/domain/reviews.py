"""Periodic reviews: when an item is due, whether it is overdue, and who owns which reviews.

An obligation, a processing activity or a DPIA is reviewed every `review_every_days` (its own
cadence, else the default of its kind). Its next review is due one cadence after its newest
recorded review (conforming or not), or after it first entered the tracker when it was never
reviewed. For a DPIA, a sign-off counts as a review too, and the date the sign-off names for
the next review is the due date (when the sign-off is newer than the last review).

| state | when |
|---|---|
| overdue | the due date has passed |
| due soon | it is due within 30 days (today included) |
| fine | otherwise |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from tracker.domain.data_map_vocabulary import DEFAULT_REVIEW_EVERY_DAYS
from tracker.domain.release_verdict import ReleaseVerdict

#: The kinds of item that are reviewed, in the order pages list them.
ITEM_KINDS: tuple[str, ...] = ("obligation", "activity", "dpia")
KIND_WORDS: dict[str, str] = {
    "obligation": "obligation",
    "activity": "processing activity",
    "dpia": "DPIA",
}
#: A review is "due soon" this many days ahead of its due date.
DUE_SOON_DAYS = 30
#: What a recorded review says; a finding is required when it is not conforming.
CONFORMING = "conforming"
NOT_CONFORMING = "not_conforming"
OUTCOMES: tuple[str, ...] = (CONFORMING, NOT_CONFORMING)
OUTCOME_WORDS: dict[str, str] = {CONFORMING: "conforming", NOT_CONFORMING: "not conforming"}
NO_OWNER = "(no owner)"


class ReviewState(StrEnum):
    """Where an item's periodic review stands today."""

    OVERDUE = "overdue"
    DUE_SOON = "due soon"
    FINE = "fine"


@dataclass(frozen=True)
class ReviewFacts:
    """What the due date of one item's review is computed from."""

    kind: str
    id: str
    title: str
    owner: str | None
    review_every_days: int | None
    created_on: date
    last_reviewed_on: date | None = None
    last_outcome: str | None = None
    #: A DPIA's newest sign-off: when it was signed and the next review date it set.
    signed_on: date | None = None
    next_review_on: date | None = None


@dataclass(frozen=True)
class ReviewItem:
    """One item's periodic review: its owner, cadence, last review, due date and state."""

    kind: str
    id: str
    title: str
    owner: str | None
    cadence_days: int
    last_reviewed_on: date | None
    last_outcome: str | None
    due_on: date
    state: ReviewState
    days_left: int  # negative when overdue

    @property
    def owner_label(self) -> str:
        """Return the owner as pages group by it."""
        return self.owner or NO_OWNER


@dataclass(frozen=True)
class OwnerReviews:
    """The reviews one owner has to make, soonest due first."""

    owner: str
    items: tuple[ReviewItem, ...]

    @property
    def overdue(self) -> int:
        """Return how many of them are overdue."""
        return sum(1 for item in self.items if item.state is ReviewState.OVERDUE)


def cadence(kind: str, review_every_days: int | None) -> int:
    """Return how many days apart an item's reviews are: its own cadence, else its kind's."""
    if review_every_days is not None and review_every_days > 0:
        return review_every_days
    return DEFAULT_REVIEW_EVERY_DAYS[kind]


def due_date(facts: ReviewFacts) -> date:
    """Return when the item's next review is due (see the module's rule)."""
    every = timedelta(days=cadence(facts.kind, facts.review_every_days))
    review_due = facts.last_reviewed_on + every if facts.last_reviewed_on is not None else None
    if facts.signed_on is not None and facts.next_review_on is not None:
        if facts.last_reviewed_on is None or facts.signed_on >= facts.last_reviewed_on:
            return facts.next_review_on
    if review_due is not None:
        return review_due
    return facts.created_on + every


def review_state(due_on: date, today: date) -> ReviewState:
    """Return whether a review due on a date is overdue, due soon or fine today."""
    if due_on < today:
        return ReviewState.OVERDUE
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return ReviewState.DUE_SOON
    return ReviewState.FINE


def assess(facts: ReviewFacts, today: date) -> ReviewItem:
    """Return the item's review as of today."""
    due_on = due_date(facts)
    last = facts.last_reviewed_on
    if facts.signed_on is not None and (last is None or facts.signed_on >= last):
        last = facts.signed_on
    return ReviewItem(
        kind=facts.kind,
        id=facts.id,
        title=facts.title,
        owner=facts.owner,
        cadence_days=cadence(facts.kind, facts.review_every_days),
        last_reviewed_on=last,
        last_outcome=facts.last_outcome,
        due_on=due_on,
        state=review_state(due_on, today),
        days_left=(due_on - today).days,
    )


def by_owner(items: Iterable[ReviewItem]) -> list[OwnerReviews]:
    """Group reviews per owner: owners with the most overdue first, each one's soonest first."""
    groups: dict[str, list[ReviewItem]] = {}
    for item in items:
        groups.setdefault(item.owner_label, []).append(item)
    found = [
        OwnerReviews(owner, tuple(sorted(rows, key=_soonest))) for owner, rows in groups.items()
    ]
    return sorted(found, key=lambda group: (-group.overdue, group.owner == NO_OWNER, group.owner))


def block_overdue(verdict: ReleaseVerdict, overdue: Mapping[str, date]) -> ReleaseVerdict:
    """Return the verdict with each obligation whose review is overdue blocking the release.

    An obligation excepted for the release stays excepted: the accepted risk covers it.
    """
    changed = []
    for item in verdict.obligations:
        due_on = overdue.get(item.id)
        if due_on is None or item.exception_id is not None:
            changed.append(item)
            continue
        reason = f"Its periodic review is overdue (it was due on {due_on.isoformat()})."
        changed.append(replace(item, blocking=True, reasons=(*item.reasons, reason)))
    return replace(
        verdict,
        ready=not any(item.blocking for item in changed),
        obligations=tuple(changed),
    )


def _soonest(item: ReviewItem) -> tuple[date, int, str]:
    return (item.due_on, ITEM_KINDS.index(item.kind), item.id)
