"""Periodic reviews: due per owner, campaigns, recording a review, a finding's Jira issue."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.db import get_session
from tracker.domain.access import Actor, Permission, Role, role_allows
from tracker.domain.reviews import OUTCOME_WORDS, ReviewState
from tracker.errors import ValidationError
from tracker.integrations.jira_setup import NOT_CONFIGURED, jira_settings
from tracker.models import Review, User, utcnow
from tracker.services.accounts import list_users
from tracker.services.review_campaigns import (
    MAX_CAMPAIGN_NAME,
    MAX_NOTE,
    create_campaign,
    get_campaign,
    list_campaigns,
    open_reviews_of,
)
from tracker.services.review_issues import check_finding
from tracker.services.review_items import SELECTIONS, choose_items, reviews_by_owner
from tracker.services.review_rules import MAX_FINDING, may_manage, may_record, may_review_item
from tracker.services.reviews import (
    findings_outside_campaigns,
    record_item_review,
    record_review,
)
from tracker.web.auth import current_actor, current_identity, requires
from tracker.web.jobs.starting import start_job
from tracker.web.request_args import date_arg, text_arg
from tracker.web.reviews.page import campaign_page, reviews_page

reviews = Blueprint("reviews", __name__)

MAX_LISTED = 20_000  # the ids of 500 items, one a line
MAX_EMAIL = 254
#: The first project key a JQL names, offered as the project of a finding's issue.
_JQL_PROJECT = re.compile(r"\bproject\s*(?:=|in\s*\()\s*\"?([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)


@reviews.get("/reviews")
@requires(Permission.READ)
def index() -> str:
    """Show overdue and upcoming reviews per owner, my reviews, and the campaigns."""
    return _index_page()


@reviews.post("/reviews/campaigns")
@requires(Permission.MANAGE_REVIEWS)
def create() -> ResponseReturnValue:
    """Create a campaign: assign the chosen items' reviews to a reviewer, due on a date."""
    form = request.form
    session = get_session()
    today = utcnow().date()
    try:
        name = text_arg(form, "name", MAX_CAMPAIGN_NAME) or ""
        due_on = date_arg(form, "due_on", "due date")
        reviewer = text_arg(form, "reviewer", MAX_EMAIL) or ""
        note = text_arg(form, "note", MAX_NOTE, multiline=True)
        selection = text_arg(form, "selection", 16) or ""
        listed = text_arg(form, "ids", MAX_LISTED, multiline=True) or ""
        with session.begin():
            items = choose_items(session=session, today=today, selection=selection, listed=listed)
            created = create_campaign(
                session=session,
                name=name,
                due_on=due_on,
                items=items,
                reviewer=reviewer,
                note=note,
                actor=current_actor(),
                today=today,
            )
    except ValidationError as exc:
        return _index_page(error=str(exc), values=dict(form)), 400
    flash(created.message, "success")
    return redirect(url_for("reviews.campaign", campaign_id=created.campaign.id), code=303)


@reviews.get("/reviews/campaigns/<int:campaign_id>")
@requires(Permission.READ)
def campaign(campaign_id: int) -> str:
    """Show a campaign: each review, its outcome and finding, and the forms to record them."""
    return _campaign_page(campaign_id)


@reviews.post("/reviews/<int:review_id>")
@requires(Permission.RECORD_REVIEWS)
def record(review_id: int) -> ResponseReturnValue:
    """Record a review's outcome and finding: its reviewer, or someone who manages reviews."""
    form = request.form
    session = get_session()
    try:
        outcome = text_arg(form, "outcome", 32) or ""
        finding = text_arg(form, "finding", MAX_FINDING, multiline=True)
        with session.begin():
            review = record_review(
                session=session,
                review_id=review_id,
                outcome=outcome,
                finding=finding,
                actor=current_actor(),
            )
            words = OUTCOME_WORDS.get(review.outcome or "", "")
            back = _back_to(review)
    except ValidationError as exc:
        return _page_of(review_id, str(exc), dict(form)), 400
    flash(f"Review #{review_id} recorded as {words}.", "success")
    return redirect(back, code=303)


@reviews.post("/reviews/items/<item_kind>/<item_id>")
@requires(Permission.RECORD_REVIEWS)
def record_item(item_kind: str, item_id: str) -> ResponseReturnValue:
    """Record a review of an item outside any campaign: its owner, or one who manages reviews."""
    form = request.form
    session = get_session()
    typed = dict(form) | {"item": f"{item_kind}:{item_id}"}
    try:
        outcome = text_arg(form, "outcome", 32) or ""
        finding = text_arg(form, "finding", MAX_FINDING, multiline=True)
        with session.begin():
            done = record_item_review(
                session=session,
                kind=item_kind,
                item_id=item_id,
                outcome=outcome,
                finding=finding,
                actor=current_actor(),
            )
            message = done.message
            not_conforming = done.not_conforming
    except ValidationError as exc:
        return _index_page(error=str(exc), values=typed), 400
    if not_conforming:
        message += " Its finding is listed under Findings outside campaigns"
        message += ", where you can open a Jira issue for it." if _jira_refusal() is None else "."
    flash(message, "success")
    return redirect(url_for("reviews.index") + ("#findings" if not_conforming else "#due"), 303)


@reviews.post("/reviews/<int:review_id>/issue")
@requires(Permission.RECORD_REVIEWS)
def open_issue(review_id: int) -> ResponseReturnValue:
    """Queue the opening (once) of a Jira issue for a review's not-conforming finding."""
    session = get_session()
    review = check_finding(session=session, review_id=review_id, actor=current_actor())
    back = _back_to(review)
    session.rollback()  # end the read before the job (which may run at once) writes
    project = (text_arg(request.form, "project", 32) or "").strip().upper()
    refusal = _jira_refusal()
    if refusal is None and not _JQL_PROJECT_KEY.fullmatch(project):
        refusal = f"'{project}' is not a Jira project key (e.g. PRIV)."
    if refusal is not None:
        flash(f"No Jira issue was opened. {refusal}", "error")
        return redirect(back, code=303)
    return start_job("review_issue", {"review_id": review_id, "project": project}, back=back)


# --- private helpers -------------------------------------------------------------------------

_JQL_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}")


def _index_page(error: str | None = None, values: dict[str, str] | None = None) -> str:
    session = get_session()
    if session.in_transaction():
        session.rollback()  # a refused form: show the page as it stands
    today = utcnow().date()
    identity = current_identity()
    actor = identity.actor if identity else None
    user = identity.user if identity else None
    mine = open_reviews_of(session=session, reviewer=user.email) if user else []
    findings = findings_outside_campaigns(session=session)
    manager = actor is not None and may_manage(actor)
    groups = reviews_by_owner(
        session=session, today=today, states=(ReviewState.OVERDUE, ReviewState.DUE_SOON)
    )
    page = reviews_page(
        groups=groups,
        mine=mine,
        findings=findings,
        campaigns=list_campaigns(session=session),
        may_manage=manager,
        may_record=_recordable(actor, [assigned.review for assigned in [*mine, *findings]]),
        may_review={
            (item.kind, item.id)
            for group in groups
            for item in group.items
            if may_review_item(actor, item.owner)
        },
        reviewers=_reviewers(list_users(session=session)) if manager else [],
        today=today,
        jira_project=_default_project(),
    )
    return render_template(
        "reviews/index.html",
        page=page,
        error=error,
        values=values or {},
        selection_words=SELECTIONS,
    )


def _campaign_page(
    campaign_id: int, error: str | None = None, values: dict[str, str] | None = None
) -> str:
    session = get_session()
    if session.in_transaction():
        session.rollback()
    detail = get_campaign(session=session, campaign_id=campaign_id)
    identity = current_identity()
    actor = identity.actor if identity else None
    page = campaign_page(
        detail,
        may_record=_recordable(actor, [assigned.review for assigned in detail.reviews]),
        jira_project=_default_project(),
    )
    return render_template("reviews/campaign.html", page=page, error=error, values=values or {})


def _page_of(review_id: int, error: str, values: dict[str, str]) -> str:
    """Return the page a refused review form came from, with the error (and what was typed)."""
    session = get_session()
    if session.in_transaction():
        session.rollback()
    review = session.get(Review, review_id)
    if review is not None and review.campaign_id is not None:
        return _campaign_page(review.campaign_id, error, values | {"review": str(review_id)})
    return _index_page(error, values | {"review": str(review_id)})


def _recordable(actor: Actor | None, rows: list[Review]) -> set[int]:
    """Return the ids of the reviews the actor may record (the buttons; the server checks)."""
    if actor is None or actor.role is None:
        return set()
    if not role_allows(actor.role, Permission.RECORD_REVIEWS):
        return set()
    return {review.id for review in rows if review.id is not None and may_record(actor, review)}


def _reviewers(users: list[User]) -> list[tuple[str, str]]:
    return [
        (user.email, f"{user.display_name} ({user.email}, {user.role})")
        for user in users
        if user.active and role_allows(Role(user.role), Permission.RECORD_REVIEWS)
    ]


def _back_to(review: Review) -> str:
    if review.campaign_id is not None:
        return url_for("reviews.campaign", campaign_id=review.campaign_id)
    return url_for("reviews.index")


def _jira_refusal() -> str | None:
    try:
        settings = jira_settings()
    except ValidationError as error:
        return str(error)
    return NOT_CONFIGURED if settings is None else None


def _default_project() -> str | None:
    """Return the project offered for a finding's issue ("" if none), None without Jira."""
    try:
        settings = jira_settings()
    except ValidationError:
        return None
    if settings is None:
        return None
    match = _JQL_PROJECT.search(settings.jql)
    return match.group(1).upper() if match else ""
