"""The work-item page: one Jira issue as the tracker knows it, its obligations, its last push."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from tracker.domain.matrix import MatrixRow
from tracker.domain.text_rules import has_control_characters
from tracker.errors import NotFoundError
from tracker.models import Obligation, RemoteLinkState, SyncRun, WorkItem, WorkItemLink
from tracker.services.evidence import EvidenceScope
from tracker.services.links import JIRA_KEY_PATTERN, link_label
from tracker.services.matrix import build_matrix
from tracker.services.work_items import label_obligation_id


@dataclass(frozen=True)
class CarriedObligation:
    """An obligation the work item carries: its link, and its status in the scope asked for."""

    obligation: Obligation
    link: WorkItemLink
    row: MatrixRow | None  # None for a grouping entry, which has no status of its own
    suspect: bool
    #: The Jira label on the issue that makes the link (as the obligation's page names it).
    label: str | None


@dataclass(frozen=True)
class WorkItemDetail:
    """Everything the work-item page and its JSON show."""

    item: WorkItem
    obligations: list[CarriedObligation]
    #: Each label of the form obligation-<ID>, with the catalog's id of the obligation it
    #: names (None: no obligation of that id was ever in the catalog), retired ones included.
    label_obligations: dict[str, str | None]
    #: The labels among them that name a retired obligation (the orphans page lists them too).
    retired_labels: list[str]
    #: The remote links the tracker last pushed onto this issue, by obligation id.
    pushed: list[RemoteLinkState]
    #: The newest push run (for every issue), and what it reported about this one, if anything.
    latest_push: SyncRun | None
    push_problem: str | None

    @property
    def unknown_labels(self) -> list[str]:
        """Return the obligation labels that name no obligation the catalog has or had."""
        return [label for label, known in self.label_obligations.items() if known is None]

    @property
    def pushable(self) -> bool:
        """Return whether a push writes to this issue (it must have been found by a sync)."""
        return not self.item.missing and self.item.synced_at is not None

    @property
    def not_pushed(self) -> list[str]:
        """Return the carried obligations that no remote link on the issue shows yet."""
        shown = {state.obligation_id for state in self.pushed}
        return [
            carried.obligation.id
            for carried in self.obligations
            if carried.row is not None and carried.obligation.id not in shown
        ]

    @property
    def to_remove(self) -> list[str]:
        """Return the obligations whose remote link the next push deletes (no longer carried)."""
        carried = {carried.obligation.id for carried in self.obligations}
        return [state.obligation_id for state in self.pushed if state.obligation_id not in carried]


def normalise_key(key: str) -> str:
    """Return a work-item key as stored (Jira keys are upper case; people type either)."""
    return key.strip().upper()


def work_item_detail(
    *, session: Session, key: str, scope: EvidenceScope | None = None
) -> WorkItemDetail:
    """Return the work-item page's content; NotFoundError says what to do for an unknown key."""
    typed, key = key.strip(), normalise_key(key)
    item = session.get(WorkItem, key) if JIRA_KEY_PATTERN.match(key) else None
    if item is None:
        raise NotFoundError(_unknown_key_message(typed, key))
    pairs = session.exec(
        select(WorkItemLink, Obligation)
        .join(Obligation, col(Obligation.id) == WorkItemLink.obligation_id)
        .where(WorkItemLink.work_item_key == key, col(WorkItemLink.removed_at).is_(None))
        .order_by(col(Obligation.sort_key), col(WorkItemLink.id))
    ).all()
    ids = list(dict.fromkeys(obligation.id for _, obligation in pairs))
    rows: dict[str, MatrixRow] = {}
    if ids:
        matrix = build_matrix(
            session=session, scope=scope, obligation_ids=ids, include_retired=True
        )
        rows = {row.id: row for row in matrix.rows}
    obligations = [
        CarriedObligation(
            obligation=obligation,
            link=link,
            row=rows.get(obligation.id),
            suspect=link.reviewed_version < obligation.version,
            label=link_label(obligation.id, [link.origin], item.labels),
        )
        for link, obligation in pairs
    ]
    pushed = list(
        session.exec(
            select(RemoteLinkState)
            .where(RemoteLinkState.work_item_key == key)
            .order_by(col(RemoteLinkState.obligation_id))
        ).all()
    )
    latest_push = session.exec(
        select(SyncRun).where(SyncRun.kind == "push").order_by(col(SyncRun.id).desc()).limit(1)
    ).first()
    named, retired = _label_obligations(session, item.labels)
    return WorkItemDetail(
        item=item,
        obligations=obligations,
        label_obligations=named,
        retired_labels=retired,
        pushed=pushed,
        latest_push=latest_push,
        push_problem=_problem_for(latest_push, key),
    )


def _unknown_key_message(typed: str, key: str) -> str:
    if not JIRA_KEY_PATTERN.match(key):
        # Text from the address: shown without control characters, and not at length.
        shown = "".join("?" if has_control_characters(char) else char for char in typed[:64])
        shown += "…" if len(typed) > 64 else ""
        return (
            f"'{shown}' is not a Jira key: keys look like PRIV-42. Check the address, or find the "
            "work item from an obligation's page or the matrix."
        )
    return (
        f"The tracker knows no work item {key}: no Jira sync has brought it and no obligation "
        "links to it. Check the key; if the issue exists in Jira, run a sync from the Jira page "
        "(the JQL there chooses which issues are followed) or link it from an obligation's page."
    )


def _label_obligations(
    session: Session, labels: list[str]
) -> tuple[dict[str, str | None], list[str]]:
    """Return what each obligation label names, and which of them name a retired obligation.

    Matched as the sync and the orphans page match them: the id in any letter case, against
    every obligation the catalog has had (a retired one is named, and said to be retired).
    """
    candidates = {
        label: found for label in labels if (found := label_obligation_id(label)) is not None
    }
    if not candidates:
        return {}, []
    # Every id, as the orphans page reads them: casefold has no exact twin in SQL.
    catalog = {
        obligation_id.casefold(): (obligation_id, retired_at is not None)
        for obligation_id, retired_at in session.exec(
            select(Obligation.id, Obligation.retired_at)
        ).all()
    }
    named: dict[str, str | None] = {}
    retired: list[str] = []
    for label, found in candidates.items():
        entry = catalog.get(found.casefold())
        named[label] = entry[0] if entry else None
        if entry is not None and entry[1]:
            retired.append(label)
    return named, retired


def _problem_for(run: SyncRun | None, key: str) -> str | None:
    # A push records its failures as "KEY: message", one per issue (see jira_push._finish).
    if run is None:
        return None
    prefix = f"{key}: "
    for problem in run.problems:
        if problem.startswith(prefix):
            return problem[len(prefix) :]
    return None
