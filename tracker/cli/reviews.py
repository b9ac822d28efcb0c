"""`tracker reviews`: list the periodic reviews due per owner, record one outside a campaign."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from flask.cli import AppGroup, with_appcontext

from tracker.cli.params import BoundedText, ColumnText
from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError

if TYPE_CHECKING:
    from tracker.domain.reviews import ReviewItem

KINDS = ["obligation", "activity", "dpia"]
OUTCOMES = ["conforming", "not_conforming"]
MAX_FINDING = 4000


@click.group("reviews", cls=AppGroup)
def reviews() -> None:
    """Periodic reviews: list what is due per owner, record a review outside a campaign."""


@reviews.command("due")
@click.option(
    "--owner",
    type=BoundedText(200),
    help="Only this owner's reviews (as the catalog or data map names them; '(no owner)').",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_appcontext
def due_command(owner: str | None, fmt: str) -> None:
    """List the overdue reviews and those due within 30 days, per owner, soonest first."""
    from sqlmodel import Session

    from tracker.domain.reviews import ReviewState
    from tracker.models import utcnow
    from tracker.services.review_items import reviews_by_owner

    with Session(get_engine()) as session:
        groups = reviews_by_owner(
            session=session,
            today=utcnow().date(),
            states=(ReviewState.OVERDUE, ReviewState.DUE_SOON),
        )
    if owner is not None:
        wanted = owner.strip().lower()
        groups = [group for group in groups if group.owner.lower() == wanted]
    if fmt == "json":
        rows = [_json_row(item) for group in groups for item in group.items]
        click.echo(json.dumps(rows, indent=2))
        return
    if not groups:
        whose = f" of {owner}" if owner else ""
        click.echo(f"No review{whose} is overdue or due within 30 days.")
        return
    for group in groups:
        click.echo(f"{group.owner}: {group.overdue} overdue, {len(group.items)} in all")
        for item in group.items:
            days = abs(item.days_left)
            when = (
                f"{days} day{'s' if days != 1 else ''} overdue"
                if item.state is ReviewState.OVERDUE
                else f"due in {days} day{'s' if days != 1 else ''}"
            )
            last = item.last_reviewed_on.isoformat() if item.last_reviewed_on else "never"
            click.echo(
                f"  {item.due_on.isoformat()}  {item.kind} {item.id}  {item.title}  "
                f"({when}; last review {last})"
            )


@reviews.command("record")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("item_id", metavar="ID", type=ColumnText("Review", "item_id"))
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option(
    "--finding",
    type=BoundedText(MAX_FINDING),
    help="What does not conform, and where (required when not conforming).",
)
@click.option(
    "--as",
    "as_email",
    required=True,
    type=ColumnText("User", "email"),
    help="The account recording it: the item's owner, or compliance or an admin.",
)
@with_appcontext
def record_command(
    kind: str, item_id: str, outcome: str, finding: str | None, as_email: str
) -> None:
    """Record a review, made today, of an item outside any campaign; its next one moves on."""
    from tracker.domain.access import Permission, needed_roles_text, role_allows
    from tracker.services.accounts import find_user, user_actor
    from tracker.services.reviews import record_item_review

    try:
        with session_scope(get_engine()) as session:
            user = find_user(session, as_email)
            if not user.active:
                raise click.ClickException(
                    f"The account {user.email} is disabled: record the review as an active one."
                )
            who = user_actor(user)
            if who.role is None or not role_allows(who.role, Permission.RECORD_REVIEWS):
                raise click.ClickException(
                    f"{user.email} is a {user.role} and may not record reviews: that takes the "
                    f"{needed_roles_text(Permission.RECORD_REVIEWS)} role."
                )
            done = record_item_review(
                session=session,
                kind=kind,
                item_id=item_id,
                outcome=outcome,
                finding=finding,
                actor=who,
            )
            message = done.message
            not_conforming = done.not_conforming
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(message)
    if not_conforming:
        click.echo(
            "Its finding is listed under Findings outside campaigns on the reviews page "
            "(/reviews), where a Jira issue can be opened for it."
        )


def _json_row(item: ReviewItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "title": item.title,
        "owner": item.owner,
        "due_on": item.due_on.isoformat(),
        "state": item.state.name.lower(),
        "last_reviewed_on": (
            item.last_reviewed_on.isoformat() if item.last_reviewed_on is not None else None
        ),
    }
