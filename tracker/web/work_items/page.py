"""The work-item page's view object and its JSON, made from the work_item_detail service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for

from tracker.domain.status import STATUS_LABELS
from tracker.models import SyncRun, as_utc
from tracker.services.evidence import EvidenceScope
from tracker.services.work_item_page import CarriedObligation, WorkItemDetail
from tracker.web.links import safe_url
from tracker.web.status_style import STATUS_CSS

CATEGORY_WORDS = {"new": "To do", "indeterminate": "In progress", "done": "Done"}
RUN_STATUS_CSS = {
    "succeeded": "run-ok",
    "partial": "run-warn",
    "running": "run-running",
    "failed": "run-failed",
    "interrupted": "run-failed",
}


@dataclass(frozen=True)
class LabelItem:
    """A Jira label; an obligation label names the obligation it links (or none it knows)."""

    text: str
    obligation_id: str | None
    unknown: bool
    retired: bool = False


@dataclass(frozen=True)
class ObligationItem:
    """An obligation the work item carries, with its status and where the link came from."""

    id: str
    title: str
    citation: str
    status_label: str
    status_css: str
    explanation: str
    origin: str
    linked: str
    suspect: bool
    retired: bool


@dataclass(frozen=True)
class PushedItem:
    """A remote link as the tracker last pushed it onto the issue."""

    obligation_id: str
    title: str
    url: str | None
    resolved: bool
    pushed_at: str


@dataclass(frozen=True)
class PushPanel:
    """What the tracker has pushed to the issue, the newest push run, and what is pending."""

    pushable: bool
    why_not: str
    last_pushed: str
    links: list[PushedItem]
    run: str
    run_css: str
    problem: str | None
    not_pushed: list[str]
    to_remove: list[str]


@dataclass(frozen=True)
class WorkItemPage:
    """Everything the work-item page shows."""

    key: str
    summary: str
    jira_url: str | None
    project_key: str
    issue_type: str
    status: str
    category: str
    fix_versions: list[str]
    labels: list[LabelItem]
    assignee: str
    jira_updated: str
    synced: str
    missing: bool
    not_synced: bool
    in_scope: bool
    scope: str
    obligations: list[ObligationItem]
    push: PushPanel


def work_item_page(detail: WorkItemDetail, scope: EvidenceScope) -> WorkItemPage:
    """Return the page's view object."""
    item = detail.item
    named = detail.label_obligations
    retired = set(detail.retired_labels)
    labels = [
        LabelItem(
            label, named.get(label), label in named and named[label] is None, label in retired
        )
        for label in item.labels
    ]
    return WorkItemPage(
        key=item.key,
        summary=item.summary,
        jira_url=safe_url(item.url),
        project_key=item.project_key or item.key.rpartition("-")[0],
        issue_type=item.issue_type or "—",
        status=item.status or "—",
        category=_category(item.status, item.status_category),
        fix_versions=list(item.fix_versions),
        labels=labels,
        assignee=item.assignee or "Unassigned",
        jira_updated=_when(item.updated),
        synced=_when(item.synced_at),
        missing=item.missing,
        not_synced=item.synced_at is None,
        in_scope=item.in_scope,
        scope=scope.describe(),
        obligations=[_obligation_item(carried) for carried in detail.obligations],
        push=_push_panel(detail),
    )


def work_item_json(detail: WorkItemDetail) -> dict[str, Any]:
    """Return the work item as JSON-ready data, for the API."""
    item = detail.item
    run = detail.latest_push
    return {
        "key": item.key,
        "jira_id": item.jira_id,
        "project": item.project_key,
        "summary": item.summary,
        "issue_type": item.issue_type,
        "status": item.status,
        "status_category": item.status_category,
        "fix_versions": list(item.fix_versions),
        "labels": list(item.labels),
        "unknown_obligation_labels": list(detail.unknown_labels),
        "retired_obligation_labels": list(detail.retired_labels),
        "assignee": item.assignee,
        "url": item.url,
        "jira_updated": item.updated,
        "missing": item.missing,
        "in_scope": item.in_scope,
        "synced_at": item.synced_at,
        "obligations": [
            {
                "id": carried.obligation.id,
                "title": carried.obligation.title,
                "citation": carried.obligation.citation,
                "status": carried.row.result.status.value if carried.row else None,
                "explanation": carried.row.result.explanation if carried.row else None,
                "origin": carried.link.origin,
                "label": carried.label,
                "linked_by": carried.link.created_by,
                "linked_at": carried.link.created_at,
                "suspect": carried.suspect,
                "retired": carried.obligation.retired_at is not None,
                "url": url_for("api.get_obligation", obligation_id=carried.obligation.id),
            }
            for carried in detail.obligations
        ],
        "push": {
            "pushable": detail.pushable,
            "remote_links": [
                {
                    "obligation": state.obligation_id,
                    "global_id": state.global_id,
                    "title": state.title,
                    "url": state.url,
                    "resolved": state.resolved,
                    "pushed_at": state.pushed_at,
                }
                for state in detail.pushed
            ],
            "latest_run": None
            if run is None
            else {
                "id": run.id,
                "status": run.status,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "problem": detail.push_problem,
            },
            "not_pushed": detail.not_pushed if detail.pushable else [],
            "to_remove": detail.to_remove,
        },
    }


def _obligation_item(carried: CarriedObligation) -> ObligationItem:
    obligation = carried.obligation
    link = carried.link
    if carried.row is None:
        label, css = "No status of its own", "muted"
        explanation = "A grouping of other obligations: their parts carry the status."
    else:
        result = carried.row.result
        label, css, explanation = (
            STATUS_LABELS[result.status],
            STATUS_CSS[result.status],
            result.explanation,
        )
    origin = (
        f"Label {carried.label} in Jira" if carried.label is not None else "Linked in the tracker"
    )
    return ObligationItem(
        id=obligation.id,
        title=obligation.title,
        citation=obligation.citation,
        status_label=label,
        status_css=css,
        explanation=explanation,
        origin=origin,
        linked=f"by {link.created_by} on {_when(link.created_at)}",
        suspect=carried.suspect,
        retired=obligation.retired_at is not None,
    )


def _push_panel(detail: WorkItemDetail) -> PushPanel:
    item = detail.item
    if item.missing:
        why_not = (
            "Nothing is pushed to it while it is missing in Jira; its remote links there, if "
            "any, stay as they were."
        )
    elif item.synced_at is None:
        why_not = "Nothing is pushed to it until a Jira sync has found it."
    else:
        why_not = ""
    moments = [as_utc(state.pushed_at) for state in detail.pushed]
    return PushPanel(
        pushable=detail.pushable,
        why_not=why_not,
        last_pushed=_when(max(moments)) if moments else "",
        links=[
            PushedItem(
                obligation_id=state.obligation_id,
                title=state.title,
                url=safe_url(state.url),
                resolved=state.resolved,
                pushed_at=_when(state.pushed_at),
            )
            for state in detail.pushed
        ],
        run=_run_words(detail.latest_push),
        run_css=RUN_STATUS_CSS.get(detail.latest_push.status, "") if detail.latest_push else "",
        problem=detail.push_problem,
        not_pushed=detail.not_pushed if detail.pushable else [],
        to_remove=detail.to_remove,
    )


def _run_words(run: SyncRun | None) -> str:
    if run is None:
        return ""
    when = _when(run.finished_at or run.started_at)
    return f"#{run.id}, {run.status}, {'finished' if run.finished_at else 'started'} {when}"


def _category(status: str, category: str) -> str:
    # Jira's category says whether a custom status ("In review", "Shipped") counts as done.
    words = CATEGORY_WORDS.get(category, category)
    return "" if words.casefold() == status.casefold() else words


def _when(moment: datetime | None) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC" if moment else ""
