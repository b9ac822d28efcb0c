"""Review campaigns: compliance assigns a set of items' reviews to a reviewer, due on a date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tracker.domain.access import Actor, Permission, Role, role_allows
from tracker.domain.reviews import ITEM_KINDS, KIND_WORDS, NOT_CONFORMING
from tracker.domain.text_rules import text_problem
from tracker.errors import NotFoundError, ValidationError
from tracker.models import Review, ReviewCampaign, User, column_length, utcnow
from tracker.services.audit import EventSpec, record_events
from tracker.services.review_items import Item, item_titles, review_items
from tracker.services.review_rules import checked_text, require_manager

MAX_CAMPAIGN_ITEMS = 500
MAX_CAMPAIGN_DAYS = 730  # a campaign is due within two years
MAX_NOTE = 2000
MAX_CAMPAIGN_NAME = column_length(ReviewCampaign, "name")


@dataclass(frozen=True)
class CampaignProgress:
    """A campaign and how far its reviews got."""

    campaign: ReviewCampaign
    total: int
    recorded: int
    not_conforming: int

    @property
    def open(self) -> int:
        """Return how many of its reviews are still to be recorded."""
        return self.total - self.recorded


@dataclass(frozen=True)
class AssignedReview:
    """A review with the title of what it is about, as pages list it."""

    review: Review
    title: str
    campaign_name: str | None = None


@dataclass(frozen=True)
class CampaignDetail:
    """A campaign with each of its reviews."""

    progress: CampaignProgress
    reviews: list[AssignedReview]


@dataclass(frozen=True)
class CampaignCreated:
    """What creating a campaign made."""

    campaign: ReviewCampaign
    reviews: int

    @property
    def message(self) -> str:
        """Return one line a person can read."""
        return (
            f"Campaign #{self.campaign.id} '{self.campaign.name}' assigns {self.reviews} "
            f"review(s), due on {self.campaign.due_on.isoformat()}."
        )


def create_campaign(
    *,
    session: Session,
    name: str,
    due_on: date | None,
    items: Sequence[Item],
    reviewer: str,
    note: str | None,
    actor: Actor,
    today: date | None = None,
) -> CampaignCreated:
    """Assign reviews of the items to a reviewer, due on a date; audited."""
    require_manager(actor, "create a review campaign")
    today = today or utcnow().date()
    name = checked_text("name", name, MAX_CAMPAIGN_NAME, required=True, multiline=False)
    note = checked_text("note", note or "", MAX_NOTE, required=False, multiline=True) or None
    if due_on is None:
        raise ValidationError("Give the campaign's due date, e.g. a month from now.", "due_on")
    if due_on < today:
        raise ValidationError(
            f"The due date {due_on.isoformat()} has passed: choose today or a later day.", "due_on"
        )
    latest = today + timedelta(days=MAX_CAMPAIGN_DAYS)
    if due_on > latest:
        raise ValidationError(
            f"Choose a due date within two years (by {latest.isoformat()}).",
            "due_on",
        )
    assignee = _reviewer(session, reviewer)
    chosen = list(dict.fromkeys(items))
    if not chosen:
        raise ValidationError("Choose at least one item to review.", "items")
    if len(chosen) > MAX_CAMPAIGN_ITEMS:
        raise ValidationError(
            f"A campaign reviews at most {MAX_CAMPAIGN_ITEMS} items; {len(chosen)} were chosen. "
            "Split it into several campaigns.",
            "items",
        )
    _require_reviewable(session, chosen, today)
    campaign = ReviewCampaign(
        name=name, due_on=due_on, note=note, created_by=actor.label, created_at=utcnow()
    )
    session.add(campaign)
    session.flush()
    reviews = [
        Review(
            campaign_id=campaign.id,
            item_kind=kind,
            item_id=item_id,
            reviewer=assignee.email,
            due_on=due_on,
        )
        for kind, item_id in chosen
    ]
    session.add_all(reviews)
    session.flush()
    events = [
        EventSpec(
            "review_campaign.created",
            "review_campaign",
            str(campaign.id),
            after={
                "name": name,
                "due_on": due_on.isoformat(),
                "reviewer": assignee.email,
                "items": len(reviews),
                "note": note,
            },
        )
    ] + [
        EventSpec(
            "review.assigned",
            "review",
            str(review.id),
            after={
                "campaign": campaign.id,
                "item": f"{review.item_kind}:{review.item_id}",
                "reviewer": review.reviewer,
                "due_on": due_on.isoformat(),
            },
        )
        for review in reviews
    ]
    record_events(session=session, actor=actor, events=events)
    return CampaignCreated(campaign, len(reviews))


def list_campaigns(*, session: Session) -> list[CampaignProgress]:
    """Return every campaign, newest first, with its progress (two queries)."""
    campaigns = session.exec(
        select(ReviewCampaign).order_by(
            col(ReviewCampaign.created_at).desc(), col(ReviewCampaign.id).desc()
        )
    ).all()
    counts = _progress_counts(session)
    return [_progress(campaign, counts) for campaign in campaigns]


def get_campaign(*, session: Session, campaign_id: int) -> CampaignDetail:
    """Return a campaign and its reviews; NotFoundError when there is no such campaign."""
    campaign = session.get(ReviewCampaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"There is no review campaign #{campaign_id}.")
    reviews = session.exec(
        select(Review).where(col(Review.campaign_id) == campaign_id).order_by(col(Review.id))
    ).all()
    titles = item_titles(session, [(review.item_kind, review.item_id) for review in reviews])
    return CampaignDetail(
        progress=_progress(campaign, _progress_counts(session, campaign_id)),
        reviews=[
            AssignedReview(review, titles.get((review.item_kind, review.item_id), ""))
            for review in reviews
        ],
    )


def open_reviews_of(*, session: Session, reviewer: str) -> list[AssignedReview]:
    """Return the reviews assigned to someone and not recorded yet, soonest due first."""
    rows = session.exec(
        select(Review, ReviewCampaign.name)
        .join(ReviewCampaign, col(ReviewCampaign.id) == col(Review.campaign_id), isouter=True)
        .where(col(Review.reviewer) == reviewer.strip().lower(), col(Review.outcome).is_(None))
        .order_by(col(Review.due_on), col(Review.id))
        .limit(MAX_CAMPAIGN_ITEMS)
    ).all()
    titles = item_titles(session, [(review.item_kind, review.item_id) for review, _ in rows])
    return [
        AssignedReview(review, titles.get((review.item_kind, review.item_id), ""), name)
        for review, name in rows
    ]


# --- private helpers -------------------------------------------------------------------------


def _require_reviewable(session: Session, items: list[Item], today: date) -> None:
    reviewable = {(item.kind, item.id) for item in review_items(session=session, today=today)}
    missing = [item for item in items if item not in reviewable]
    if not missing:
        return
    for kind, _item_id in missing:
        if kind not in ITEM_KINDS:
            raise ValidationError(
                f"Unknown kind of item '{kind[:20]}'; use one of {', '.join(ITEM_KINDS)}.", "items"
            )
    titles = item_titles(session, missing)
    kind, item_id = missing[0]
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    if (kind, item_id) in titles:
        reason = (
            "legal decided it does not apply, or it is a group of other obligations"
            if kind == "obligation"
            else "it is retired or not active"
        )
        raise ValidationError(
            f"The {KIND_WORDS[kind]} {item_id[:80]}{more} is not reviewed: {reason}.", "items"
        )
    raise ValidationError(f"There is no {KIND_WORDS[kind]} '{item_id[:80]}'{more}.", "items")


def _reviewer(session: Session, email: str) -> User:
    address = (email or "").strip().lower()
    if not address:
        raise ValidationError("Choose the reviewer (the e-mail of their account).", "reviewer")
    problem = text_problem("reviewer", address, column_length(User, "email"))
    if problem is not None:
        raise ValidationError(problem, "reviewer")
    user = session.exec(select(User).where(col(User.email) == address)).first()
    if user is None or not user.active:
        state = "is disabled" if user is not None else "does not exist"
        raise ValidationError(
            f"The account {address} {state}: choose an active account as the reviewer.", "reviewer"
        )
    if not role_allows(Role(user.role), Permission.RECORD_REVIEWS):
        raise ValidationError(
            f"{address} is a {user.role} and may not record reviews: choose an engineer, legal, "
            "compliance or admin account.",
            "reviewer",
        )
    return user


def _progress_counts(
    session: Session, campaign_id: int | None = None
) -> dict[int, tuple[int, int, int]]:
    not_conforming = func.sum(case((col(Review.outcome) == NOT_CONFORMING, 1), else_=0))
    query = core_select(
        col(Review.campaign_id),
        func.count(col(Review.id)),
        func.count(col(Review.outcome)),
        not_conforming,
    ).where(col(Review.campaign_id).is_not(None))
    if campaign_id is not None:
        query = query.where(col(Review.campaign_id) == campaign_id)
    rows = session.execute(query.group_by(col(Review.campaign_id))).all()
    return {int(cid): (int(total), int(done), int(bad or 0)) for cid, total, done, bad in rows}


def _progress(
    campaign: ReviewCampaign, counts: dict[int, tuple[int, int, int]]
) -> CampaignProgress:
    total, done, bad = counts.get(campaign.id or 0, (0, 0, 0))
    return CampaignProgress(campaign, total, done, bad)
