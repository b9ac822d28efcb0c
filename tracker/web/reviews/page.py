"""The reviews pages' view objects: reviews due per owner, campaigns, and review forms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tracker.domain.reviews import (
    KIND_WORDS,
    NOT_CONFORMING,
    OUTCOME_WORDS,
    OwnerReviews,
    ReviewItem,
    ReviewState,
)
from tracker.models import Review, as_utc
from tracker.services.review_campaigns import AssignedReview, CampaignDetail, CampaignProgress

#: At most this many reviews are listed per owner; the count says how many more there are.
ROWS_PER_OWNER = 200
STATE_CSS = {
    ReviewState.OVERDUE: "st-failing",
    ReviewState.DUE_SOON: "st-gap",
    ReviewState.FINE: "st-verified",
}
OUTCOME_CSS = {"conforming": "st-verified", NOT_CONFORMING: "st-failing"}
#: How a campaign's items are chosen on the form.
SELECTIONS: tuple[tuple[str, str], ...] = (
    ("overdue", "Every overdue review"),
    ("due", "Every review overdue or due within 30 days"),
    ("activities", "Every active processing activity"),
    ("dpias", "Every DPIA"),
    ("listed", "The items listed below"),
)
_PAGES = {"obligation": "/obligations/", "activity": "/data-map/activities/", "dpia": "/dpias/"}


@dataclass(frozen=True)
class DueRow:
    """One item's review in an owner's list, with the form to record it if the viewer may."""

    kind: str
    kind_key: str
    id: str
    title: str
    href: str
    last: str
    every: str
    due: str
    state: str
    state_css: str
    when: str
    may_record: bool


@dataclass(frozen=True)
class OwnerSection:
    """One owner's overdue and upcoming reviews."""

    owner: str
    overdue: int
    rows: list[DueRow]
    more: int

    @property
    def recordable(self) -> bool:
        """Return whether the viewer may record a review of any of its rows."""
        return any(row.may_record for row in self.rows)


@dataclass(frozen=True)
class CampaignRow:
    """One campaign in the list, with its progress."""

    id: int
    name: str
    due: str
    progress: str
    percent: int
    not_conforming: int
    created_by: str
    closed: bool


@dataclass(frozen=True)
class ReviewRow:
    """One assigned review, with what the viewer may do with it."""

    id: int
    kind: str
    item_id: str
    title: str
    href: str
    reviewer: str
    campaign: str | None
    campaign_id: int | None
    due: str
    state: str
    state_css: str
    finding: str | None
    reviewed: str
    work_item_key: str | None
    may_record: bool
    may_open_issue: bool


@dataclass(frozen=True)
class ReviewsPage:
    """The /reviews page."""

    overdue: int
    due_soon: int
    owners: list[OwnerSection]
    mine: list[ReviewRow]
    findings: list[ReviewRow]
    campaigns: list[CampaignRow]
    may_manage: bool
    reviewers: list[tuple[str, str]]
    selections: tuple[tuple[str, str], ...]
    today: str
    jira_project: str | None  # None: Jira is not configured, so no issue can be opened


@dataclass(frozen=True)
class CampaignPage:
    """The page of one campaign."""

    campaign: CampaignRow
    note: str | None
    reviews: list[ReviewRow]
    jira_project: str | None  # None: Jira is not configured, so no issue can be opened


def reviews_page(
    *,
    groups: Sequence[OwnerReviews],
    mine: Sequence[AssignedReview],
    findings: Sequence[AssignedReview],
    campaigns: Sequence[CampaignProgress],
    may_manage: bool,
    may_record: set[int],
    may_review: set[tuple[str, str]],
    reviewers: list[tuple[str, str]],
    today: date,
    jira_project: str | None,
) -> ReviewsPage:
    """Build the /reviews page."""
    items = [item for group in groups for item in group.items]
    return ReviewsPage(
        overdue=sum(1 for item in items if item.state is ReviewState.OVERDUE),
        due_soon=sum(1 for item in items if item.state is ReviewState.DUE_SOON),
        owners=[
            OwnerSection(
                owner=group.owner,
                overdue=group.overdue,
                rows=[
                    _due_row(item, may_record=(item.kind, item.id) in may_review)
                    for item in group.items[:ROWS_PER_OWNER]
                ],
                more=max(0, len(group.items) - ROWS_PER_OWNER),
            )
            for group in groups
        ],
        mine=[
            review_row(assigned, may_record=assigned.review.id in may_record) for assigned in mine
        ],
        findings=[
            review_row(
                assigned, may_record=assigned.review.id in may_record, jira=jira_project is not None
            )
            for assigned in findings
        ],
        campaigns=[campaign_row(progress) for progress in campaigns],
        may_manage=may_manage,
        reviewers=reviewers,
        selections=SELECTIONS,
        today=today.isoformat(),
        jira_project=jira_project,
    )


def campaign_page(
    detail: CampaignDetail,
    *,
    may_record: set[int],
    jira_project: str | None,
) -> CampaignPage:
    """Build the page of one campaign."""
    name = detail.progress.campaign.name
    return CampaignPage(
        campaign=campaign_row(detail.progress),
        note=detail.progress.campaign.note,
        reviews=[
            review_row(
                AssignedReview(assigned.review, assigned.title, name),
                may_record=assigned.review.id in may_record,
                jira=jira_project is not None,
            )
            for assigned in detail.reviews
        ],
        jira_project=jira_project,
    )


def campaign_row(progress: CampaignProgress) -> CampaignRow:
    """Return a campaign as its row shows it."""
    campaign = progress.campaign
    percent = round(100 * progress.recorded / progress.total) if progress.total else 0
    return CampaignRow(
        id=campaign.id or 0,
        name=campaign.name,
        due=campaign.due_on.isoformat(),
        progress=f"{progress.recorded} of {progress.total} recorded",
        percent=percent,
        not_conforming=progress.not_conforming,
        created_by=campaign.created_by,
        closed=campaign.closed_at is not None,
    )


def review_row(assigned: AssignedReview, *, may_record: bool, jira: bool = True) -> ReviewRow:
    """Return an assigned review as its row shows it."""
    review: Review = assigned.review
    recorded = review.outcome is not None
    return ReviewRow(
        id=review.id or 0,
        kind=KIND_WORDS.get(review.item_kind, review.item_kind),
        item_id=review.item_id,
        title=assigned.title,
        href=_PAGES.get(review.item_kind, "/") + review.item_id,
        reviewer=review.reviewer,
        campaign=assigned.campaign_name,
        campaign_id=review.campaign_id,
        due=review.due_on.isoformat() if review.due_on else "",
        state=OUTCOME_WORDS.get(review.outcome or "", "to review") if recorded else "to review",
        state_css=OUTCOME_CSS.get(review.outcome or "", "st-planned"),
        finding=review.finding,
        reviewed=(
            f"{review.reviewed_by} on {as_utc(review.reviewed_at).date().isoformat()}"
            if recorded and review.reviewed_at
            else ""
        ),
        work_item_key=review.work_item_key,
        may_record=may_record and not recorded,
        may_open_issue=(
            may_record and jira and review.outcome == NOT_CONFORMING and not review.work_item_key
        ),
    )


def _due_row(item: ReviewItem, *, may_record: bool) -> DueRow:
    days = abs(item.days_left)
    if item.state is ReviewState.OVERDUE:
        when = f"{days} day{'s' if days != 1 else ''} overdue"
    elif item.days_left == 0:
        when = "due today"
    else:
        when = f"in {days} day{'s' if days != 1 else ''}"
    return DueRow(
        kind=KIND_WORDS.get(item.kind, item.kind),
        kind_key=item.kind,
        id=item.id,
        title=item.title,
        href=_PAGES.get(item.kind, "/") + item.id,
        last=(
            f"{item.last_reviewed_on.isoformat()}"
            + (f" ({OUTCOME_WORDS[item.last_outcome]})" if item.last_outcome else "")
            if item.last_reviewed_on
            else "never"
        ),
        every=f"{item.cadence_days} days",
        due=item.due_on.isoformat(),
        state=item.state.value,
        state_css=STATE_CSS[item.state],
        when=when,
        may_record=may_record,
    )
