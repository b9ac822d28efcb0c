"""What is reviewed, and when: every item's review as of a day, per owner, and item look-ups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select as core_select
from sqlmodel import Session, col

from tracker.domain.reviews import (
    ITEM_KINDS,
    KIND_WORDS,
    OwnerReviews,
    ReviewFacts,
    ReviewItem,
    ReviewState,
    assess,
    by_owner,
)
from tracker.errors import NotFoundError, ValidationError
from tracker.models import (
    Dpia,
    DpiaSignOff,
    Obligation,
    ProcessingActivity,
    Review,
    as_utc,
)
from tracker.services.applicability_proposals import current_decisions

#: At most this many items are named in one list (a campaign's).
MAX_LISTED_ITEMS = 500

Item = tuple[str, str]  # (kind, id)


def review_items(*, session: Session, today: date) -> list[ReviewItem]:
    """Return the review of every item that is reviewed, soonest due first.

    Those are the applicable, assessable obligations that are not retired (one legal decided
    does not apply is not reviewed), the active processing activities and every DPIA.
    """
    items = [assess(facts, today) for facts in _facts(session)]
    return sorted(items, key=lambda item: (item.due_on, ITEM_KINDS.index(item.kind), item.id))


def reviews_by_owner(
    *, session: Session, today: date, states: Iterable[ReviewState] = tuple(ReviewState)
) -> list[OwnerReviews]:
    """Return the reviews in the given states grouped per owner."""
    wanted = set(states)
    return by_owner(
        item for item in review_items(session=session, today=today) if item.state in wanted
    )


def overdue_by_owner(*, session: Session, today: date) -> list[OwnerReviews]:
    """Return the overdue reviews grouped per owner, the owners with most overdue first."""
    return reviews_by_owner(session=session, today=today, states=(ReviewState.OVERDUE,))


def overdue_obligation_reviews(
    *, session: Session, obligation_ids: Iterable[str], today: date
) -> dict[str, date]:
    """Return the due date of each of these obligations whose review is overdue."""
    wanted = set(obligation_ids)
    return {
        item.id: item.due_on
        for item in review_items(session=session, today=today)
        if item.kind == "obligation" and item.id in wanted and item.state is ReviewState.OVERDUE
    }


def item_titles(session: Session, items: Iterable[Item]) -> dict[Item, str]:
    """Return the title of each item that exists (one query per kind named)."""
    wanted: dict[str, set[str]] = {}
    for kind, item_id in items:
        wanted.setdefault(kind, set()).add(item_id)
    found: dict[Item, str] = {}
    for kind, ids in wanted.items():
        if kind not in _TITLES:
            continue
        key, title = _TITLES[kind]
        rows = session.execute(core_select(key, title).where(key.in_(sorted(ids)))).all()
        found.update(((kind, str(item_id)), str(text)) for item_id, text in rows)
    return found


def resolve_items(*, session: Session, text: str) -> list[Item]:
    """Return the items a list names, one per line or comma: an id, or kind:id when ambiguous."""
    names = [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]
    if len(names) > MAX_LISTED_ITEMS:
        raise ValidationError(
            f"List at most {MAX_LISTED_ITEMS} items; {len(names)} were listed.", "ids"
        )
    explicit: list[Item] = []
    bare: list[str] = []
    for name in names:
        kind, _, rest = name.partition(":")
        if rest and kind.strip().lower() in ITEM_KINDS:
            explicit.append((kind.strip().lower(), rest.strip()))
        else:
            bare.append(name)
    known = item_titles(session, [(kind, name) for kind in ITEM_KINDS for name in bare])
    resolved: list[Item] = []
    unknown: list[str] = []
    for name in bare:
        kinds = [kind for kind in ITEM_KINDS if (kind, name) in known]
        if not kinds:
            unknown.append(name)
        elif len(kinds) > 1:
            raise ValidationError(
                f"'{name[:80]}' names a {' and a '.join(KIND_WORDS[k] for k in kinds)}: write "
                f"{kinds[0]}:{name[:80]} to say which.",
                "ids",
            )
        else:
            resolved.append((kinds[0], name))
    if unknown:
        shown = ", ".join(item[:80] for item in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise ValidationError(
            f"No obligation, processing activity or DPIA has the id {shown}: check the list.",
            "ids",
        )
    return explicit + resolved


def owner_of(session: Session, kind: str, item_id: str) -> str | None:
    """Return who reviews an item; NotFoundError when there is no such item to review."""
    row: Obligation | ProcessingActivity | Dpia | None
    if kind == "obligation":
        row = session.get(Obligation, item_id)
    elif kind == "activity":
        row = session.get(ProcessingActivity, item_id)
    else:
        row = session.get(Dpia, item_id)
    if row is None or row.retired_at is not None:
        raise NotFoundError(f"There is no {KIND_WORDS[kind]} '{item_id[:80]}' to review.")
    return row.owner


_TITLES = {
    "obligation": (col(Obligation.id), col(Obligation.title)),
    "activity": (col(ProcessingActivity.id), col(ProcessingActivity.name)),
    "dpia": (col(Dpia.id), col(Dpia.title)),
}


def _facts(session: Session) -> list[ReviewFacts]:
    last = _last_reviews(session)
    decided = {key: view.not_applicable for key, view in current_decisions(session).items()}
    facts: list[ReviewFacts] = []
    obligations = session.execute(
        core_select(
            col(Obligation.id),
            col(Obligation.title),
            col(Obligation.owner),
            col(Obligation.review_every_days),
            col(Obligation.created_at),
        ).where(
            col(Obligation.retired_at).is_(None),
            col(Obligation.assessable).is_(True),
            col(Obligation.lifecycle_status) != "retired",
        )
    ).all()
    for ob_id, title, owner, every, created in obligations:
        if decided.get(ob_id):
            continue  # legal decided it does not apply: nothing to review
        facts.append(_fact("obligation", ob_id, title, owner, every, created, last))
    activities = session.execute(
        core_select(
            col(ProcessingActivity.id),
            col(ProcessingActivity.name),
            col(ProcessingActivity.owner),
            col(ProcessingActivity.review_every_days),
            col(ProcessingActivity.created_at),
        ).where(
            col(ProcessingActivity.retired_at).is_(None), col(ProcessingActivity.status) == "active"
        )
    ).all()
    for item_id, title, owner, every, created in activities:
        facts.append(_fact("activity", item_id, title, owner, every, created, last))
    signoffs = _last_signoffs(session)
    dpias = session.execute(
        core_select(
            col(Dpia.id),
            col(Dpia.title),
            col(Dpia.owner),
            col(Dpia.review_every_days),
            col(Dpia.created_at),
        ).where(col(Dpia.retired_at).is_(None))
    ).all()
    for item_id, title, owner, every, created in dpias:
        fact = _fact("dpia", item_id, title, owner, every, created, last)
        signed = signoffs.get(item_id)
        if signed is not None:
            fact = replace(fact, signed_on=signed[0], next_review_on=signed[1])
        facts.append(fact)
    return facts


def _fact(
    kind: str,
    item_id: str,
    title: str,
    owner: str | None,
    every: int | None,
    created: datetime,
    last: dict[Item, tuple[date, str]],
) -> ReviewFacts:
    reviewed = last.get((kind, item_id))
    return ReviewFacts(
        kind=kind,
        id=item_id,
        title=title,
        owner=owner,
        review_every_days=every,
        created_on=as_utc(created).date(),
        last_reviewed_on=reviewed[0] if reviewed else None,
        last_outcome=reviewed[1] if reviewed else None,
    )


def _last_reviews(session: Session) -> dict[Item, tuple[date, str]]:
    rows = session.execute(
        core_select(
            col(Review.item_kind), col(Review.item_id), col(Review.reviewed_at), col(Review.outcome)
        )
        .where(col(Review.outcome).is_not(None), col(Review.reviewed_at).is_not(None))
        .order_by(col(Review.reviewed_at), col(Review.id))
    ).all()
    return {(kind, item_id): (as_utc(at).date(), outcome) for kind, item_id, at, outcome in rows}


def _last_signoffs(session: Session) -> dict[str, tuple[date, date]]:
    rows = session.execute(
        core_select(
            col(DpiaSignOff.dpia_id), col(DpiaSignOff.signed_at), col(DpiaSignOff.next_review_on)
        ).order_by(col(DpiaSignOff.signed_at), col(DpiaSignOff.id))
    ).all()
    return {dpia_id: (as_utc(signed).date(), next_on) for dpia_id, signed, next_on in rows}


#: The ways a campaign's items are chosen, and what each picks (said when it picks none).
SELECTIONS: dict[str, str] = {
    "overdue": "overdue review",
    "due": "review overdue or due within 30 days",
    "activities": "active processing activity",
    "dpias": "DPIA",
    "listed": "",
}


def choose_items(*, session: Session, today: date, selection: str, listed: str) -> list[Item]:
    """Return the items a campaign form chooses: by a rule (all overdue, ...) or listed by id."""
    if selection == "listed":
        return resolve_items(session=session, text=listed)
    if selection not in SELECTIONS:
        raise ValidationError(
            "Choose which items the campaign reviews: every overdue review, every review due "
            "soon, every activity, every DPIA, or the items you list.",
            "selection",
        )
    picked = [
        item
        for item in review_items(session=session, today=today)
        if (selection == "overdue" and item.state is ReviewState.OVERDUE)
        or (selection == "due" and item.state is not ReviewState.FINE)
        or (selection == "activities" and item.kind == "activity")
        or (selection == "dpias" and item.kind == "dpia")
    ]
    if not picked:
        raise ValidationError(
            f"There is no {SELECTIONS[selection]} now: choose other items.", "selection"
        )
    return [(item.kind, item.id) for item in picked]
