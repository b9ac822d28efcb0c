"""The obligation page's view object, made from the obligation_detail service's answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from tracker.domain.diff import FieldChange, Segment
from tracker.domain.matrix import MatrixRow
from tracker.domain.status import STATUS_LABELS
from tracker.models import AuditEvent
from tracker.services.links import link_label
from tracker.services.obligations import ObligationDetail, ObligationEvidence, TestLinkView
from tracker.web.action_words import ACTION_WORDS, summarise
from tracker.web.links import safe_url
from tracker.web.status_style import STATUS_CSS

RELATIONSHIP_WORDS = {
    "equivalent-to": "is equivalent to",
    "subset-of": "is narrower than (a subset of)",
    "superset-of": "is broader than (a superset of)",
    "intersects-with": "overlaps with",
}
OUTCOME_WORDS = {
    "passed": "Passed",
    "failed": "Failed",
    "error": "Error",
    "skipped": "Skipped",
}
OUTCOME_CSS = {"passed": "outcome-pass", "failed": "outcome-fail", "error": "outcome-fail"}
UNIT_WORDS = {"business_days": "business days", "usd": "USD", "percent": "%"}
APPLICABILITY_WORDS = {
    "roles": "Roles",
    "jurisdictions": "Jurisdictions",
    "data_categories": "Data categories",
    "surfaces": "Surfaces",
}


@dataclass(frozen=True)
class Reference:
    """Another obligation linked to from this page."""

    id: str
    title: str


@dataclass(frozen=True)
class MappingItem:
    """A cross-law mapping in words."""

    words: str
    other: Reference
    notes: str | None
    declared_here: bool


@dataclass(frozen=True)
class FieldDiff:
    """The word diff of one field: words kept, removed and added, in reading order."""

    field: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class VersionItem:
    """A version and what changed against the one before it."""

    version: int
    created_at: str
    fingerprint: str
    current: bool
    first: bool
    changes: list[FieldDiff]


@dataclass(frozen=True)
class StatusPanel:
    """The current status and why."""

    label: str
    css: str
    implementation: str
    verification: str
    suspect: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class WorkLinkItem:
    """A linked Jira work item."""

    key: str
    url: str | None
    summary: str
    state: str
    missing: bool
    origin: str
    suspect: bool
    linked: str
    #: The Jira label that makes this link (removing the label removes it), or "".
    label: str = ""


@dataclass(frozen=True)
class TestLinkItem:
    """A linked test and its latest result."""

    __test__ = False

    test_id: str
    outcome: str
    outcome_css: str
    origin: str
    suspect: bool
    linked: str


@dataclass(frozen=True)
class Decision:
    """The current applicability decision: who recorded it, with their role then."""

    not_applicable: bool
    justification: str
    decided_by: str
    decided_at: str


@dataclass(frozen=True)
class HistoryItem:
    """One audit event in words."""

    at: str
    actor: str
    action: str
    before: str
    after: str


@dataclass(frozen=True)
class ObligationPage:
    """Everything the obligation page shows."""

    id: str
    title: str
    citation: str
    summary: str
    instrument_id: str
    instrument_title: str
    official_url: str | None
    assessable: bool
    severity: str
    lifecycle: str
    effective_date: str
    retired: bool
    retired_at: str
    version: int
    parameters: list[dict[str, str]]
    applicability: list[tuple[str, str]]
    tags: list[str]
    evidence: list[tuple[str, str]]
    freshness_days: int
    parent: Reference | None
    children: list[Reference]
    mappings: list[MappingItem]
    versions: list[VersionItem]
    status: StatusPanel | None
    work_links: list[WorkLinkItem]
    test_links: list[TestLinkItem]
    decision: Decision | None
    history: list[HistoryItem]
    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    #: Whether the tracker can change Jira (remove a label) and checks keys there.
    jira_configured: bool = False

    @property
    def linkable(self) -> bool:
        """Return whether links can be made: a catalog group entry only groups its parts."""
        return self.assessable

    @property
    def any_label_links(self) -> bool:
        """Return whether some link comes from a Jira label."""
        return any(link.label for link in self.work_links)

    @property
    def any_suspect(self) -> bool:
        """Return whether a link needs review."""
        return any(link.suspect for link in self.work_links) or any(
            link.suspect for link in self.test_links
        )


def obligation_page(
    detail: ObligationDetail,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    *,
    jira_configured: bool = False,
) -> ObligationPage:
    """Return the page's view object; errors and values re-fill a rejected form."""
    obligation = detail.obligation
    decision = None
    if detail.decision is not None:
        decision = Decision(
            not_applicable=detail.decision.not_applicable,
            justification=detail.decision.justification,
            decided_by=detail.decision.decided_by
            + (f" ({detail.decision.decided_role})" if detail.decision.decided_role else ""),
            decided_at=_when(detail.decision.decided_at),
        )
    retired = obligation.retired_at is not None or obligation.lifecycle_status == "retired"
    return ObligationPage(
        id=obligation.id,
        title=obligation.title,
        citation=obligation.citation,
        summary=obligation.summary,
        instrument_id=detail.instrument.id,
        instrument_title=detail.instrument.title,
        official_url=safe_url(obligation.official_url),
        assessable=obligation.assessable,
        severity=obligation.severity or "—",
        lifecycle=obligation.lifecycle_status,
        effective_date=(
            _day(obligation.effective_date)
            if obligation.effective_date or not detail.instrument.effective_date
            else f"{_day(detail.instrument.effective_date)} "
            f"(date of {detail.instrument.id} as a whole)"
        ),
        retired=retired,
        retired_at=_when(obligation.retired_at) if obligation.retired_at else "",
        version=obligation.version,
        parameters=[_parameter(item) for item in obligation.parameters],
        applicability=[
            (APPLICABILITY_WORDS.get(name, name), ", ".join(values))
            for name, values in (obligation.applicability or {}).items()
            if values
        ],
        tags=list(obligation.tags),
        evidence=[
            (str(item.get("type", "")).replace("_", " ").capitalize(), item.get("description", ""))
            for item in obligation.evidence
        ],
        freshness_days=obligation.freshness_days,
        parent=Reference(detail.parent.id, detail.parent.title) if detail.parent else None,
        children=[Reference(child.id, child.title) for child in detail.children],
        mappings=[
            MappingItem(
                words=RELATIONSHIP_WORDS.get(mapping.relationship, mapping.relationship),
                other=Reference(mapping.other_id, mapping.other_title),
                notes=mapping.notes,
                declared_here=mapping.direction == "outgoing",
            )
            for mapping in detail.mappings
        ],
        versions=[
            VersionItem(
                version=version.version,
                created_at=_when(version.created_at),
                fingerprint=version.fingerprint[:12],
                current=version.version == obligation.version,
                first=index == len(detail.versions) - 1,
                changes=[_field_diff(change) for change in version.changes],
            )
            for index, version in enumerate(detail.versions)
        ],
        status=status_panel(detail.row),
        work_links=[
            WorkLinkItem(
                key=link.item.key,
                url=safe_url(link.item.url),
                summary=link.item.summary,
                state="missing in Jira"
                if link.item.missing
                else (link.item.status or link.item.status_category),
                missing=link.item.missing,
                origin=link.link.origin,
                suspect=link.suspect,
                linked=f"by {link.link.created_by} on {_when(link.link.created_at)}",
                label=link_label(obligation.id, [link.link.origin], link.item.labels) or "",
            )
            for link in detail.work_links
        ],
        test_links=test_link_items(detail.test_links),
        decision=decision,
        history=history_items(detail.history),
        errors=errors or {},
        values=values or {},
        jira_configured=jira_configured,
    )


def with_evidence(page: ObligationPage, evidence: ObligationEvidence) -> ObligationPage:
    """Return the page with its tests, outcomes and status read again (after a test report)."""
    return replace(
        page, status=status_panel(evidence.row), test_links=test_link_items(evidence.test_links)
    )


def status_panel(row: MatrixRow | None) -> StatusPanel | None:
    """Return the status panel of the obligation's matrix row (None: a catalog group entry)."""
    if row is None:
        return None
    result = row.result
    return StatusPanel(
        label=STATUS_LABELS[result.status],
        css=STATUS_CSS[result.status],
        implementation=result.implementation.value,
        verification=result.verification.value,
        suspect=result.suspect,
        reasons=result.reasons,
    )


def test_link_items(links: Sequence[TestLinkView]) -> list[TestLinkItem]:
    """Return the linked tests in words, each with its latest outcome."""
    return [
        TestLinkItem(
            test_id=link.test_id,
            outcome=(
                f"{OUTCOME_WORDS.get(link.outcome, link.outcome)} in run #{link.run_id}"
                if link.outcome
                else "No result yet"
            ),
            outcome_css=OUTCOME_CSS.get(link.outcome or "", "outcome-none"),
            origin=link.origin,
            suspect=link.suspect,
            linked=f"by {link.linked_by} on {_when(link.linked_at)}",
        )
        for link in links
    ]


def history_items(events: Sequence[AuditEvent]) -> list[HistoryItem]:
    """Return the audit events in words, in the order given."""
    return [
        HistoryItem(
            at=_when(event.at),
            actor=event.actor + (f" ({event.actor_role})" if event.actor_role else ""),
            action=ACTION_WORDS.get(event.action, event.action.replace(".", " ").capitalize()),
            before=summarise(event.before),
            after=summarise(event.after),
        )
        for event in events
    ]


def _parameter(item: Mapping[str, Any]) -> dict[str, str]:
    value = item.get("value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    unit = str(item.get("unit") or "")
    return {
        "name": str(item.get("name", "")).replace("_", " "),
        "value": "" if value is None else str(value),
        "unit": UNIT_WORDS.get(unit, unit),
        "note": str(item.get("note") or ""),
    }


def _field_diff(change: FieldChange) -> FieldDiff:
    return FieldDiff(change.field.replace("_", " "), change.segments)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _day(day: date | None) -> str:
    return day.isoformat() if day else "—"
