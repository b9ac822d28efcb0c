"""A not-conforming review's finding as a Jira issue: opened once, linked where it belongs.

The issue is created through the gateway's epic creation, as the epics for gaps are, but it
is the review's own issue: one per review (not one per obligation and project, which the
epic of a gap is), and whatever the obligation's status (a verified obligation can still be
found not conforming). Its idempotency follows the epics': the key is kept on the review,
and the issue carries a label naming the review, so that an issue created by a call whose
answer was lost is found by its label and adopted instead of being created twice.

A finding about an obligation links the issue to it (with the obligation's label, as the
epics are, so a Jira sync keeps the link): the obligation shows the open work until it is
done. A finding about a processing activity or a DPIA is not linked to obligations: it is
not a gap in any one of them, and linking it to each obligation the item involves would mark
them all as in progress. Its description names the item, its page and, for a DPIA, the
obligations its mitigations rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from tracker.domain.access import Actor
from tracker.domain.reviews import KIND_WORDS, NOT_CONFORMING
from tracker.errors import ConflictError, ForbiddenError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import IssueSummary
from tracker.models import Dpia, Obligation, Review, as_utc
from tracker.services.audit import record_event
from tracker.services.jira_epics import PROJECT_KEY
from tracker.services.links import link_work_item
from tracker.services.review_items import item_titles
from tracker.services.reviews import get_review, may_record
from tracker.services.work_items import JIRA_ORIGIN, obligation_label

REVIEW_LABEL = "privacy-review"
_PAGES = {"obligation": "obligations", "activity": "data-map/activities", "dpia": "dpias"}


@dataclass(frozen=True)
class FindingIssue:
    """The Jira issue of a review's finding, and whether this call created it."""

    key: str
    created: bool
    message: str


def review_label(review: Review) -> str:
    """Return the label that names the review on its issue (unique across databases too)."""
    stamp = int(as_utc(review.created_at).timestamp())
    return f"tracker-review-{review.id}-{stamp}"


def check_finding(*, session: Session, review_id: int, actor: Actor) -> Review:
    """Return the review if an issue may be opened for it by the actor, or raise why not."""
    review = get_review(session=session, review_id=review_id)
    if not may_record(actor, review):
        raise ForbiddenError(
            f"Review #{review.id} is {review.reviewer}'s: only they, or someone who manages "
            "reviews (compliance or admin), may open a Jira issue for its finding."
        )
    if review.outcome != NOT_CONFORMING:
        state = "is not recorded yet" if review.outcome is None else "found the item conforming"
        raise ConflictError(
            f"Review #{review.id} {state}: only a not-conforming finding opens a Jira issue."
        )
    return review


def open_issue_for_finding(
    *,
    session: Session,
    gateway: JiraGateway,
    review_id: int,
    project_key: str,
    actor: Actor,
    public_url: str,
) -> FindingIssue:
    """Open (once) the Jira issue of a not-conforming review; a second call finds the first."""
    review = check_finding(session=session, review_id=review_id, actor=actor)
    if review.work_item_key:
        return FindingIssue(
            review.work_item_key,
            False,
            f"{review.work_item_key} already tracks the finding of review #{review.id}.",
        )
    project_key = (project_key or "").strip().upper()
    if not PROJECT_KEY.match(project_key):
        raise ValidationError(
            f"'{project_key[:40]}' is not a Jira project key (e.g. PRIV).", field="project"
        )
    obligation = (
        session.get(Obligation, review.item_id) if review.item_kind == "obligation" else None
    )
    label = review_label(review)
    existing = [
        key
        for key in gateway.find_issue_keys_with_label(label)
        if key.startswith(project_key + "-")
    ]
    known: IssueSummary | None = None
    if existing:
        key, created = existing[0], False
    else:
        summary = _summary(session, review)
        labels = [label, REVIEW_LABEL]
        if obligation is not None:
            labels.append(obligation_label(obligation.id))
        key = gateway.create_epic(
            project_key, summary, _description(session, review, public_url), labels
        )
        created = True
        known = IssueSummary(
            key=key,
            summary=summary,
            issue_type="Epic",
            status="not yet synced",
            status_category="new",
            url="",
        )
    review.work_item_key = key
    session.add(review)
    record_event(
        session=session,
        actor=actor,
        action="review.issue_opened" if created else "review.issue_found",
        entity_type="review",
        entity_id=str(review.id),
        after={
            "work_item": key,
            "project": project_key,
            "item": f"{review.item_kind}:{review.item_id}",
        },
    )
    if obligation is not None and obligation.assessable and obligation.retired_at is None:
        # As with a gap's epic: a created issue is linked with what the create call sent, an
        # adopted one is looked up first (nothing was created if that fails).
        link_work_item(
            session=session,
            obligation_id=obligation.id,
            key=key,
            actor=actor,
            origin=JIRA_ORIGIN,
            gateway=None if created else gateway,
            known=known,
        )
    verb = "Opened" if created else "Found"
    return FindingIssue(key, created, f"{verb} {key} for the finding of review #{review.id}.")


def _title(session: Session, review: Review) -> str:
    item = (review.item_kind, review.item_id)
    return item_titles(session, [item]).get(item, "")


def _summary(session: Session, review: Review) -> str:
    title = _title(session, review)
    words = KIND_WORDS.get(review.item_kind, review.item_kind)
    return (f"Review finding: {words} {review.item_id}" + (f": {title}" if title else ""))[:250]


def _description(session: Session, review: Review, public_url: str) -> str:
    base = public_url.rstrip("/")
    words = KIND_WORDS.get(review.item_kind, review.item_kind)
    page = f"{base}/{_PAGES.get(review.item_kind, '')}/{review.item_id}"
    when = as_utc(review.reviewed_at).date().isoformat() if review.reviewed_at else "?"
    lines = [
        f"h2. Review finding: {words} {review.item_id}",
        "",
        f"*Not conforming*, found by {review.reviewed_by} on {when} "
        f"(review #{review.id} in the tracker: {base}/reviews"
        + (f"/campaigns/{review.campaign_id}" if review.campaign_id else "")
        + ").",
        f"*In the tracker:* {page}",
        "",
        "h3. Finding",
        review.finding or "",
    ]
    if review.item_kind == "dpia":
        dpia = session.get(Dpia, review.item_id)
        obligations = sorted(
            {
                ob_id
                for risk in (dpia.spec.get("risks", []) if dpia else [])
                for mitigation in risk.get("mitigations", [])
                for ob_id in mitigation.get("obligations", [])
            }
        )
        if obligations:
            lines += ["", "h3. Obligations its mitigations rely on", ", ".join(obligations)]
    return "\n".join(lines)
