"""Who may record and manage periodic reviews, and what a recorded review must say."""

from __future__ import annotations

from tracker.domain.access import Actor, ActorKind, Permission, role_allows
from tracker.domain.reviews import NOT_CONFORMING, OUTCOMES
from tracker.domain.text_rules import text_problem
from tracker.errors import ForbiddenError, ValidationError
from tracker.models import Review

MAX_FINDING = 4000
#: A not-conforming finding says what does not conform, and where: at least this long.
MIN_FINDING = 10


def may_record(actor: Actor, review: Review) -> bool:
    """Return whether the actor may record the review: its reviewer, or one who manages reviews."""
    return is_person(actor, review.reviewer) or manages(actor)


def may_manage(actor: Actor) -> bool:
    """Return whether the actor may create campaigns and record any review."""
    return manages(actor)


def may_review_item(actor: Actor | None, owner: str | None) -> bool:
    """Return whether the actor may record a review of an item outside a campaign.

    That is its owner, or someone who manages reviews; either way a role that records reviews.
    """
    if actor is None or not may_record_reviews(actor):
        return False
    return (owner is not None and is_person(actor, owner)) or manages(actor)


def may_record_reviews(actor: Actor) -> bool:
    """Return whether the actor's role records reviews (an operator at the shell's does)."""
    if actor.kind is not ActorKind.USER:
        return True
    return actor.role is not None and role_allows(actor.role, Permission.RECORD_REVIEWS)


def manages(actor: Actor) -> bool:
    """Return whether the actor may manage reviews (an operator at the server's shell may)."""
    if actor.kind in (ActorKind.CLI, ActorKind.SYSTEM):
        return True
    return actor.role is not None and role_allows(actor.role, Permission.MANAGE_REVIEWS)


def is_person(actor: Actor, email: str) -> bool:
    """Return whether the actor is the person with this e-mail."""
    return actor.kind is ActorKind.USER and actor.name.strip().lower() == email.strip().lower()


def require_manager(actor: Actor, what: str) -> None:
    """Refuse an actor who does not manage reviews."""
    if not manages(actor):
        raise ForbiddenError(f"Only compliance or an admin may {what}.")


def require_recorder(actor: Actor) -> None:
    """Refuse a person whose role may not record reviews."""
    if actor.kind is ActorKind.USER and not may_record_reviews(actor):
        raise ForbiddenError("Your role may not record reviews: ask compliance or an admin.")


def checked_outcome(outcome: str, finding: str | None) -> tuple[str, str | None]:
    """Return the outcome and finding of a review, or raise what is missing or wrong."""
    value = (outcome or "").strip().lower().replace(" ", "_")
    if value not in OUTCOMES:
        raise ValidationError(
            "Say whether the item is conforming or not conforming.", field="outcome"
        )
    text = checked_text("finding", finding or "", MAX_FINDING, required=False, multiline=True)
    if value == NOT_CONFORMING and len(text) < MIN_FINDING:
        raise ValidationError(
            "Describe the finding (at least 10 characters): what does not conform, and where.",
            field="finding",
        )
    return value, text or None


def checked_text(name: str, value: str, maximum: int, *, required: bool, multiline: bool) -> str:
    """Return the stripped text, or raise what is wrong with it (missing, too long, control)."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"Give the {name.replace('_', ' ')}.", field=name)
    problem = text_problem(name, text, maximum, multiline)
    if problem is not None:
        raise ValidationError(problem, field=name)
    return text
