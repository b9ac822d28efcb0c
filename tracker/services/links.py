"""Linking obligations to work items and tests, reviewing suspect links, applicability."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar, cast

from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.errors import NotFoundError, ValidationError
from tracker.models import (
    ApplicabilityDecision,
    Obligation,
    TestCase,
    TestLink,
    WorkItem,
    WorkItemLink,
    utcnow,
)
from tracker.services.audit import record_event

JIRA_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,9}$")
MAX_TEST_ID_LENGTH = 1000

_Link = TypeVar("_Link", WorkItemLink, TestLink)


@dataclass(frozen=True)
class LinkOutcome:
    """What a link operation did."""

    created: bool
    message: str


def get_obligation(session: Session, obligation_id: str) -> Obligation:
    """Return an obligation or raise NotFoundError with a helpful message."""
    obligation = session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFoundError(f"No obligation '{obligation_id}' in the catalog.")
    return obligation


def link_work_item(
    *, session: Session, obligation_id: str, key: str, actor: Actor, origin: str = "manual"
) -> LinkOutcome:
    """Link a Jira work item to an obligation; linking twice does nothing."""
    obligation = get_obligation(session, obligation_id)
    key = key.strip().upper()
    if not JIRA_KEY_PATTERN.match(key):
        raise ValidationError(
            f"'{key}' is not a Jira key: use the form PROJECT-123, e.g. PRIV-42.", field="key"
        )
    if _active(session, WorkItemLink, obligation.id, work_item_key=key) is not None:
        return LinkOutcome(False, f"{key} is already linked to {obligation.id}.")
    if session.get(WorkItem, key) is None:
        # Known once the next Jira sync runs; until then it shows as not yet synced.
        session.add(WorkItem(key=key, summary="", status="not yet synced", status_category="new"))
        session.flush()
    link = WorkItemLink(work_item_key=key, **_new_link(obligation, actor, origin))
    _add(session, link, obligation, actor, origin, {"work_item": key})
    return LinkOutcome(True, f"Linked {key} to {obligation.id}.")


def unlink_work_item(
    *, session: Session, obligation_id: str, key: str, actor: Actor, origin: str | None = None
) -> LinkOutcome:
    """Remove a work-item link (the row is kept with removed_at)."""
    query = select(WorkItemLink).where(
        WorkItemLink.obligation_id == obligation_id,
        WorkItemLink.work_item_key == key,
        col(WorkItemLink.removed_at).is_(None),
    )
    if origin is not None:
        query = query.where(WorkItemLink.origin == origin)
    links = list(session.exec(query).all())
    if not links:
        raise NotFoundError(f"{key} is not linked to {obligation_id}.")
    _remove(session, links, actor, obligation_id, {"work_item": key})
    return LinkOutcome(True, f"Unlinked {key} from {obligation_id}.")


def ensure_test_case(session: Session, test_id: str) -> TestCase:
    """Return the test case with this id, creating it when it has never been seen."""
    test_id = test_id.strip()
    if not test_id or len(test_id) > MAX_TEST_ID_LENGTH:
        raise ValidationError(
            "A test id is the suite/classname/name of a test, at most 1,000 characters.",
            field="test_id",
        )
    case = session.exec(select(TestCase).where(TestCase.test_id == test_id)).first()
    if case is None:
        suite, _, rest = test_id.partition("/")
        classname, _, name = rest.rpartition("/")
        case = TestCase(test_id=test_id, suite=suite, classname=classname, name=name or rest)
        session.add(case)
        session.flush()
    return case


def link_test(
    *, session: Session, obligation_id: str, test_id: str, actor: Actor, origin: str = "manual"
) -> LinkOutcome:
    """Link a test (by its suite/classname/name id) to an obligation; twice does nothing."""
    obligation = get_obligation(session, obligation_id)
    case = ensure_test_case(session, test_id)
    case_id = cast(int, case.id)  # ensure_test_case flushed, so the id is set
    if _active(session, TestLink, obligation.id, test_case_id=case_id) is not None:
        return LinkOutcome(False, f"{case.test_id} is already linked to {obligation.id}.")
    link = TestLink(test_case_id=case_id, **_new_link(obligation, actor, origin))
    _add(session, link, obligation, actor, origin, {"test": case.test_id})
    return LinkOutcome(True, f"Linked test {case.test_id} to {obligation.id}.")


def unlink_test(*, session: Session, obligation_id: str, test_id: str, actor: Actor) -> LinkOutcome:
    """Remove a test link (the row is kept with removed_at)."""
    case = session.exec(select(TestCase).where(TestCase.test_id == test_id)).first()
    links = (
        session.exec(
            select(TestLink).where(
                TestLink.obligation_id == obligation_id,
                TestLink.test_case_id == case.id,
                col(TestLink.removed_at).is_(None),
            )
        ).all()
        if case is not None
        else []
    )
    if not links:
        raise NotFoundError(f"Test {test_id} is not linked to {obligation_id}.")
    _remove(session, list(links), actor, obligation_id, {"test": test_id})
    return LinkOutcome(True, f"Unlinked test {test_id} from {obligation_id}.")


def _active(
    session: Session, model: type[_Link], obligation_id: str, **target: Any
) -> _Link | None:
    """Return the active link of this obligation to the target, if there is one."""
    conditions = [getattr(model, name) == value for name, value in target.items()]
    return session.exec(
        select(model).where(
            model.obligation_id == obligation_id, col(model.removed_at).is_(None), *conditions
        )
    ).first()


class _NewLink(TypedDict):
    """The fields every new link sets: its obligation, origin, review and creator."""

    obligation_id: str
    origin: str
    reviewed_version: int
    reviewed_fingerprint: str
    created_by: str


def _new_link(obligation: Obligation, actor: Actor, origin: str) -> _NewLink:
    """Return a new link's fields, reviewed against the obligation's current version."""
    return {
        "obligation_id": obligation.id,
        "origin": origin,
        "reviewed_version": obligation.version,
        "reviewed_fingerprint": obligation.fingerprint,
        "created_by": actor.label,
    }


def _add(
    session: Session,
    link: WorkItemLink | TestLink,
    obligation: Obligation,
    actor: Actor,
    origin: str,
    what: dict[str, str],
) -> None:
    """Add a link made with _new_link's fields, and record it."""
    session.add(link)
    record_event(
        session=session,
        actor=actor,
        action="link.added",
        entity_type="obligation",
        entity_id=obligation.id,
        after=what | {"origin": origin},
    )


def _remove(
    session: Session,
    links: Sequence[WorkItemLink | TestLink],
    actor: Actor,
    obligation_id: str,
    what: dict[str, str],
) -> None:
    """Soft-remove links (rows are kept with who and when) and record it."""
    now = utcnow()
    for link in links:
        link.removed_at = now
        link.removed_by = actor.label
        session.add(link)
    record_event(
        session=session,
        actor=actor,
        action="link.removed",
        entity_type="obligation",
        entity_id=obligation_id,
        before=what | {"origin": links[0].origin},
    )


def review_links(*, session: Session, obligation_id: str, actor: Actor) -> LinkOutcome:
    """Mark every active link of an obligation as reviewed against its current version."""
    obligation = get_obligation(session, obligation_id)
    now = utcnow()
    reviewed = []
    for model in (WorkItemLink, TestLink):
        rows = session.exec(
            select(model).where(
                model.obligation_id == obligation.id,
                col(model.removed_at).is_(None),
                model.reviewed_version != obligation.version,
            )
        ).all()
        for link in rows:
            link.reviewed_version = obligation.version
            link.reviewed_fingerprint = obligation.fingerprint
            link.reviewed_by = actor.label
            link.reviewed_at = now
            session.add(link)
            reviewed.append(link)
    if not reviewed:
        return LinkOutcome(False, f"No link of {obligation.id} needs review.")
    record_event(
        session=session,
        actor=actor,
        action="link.reviewed",
        entity_type="obligation",
        entity_id=obligation.id,
        after={"version": obligation.version, "links": len(reviewed)},
    )
    return LinkOutcome(
        True, f"Reviewed {len(reviewed)} link(s) against version {obligation.version}."
    )


def decide_applicability(
    *,
    session: Session,
    obligation_id: str,
    not_applicable: bool,
    justification: str,
    actor: Actor,
) -> LinkOutcome:
    """Record legal's decision that an obligation does (or again does) apply."""
    obligation = get_obligation(session, obligation_id)
    justification = justification.strip()
    if not_applicable and len(justification) < 10:
        raise ValidationError(
            "Say why the obligation does not apply (at least 10 characters).", field="justification"
        )
    session.add(
        ApplicabilityDecision(
            obligation_id=obligation.id,
            not_applicable=not_applicable,
            justification=justification,
            decided_by=actor.label,
            decided_role=actor.role.value if actor.role else None,
        )
    )
    record_event(
        session=session,
        actor=actor,
        action="applicability.decided",
        entity_type="obligation",
        entity_id=obligation.id,
        after={"not_applicable": not_applicable, "justification": justification},
    )
    verdict = "does not apply" if not_applicable else "applies"
    return LinkOutcome(True, f"Recorded that {obligation.id} {verdict}.")
