"""Periodic reviews: recording each review, in a campaign or outside one.

This module is also where the rest of the reviews' use cases are reached from: what is due
(`review_items`), campaigns (`review_campaigns`) and who may do what (`review_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.domain.reviews import (
    ITEM_KINDS,
    KIND_WORDS,
    NOT_CONFORMING,
    OUTCOME_WORDS,
    ReviewItem,
)
from tracker.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from tracker.models import Review, as_utc, utcnow
from tracker.services.audit import record_event
from tracker.services.review_campaigns import (
    MAX_CAMPAIGN_DAYS,
    MAX_CAMPAIGN_ITEMS,
    MAX_CAMPAIGN_NAME,
    MAX_NOTE,
    AssignedReview,
    CampaignCreated,
    CampaignDetail,
    CampaignProgress,
    create_campaign,
    get_campaign,
    list_campaigns,
    open_reviews_of,
)
from tracker.services.review_items import (
    item_titles,
    overdue_by_owner,
    overdue_obligation_reviews,
    owner_of,
    resolve_items,
    review_items,
    reviews_by_owner,
)
from tracker.services.review_rules import (
    MAX_FINDING,
    checked_outcome,
    is_person,
    manages,
    may_manage,
    may_record,
    may_review_item,
    require_recorder,
)

__all__ = [
    "MAX_CAMPAIGN_DAYS",
    "MAX_CAMPAIGN_ITEMS",
    "MAX_CAMPAIGN_NAME",
    "MAX_FINDING",
    "MAX_NOTE",
    "AssignedReview",
    "CampaignCreated",
    "CampaignDetail",
    "CampaignProgress",
    "ItemReviewed",
    "create_campaign",
    "findings_outside_campaigns",
    "get_campaign",
    "get_review",
    "list_campaigns",
    "may_manage",
    "may_record",
    "may_review_item",
    "open_reviews_of",
    "overdue_by_owner",
    "overdue_obligation_reviews",
    "record_ad_hoc_review",
    "record_item_review",
    "record_review",
    "resolve_items",
    "review_items",
    "reviews_by_owner",
]

#: At most this many findings of reviews outside campaigns are listed.
MAX_LISTED_FINDINGS = 50


@dataclass(frozen=True)
class ItemReviewed:
    """A review recorded outside a campaign, and the item's review as it now stands."""

    review: Review
    item: ReviewItem

    @property
    def not_conforming(self) -> bool:
        """Return whether the review found the item not conforming."""
        return self.review.outcome == NOT_CONFORMING

    @property
    def message(self) -> str:
        """Return one line a person can read."""
        item = self.item
        words = OUTCOME_WORDS.get(self.review.outcome or "", self.review.outcome or "")
        days = item.days_left
        return (
            f"Recorded review #{self.review.id} of the {KIND_WORDS[item.kind]} {item.id} as "
            f"{words}; its next review is due on {item.due_on.isoformat()} "
            f"(in {days} day{'' if days == 1 else 's'})."
        )


def get_review(*, session: Session, review_id: int) -> Review:
    """Return a review; NotFoundError when there is no such review."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFoundError(f"There is no review #{review_id}.")
    return review


def record_review(
    *, session: Session, review_id: int, outcome: str, finding: str | None, actor: Actor
) -> Review:
    """Record an assigned review's outcome, once: by its reviewer or one who manages reviews."""
    outcome, finding = checked_outcome(outcome, finding)
    review = get_review(session=session, review_id=review_id)
    if not may_record(actor, review):
        raise ForbiddenError(
            f"Review #{review.id} is assigned to {review.reviewer}: only they, or someone who "
            "manages reviews (compliance or admin), may record it."
        )
    require_recorder(actor)
    if review.outcome is not None:
        raise ConflictError(_recorded_already(review))
    now = utcnow()
    # Guarded by outcome IS NULL: of two people recording at once, only one succeeds.
    changed = session.execute(
        update(Review)
        .where(col(Review.id) == review.id, col(Review.outcome).is_(None))
        .values(outcome=outcome, finding=finding, reviewed_by=actor.label, reviewed_at=now)
    )
    if getattr(changed, "rowcount", 1) != 1:
        session.expire(review)
        raise ConflictError(_recorded_already(get_review(session=session, review_id=review_id)))
    session.expire(review)
    _audit_recorded(session, actor, review, outcome, finding)
    return review


def record_item_review(
    *,
    session: Session,
    kind: str,
    item_id: str,
    outcome: str,
    finding: str | None,
    actor: Actor,
    today: date | None = None,
) -> ItemReviewed:
    """Record a review, made today, of an item that is reviewed; return when it is due next.

    NotFoundError for an unknown kind or item, ConflictError for an item that is not reviewed
    (an obligation legal decided does not apply, a group of obligations, a draft activity);
    ForbiddenError unless the actor owns the item or manages reviews.
    """
    today = today or utcnow().date()
    if kind not in ITEM_KINDS:
        raise NotFoundError(
            f"There is no kind of item '{kind[:20]}' to review: use one of {', '.join(ITEM_KINDS)}."
        )
    owner_of(session, kind, item_id)  # NotFoundError when there is no such item
    if _reviewed_item(session, kind, item_id, today) is None:
        reason = (
            "legal decided it does not apply, or it is a group of other obligations"
            if kind == "obligation"
            else "it is not active"
        )
        raise ConflictError(f"The {KIND_WORDS[kind]} {item_id[:80]} is not reviewed: {reason}.")
    review = record_ad_hoc_review(
        session=session,
        kind=kind,
        item_id=item_id,
        outcome=outcome,
        finding=finding,
        actor=actor,
    )
    after = _reviewed_item(session, kind, item_id, today)
    assert after is not None  # noqa: S101 - it was reviewed a moment ago, in this transaction
    return ItemReviewed(review, after)


def record_ad_hoc_review(
    *,
    session: Session,
    kind: str,
    item_id: str,
    outcome: str,
    finding: str | None,
    actor: Actor,
    at: datetime | None = None,
) -> Review:
    """Record a review of an item outside any campaign: by its owner or one who manages reviews.

    `at` is when the review was made (default: now); it cannot be in the future.
    """
    if kind not in ITEM_KINDS:
        raise ValidationError(
            f"Unknown kind of item '{kind[:20]}'; use one of {', '.join(ITEM_KINDS)}.", "kind"
        )
    owner = owner_of(session, kind, item_id)
    if not ((owner is not None and is_person(actor, owner)) or manages(actor)):
        raise ForbiddenError(
            f"The {KIND_WORDS[kind]} {item_id} is reviewed by {owner or 'nobody named'}: only its "
            "owner, or someone who manages reviews (compliance or admin), may record a review "
            "of it outside a campaign."
        )
    require_recorder(actor)
    outcome, finding = checked_outcome(outcome, finding)
    now = utcnow()
    when = as_utc(at) if at is not None else now
    if when > now:
        raise ValidationError("A review cannot be recorded as made in the future.", "at")
    review = Review(
        item_kind=kind,
        item_id=item_id,
        reviewer=actor.label,
        outcome=outcome,
        finding=finding,
        reviewed_by=actor.label,
        reviewed_at=when,
        created_at=now,
    )
    session.add(review)
    session.flush()
    _audit_recorded(session, actor, review, outcome, finding)
    return review


def findings_outside_campaigns(
    *, session: Session, limit: int = MAX_LISTED_FINDINGS
) -> list[AssignedReview]:
    """Return the newest not-conforming reviews recorded outside campaigns, with item titles."""
    rows = session.exec(
        select(Review)
        .where(col(Review.campaign_id).is_(None), col(Review.outcome) == NOT_CONFORMING)
        .order_by(col(Review.reviewed_at).desc(), col(Review.id).desc())
        .limit(limit)
    ).all()
    titles = item_titles(session, [(review.item_kind, review.item_id) for review in rows])
    return [
        AssignedReview(review, titles.get((review.item_kind, review.item_id), ""))
        for review in rows
    ]


# --- private helpers -------------------------------------------------------------------------


def _reviewed_item(session: Session, kind: str, item_id: str, today: date) -> ReviewItem | None:
    for item in review_items(session=session, today=today):
        if item.kind == kind and item.id == item_id:
            return item
    return None


def _recorded_already(review: Review) -> str:
    when = as_utc(review.reviewed_at).date().isoformat() if review.reviewed_at else "earlier"
    words = OUTCOME_WORDS.get(review.outcome or "", review.outcome or "")
    return (
        f"Review #{review.id} was recorded already, as {words}, by {review.reviewed_by} on "
        f"{when}; a recorded review is not changed. Record a new review of the item instead."
    )


def _audit_recorded(
    session: Session, actor: Actor, review: Review, outcome: str, finding: str | None
) -> None:
    record_event(
        session=session,
        actor=actor,
        action="review.recorded",
        entity_type="review",
        entity_id=str(review.id),
        before={"outcome": None},
        after={
            "item": f"{review.item_kind}:{review.item_id}",
            "campaign": review.campaign_id,
            "outcome": outcome,
            "finding": finding,
        },
    )
