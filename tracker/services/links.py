"""Linking obligations to work items and tests, reviewing suspect links, applicability.

What people type is checked before it is linked: a Jira key in Jira (when Jira is configured),
a test id against the tests that runs have reported, and the obligation for being one that can
be assessed (a catalog group entry cannot). A link that a Jira label makes is removed by
removing the label in Jira; removed only here, the next sync would bring it back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar, cast

from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.errors import ConflictError, JiraError, NotFoundError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import IssueSummary
from tracker.models import (
    ApplicabilityDecision,
    ApplicabilityProposal,
    Obligation,
    TestCase,
    TestLink,
    TestResult,
    WorkItem,
    WorkItemLink,
    column_length,
    utcnow,
)
from tracker.services.audit import record_event
from tracker.services.work_items import JIRA_ORIGIN, obligation_label

JIRA_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,9}$")
MAX_TEST_ID_LENGTH = column_length(TestCase, "test_id")
#: What a link made without Jira says about its key.
NOT_CHECKED = "not checked: Jira is not configured"

_Link = TypeVar("_Link", WorkItemLink, TestLink)


@dataclass(frozen=True)
class LinkOutcome:
    """What a link operation did."""

    created: bool
    message: str


class LabelLinkError(ConflictError):
    """A link that a Jira label makes cannot be removed in the tracker alone."""

    def __init__(self, message: str, *, key: str, label: str) -> None:
        super().__init__(message)
        self.key = key
        self.label = label


def get_obligation(session: Session, obligation_id: str) -> Obligation:
    """Return an obligation or raise NotFoundError with a helpful message."""
    obligation = session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFoundError(f"No obligation '{obligation_id}' in the catalog.")
    return obligation


def link_work_item(
    *,
    session: Session,
    obligation_id: str,
    key: str,
    actor: Actor,
    origin: str = "manual",
    gateway: JiraGateway | None = None,
    known: IssueSummary | None = None,
) -> LinkOutcome:
    """Link a Jira work item to an obligation; linking twice does nothing.

    With a gateway the key is looked up in Jira first (one request, before anything is
    written): a key Jira does not have is refused with Jira's words (ValidationError), a Jira
    that cannot answer refuses the link (JiraError), and a found issue's summary and status
    are stored at once. Without one, the key is linked unchecked and the message says so.
    known is what Jira has just said of the issue (it created it): stored, with no lookup.
    """
    obligation = get_obligation(session, obligation_id)
    require_assessable(session, obligation, field="key")
    key = key.strip().upper()
    if not JIRA_KEY_PATTERN.match(key):
        shown = key[:40] + ("…" if len(key) > 40 else "")
        raise ValidationError(
            f"'{shown}' is not a Jira key: use the form PROJECT-123, e.g. PRIV-42.", field="key"
        )
    if _active(session, WorkItemLink, obligation.id, work_item_key=key) is not None:
        return LinkOutcome(False, f"{key} is already linked to {obligation.id}.")
    if known is not None:
        found: IssueSummary | None = known
    else:
        found = _look_up(gateway, key) if gateway is not None else None
    asked = key
    if found is not None and found.key != key:
        # Jira answers a moved issue under its new key: link the issue, not the old name.
        key = found.key
        if _active(session, WorkItemLink, obligation.id, work_item_key=key) is not None:
            return LinkOutcome(False, f"{asked} is now {key} in Jira, already linked.")
    _store_work_item(session, key, found)
    link = WorkItemLink(work_item_key=key, **_new_link(obligation, actor, origin))
    checked = "found in Jira" if found is not None else NOT_CHECKED
    _add(session, link, obligation, actor, origin, {"work_item": key}, {"jira": checked})
    if found is None:
        return LinkOutcome(
            True,
            f"Linked {key} to {obligation.id} ({NOT_CHECKED}); its summary and status "
            "come with the first Jira sync.",
        )
    moved = f" ({asked} is now {key} in Jira)" if asked != key else ""
    state = found.status or found.status_category
    return LinkOutcome(
        True, f"Linked {key}{moved} to {obligation.id}: {found.summary or 'no summary'} ({state})."
    )


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
    item = session.get(WorkItem, key)
    label = link_label(obligation_id, (link.origin for link in links), item.labels if item else ())
    if label is not None:
        raise LabelLinkError(
            f"The link to {key} comes from the label {label} on {key} in Jira, so removing it "
            "here would not last: the next Jira sync would bring it back. Remove the label "
            f"from {key} in Jira and the link goes with it.",
            key=key,
            label=label,
        )
    _remove(session, links, actor, obligation_id, {"work_item": key})
    return LinkOutcome(True, f"Unlinked {key} from {obligation_id}.")


def remove_link_label(
    *, session: Session, gateway: JiraGateway, obligation_id: str, key: str, actor: Actor
) -> LinkOutcome:
    """Remove the obligation's label from a Jira issue, then the link it made.

    Jira is changed first: when it refuses, nothing is changed here; when the tracker's
    write fails after it, the next sync removes the link, as the label is gone.
    """
    obligation = get_obligation(session, obligation_id)
    key = key.strip().upper()
    links = list(
        session.exec(
            select(WorkItemLink).where(
                WorkItemLink.obligation_id == obligation.id,
                WorkItemLink.work_item_key == key,
                col(WorkItemLink.removed_at).is_(None),
            )
        ).all()
    )
    if not links:
        raise NotFoundError(f"{key} is not linked to {obligation.id}.")
    item = session.get(WorkItem, key)
    stored = list(item.labels) if item is not None else []
    labels = _labels_of(obligation.id, stored)
    if not labels:
        if all(link.origin != JIRA_ORIGIN for link in links):
            raise ConflictError(
                f"The link to {key} was made in the tracker, not by a Jira label: remove it "
                "with Remove; Jira is not changed."
            )
        # Made by "Create epic" and not synced since: the label is the one it was given.
        labels = [obligation_label(obligation.id)]
    for label in labels:
        gateway.remove_label(key, label)
    if item is not None:
        item.labels = [label for label in stored if label not in labels]
        session.add(item)
    named = ", ".join(labels)
    _remove(
        session,
        links,
        actor,
        obligation.id,
        {"work_item": key},
        after={"reason": f"the label {named} was removed from {key} in Jira"},
    )
    return LinkOutcome(
        True,
        f"Removed the label {named} from {key} in Jira, so {key} is unlinked from {obligation.id}.",
    )


def link_label(obligation_id: str, origins: Iterable[str], labels: Sequence[str]) -> str | None:
    """Return the Jira label that makes (or would make again) this link, or None.

    That is the obligation's label among the issue's labels (matched in any letter case, as
    the sync does), or, for a link a label made whose labels are not synced yet, its label.
    """
    found = _labels_of(obligation_id, labels)
    if found:
        return found[0]
    if any(origin == JIRA_ORIGIN for origin in origins):
        return obligation_label(obligation_id)
    return None


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
    *,
    session: Session,
    obligation_id: str,
    test_id: str,
    actor: Actor,
    origin: str = "manual",
    before_first_run: bool = False,
) -> LinkOutcome:
    """Link a test (by its suite/classname/name id) to an obligation; twice does nothing.

    A test no run has reported is refused (a typo would otherwise stay "not run" for ever)
    unless before_first_run says it is meant to be linked before its first run.
    """
    obligation = get_obligation(session, obligation_id)
    require_assessable(session, obligation, field="test_id")
    wanted = test_id.strip()
    reported = bool(wanted) and _reported(session, wanted)
    if not reported and not before_first_run and wanted and len(wanted) <= MAX_TEST_ID_LENGTH:
        raise ValidationError(_unreported_message(session, wanted), field="test_id")
    case = ensure_test_case(session, test_id)
    case_id = cast(int, case.id)  # ensure_test_case flushed, so the id is set
    if _active(session, TestLink, obligation.id, test_case_id=case_id) is not None:
        return LinkOutcome(False, f"{case.test_id} is already linked to {obligation.id}.")
    link = TestLink(test_case_id=case_id, **_new_link(obligation, actor, origin))
    early = {} if reported else {"before_first_run": "yes"}
    _add(session, link, obligation, actor, origin, {"test": case.test_id}, early)
    if not reported:
        return LinkOutcome(
            True,
            f"Linked test {case.test_id} to {obligation.id} before its first run: it shows "
            "“No result yet” until a run reports it.",
        )
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


def require_assessable(session: Session, obligation: Obligation, field: str) -> None:
    """Refuse to link a catalog group entry: it has no status of its own to support."""
    if obligation.assessable:
        return
    parts = session.exec(
        select(Obligation.id)
        .where(Obligation.parent_id == obligation.id, col(Obligation.retired_at).is_(None))
        .order_by(col(Obligation.sort_key))
        .limit(4)
    ).all()
    named = ", ".join(parts[:3]) + (", …" if len(parts) > 3 else "")
    where = f" ({named})" if named else ""
    raise ValidationError(
        f"{obligation.id} groups other obligations and has no status of its own, so nothing "
        f"can be linked to it. Link the work item or test to one of its parts{where} instead.",
        field=field,
    )


def _look_up(gateway: JiraGateway, key: str) -> IssueSummary:
    try:
        return gateway.read_issue(key)
    except JiraError as error:
        if error.status == 404:
            raise ValidationError(
                f"{error} Check the key in Jira; nothing was linked.", field="key"
            ) from None
        raise JiraError(
            f"Could not check {key} in Jira, so nothing was linked: {error}",
            status=error.status,
            retryable=error.retryable,
        ) from None


def _store_work_item(session: Session, key: str, found: IssueSummary | None) -> None:
    """Keep what Jira said of the issue; the next sync fills in the rest (it was never synced)."""
    item = session.get(WorkItem, key)
    if found is None:
        if item is None:
            # Known once the next Jira sync runs; until then it shows as not yet synced.
            session.add(
                WorkItem(key=key, summary="", status="not yet synced", status_category="new")
            )
            session.flush()
        return
    if item is None:
        item = WorkItem(key=key, project_key=key.rsplit("-", 1)[0])
    item.summary = found.summary
    item.status = found.status
    item.status_category = found.status_category
    item.issue_type = found.issue_type
    item.url = found.url or item.url  # the URL comes with the next sync when Jira gave none
    item.missing = False
    session.add(item)
    session.flush()


def _labels_of(obligation_id: str, labels: Iterable[str]) -> list[str]:
    wanted = obligation_label(obligation_id).casefold()
    return [label for label in labels if label.casefold() == wanted]


def _reported(session: Session, test_id: str) -> bool:
    """Return whether a run has reported the test (its result may since have been pruned)."""
    case = session.exec(select(TestCase).where(TestCase.test_id == test_id)).first()
    if case is None:
        return False
    if case.last_seen_at is not None:
        return True
    result = session.exec(
        select(TestResult.id).where(TestResult.test_case_id == case.id).limit(1)
    ).first()
    return result is not None


def _unreported_message(session: Session, test_id: str) -> str:
    name = test_id.rpartition("/")[2]
    similar = session.exec(
        select(TestCase.test_id)
        .where(TestCase.name == name, col(TestCase.last_seen_at).is_not(None))
        .order_by(col(TestCase.test_id))
        .limit(3)
    ).all()
    hint = f" Reported tests of that name: {', '.join(similar)}." if similar else ""
    return (
        f"No test run has reported the test {test_id} yet, so it was not linked: check the "
        "id against a JUnit report (suite/classname/name)." + hint + " To link a test that "
        "has not run yet, tick “Link before the first run”."
    )


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
    notes: dict[str, str] | None = None,
) -> None:
    """Add a link made with _new_link's fields, and record it (notes after its origin)."""
    session.add(link)
    record_event(
        session=session,
        actor=actor,
        action="link.added",
        entity_type="obligation",
        entity_id=obligation.id,
        after=what | {"origin": origin} | (notes or {}),
    )


def _remove(
    session: Session,
    links: Sequence[WorkItemLink | TestLink],
    actor: Actor,
    obligation_id: str,
    what: dict[str, str],
    after: dict[str, str] | None = None,
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
        after=after,
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
    # The data map's current proposal is the decision's basis: when it changes, the decision
    # needs a review (tracker.services.applicability_refresh).
    proposal = session.get(ApplicabilityProposal, obligation.id)
    session.add(
        ApplicabilityDecision(
            obligation_id=obligation.id,
            not_applicable=not_applicable,
            justification=justification,
            decided_by=actor.label,
            decided_role=actor.role.value if actor.role else None,
            basis_proposal=proposal.proposal if proposal else None,
            basis_fingerprint=proposal.fingerprint if proposal else None,
        )
    )
    after: dict[str, Any] = {"not_applicable": not_applicable, "justification": justification}
    if proposal is not None:
        after["basis_proposal"] = proposal.proposal
    record_event(
        session=session,
        actor=actor,
        action="applicability.decided",
        entity_type="obligation",
        entity_id=obligation.id,
        after=after,
    )
    verdict = "does not apply" if not_applicable else "applies"
    return LinkOutcome(True, f"Recorded that {obligation.id} {verdict}.")
