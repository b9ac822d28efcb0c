"""The data map pages' view objects, made from the data_map_pages service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from tracker.domain.data_map_schema import ActivitySpec, SystemSpec, parse_period
from tracker.domain.data_map_vocabulary import JURISDICTIONS
from tracker.services.data_map_pages import (
    ActivityDetail,
    DataMapOverview,
    DutyRow,
    ProposedObligation,
    SystemRow,
)

PROPOSAL_WORDS = {
    "applicable": ("Proposed applicable", "st-in-progress"),
    "not_applicable": ("Proposed not applicable", "st-not-applicable"),
    "unknown": ("Cannot be decided from the data map", "st-gap"),
}


@dataclass(frozen=True)
class Place:
    """A jurisdiction code with its name."""

    code: str
    name: str


@dataclass(frozen=True)
class ActivityItem:
    """One row of the activities table."""

    id: str
    name: str
    purpose: str
    categories: list[str]
    jurisdictions: list[Place]
    roles: list[str]
    dpia_required: bool
    dpia_href: str | None
    dpia_id: str | None
    owner: str
    status: str
    version: int


@dataclass(frozen=True)
class OverviewPage:
    """The activities page."""

    activities: list[ActivityItem]
    systems: int
    dpias: int
    missing_dpias: list[str]


@dataclass(frozen=True)
class SystemItem:
    """A system as the activity and systems pages show it."""

    id: str
    name: str
    description: str
    owner: str
    jira_project: str
    jira_components: list[str]
    surfaces: list[str]
    hosted_in: list[Place]
    activities: list[str]


@dataclass(frozen=True)
class RetentionItem:
    """One retention rule of an activity."""

    categories: list[str]
    period: str
    days: int
    trigger: str
    systems: list[str]
    note: str


@dataclass(frozen=True)
class ProposalItem:
    """An obligation whose proposal names the activity."""

    obligation_id: str
    title: str
    label: str
    css: str
    reasons: list[str]


@dataclass(frozen=True)
class ActivityPage:
    """Everything about one activity."""

    spec: ActivitySpec
    version: int
    source: str
    jurisdictions: list[Place]
    roles: list[str]
    legal_basis: list[tuple[Place, str]]
    systems: list[SystemItem]
    unknown_systems: list[str]
    retention: list[RetentionItem]
    dpia_id: str | None
    dpia_href: str | None
    dpia_title: str | None
    obligations: list[ProposalItem]
    duties: list[DutyRow]


@dataclass(frozen=True)
class SystemsPage:
    """The systems page."""

    systems: list[SystemItem]


def overview_page(overview: DataMapOverview) -> OverviewPage:
    """Return the activities page's view object."""
    items = [
        ActivityItem(
            id=row.spec.id,
            name=row.spec.name,
            purpose=row.spec.purpose,
            categories=list(row.spec.data_categories),
            jurisdictions=_places(row.spec.jurisdictions),
            roles=_words(row.spec.roles),
            dpia_required=row.spec.dpia.required,
            dpia_href=dpia_href(row.dpia_id),
            dpia_id=row.dpia_id,
            owner=row.spec.owner or "",
            status=row.spec.status,
            version=row.version,
        )
        for row in overview.activities
    ]
    return OverviewPage(items, overview.systems, overview.dpias, overview.missing_dpias)


def activity_page(detail: ActivityDetail) -> ActivityPage:
    """Return one activity's view object."""
    spec = detail.spec
    retention = [
        RetentionItem(
            categories=list(rule.data_categories),
            period=rule.period,
            days=parse_period(rule.period).days,
            trigger=rule.trigger.replace("_", " "),
            systems=list(rule.systems or spec.systems),
            note=rule.note or "",
        )
        for rule in spec.retention
    ]
    dpia_id = detail.dpia.id if detail.dpia else None
    return ActivityPage(
        spec=spec,
        version=detail.version,
        source=detail.source,
        jurisdictions=_places(spec.jurisdictions),
        roles=_words(spec.roles),
        legal_basis=[
            (_place(code), basis.replace("_", " ")) for code, basis in spec.legal_basis.items()
        ],
        systems=[_system(system, []) for system in detail.systems],
        unknown_systems=detail.unknown_systems,
        retention=retention,
        dpia_id=dpia_id,
        dpia_href=dpia_href(dpia_id),
        dpia_title=detail.dpia.title if detail.dpia else None,
        obligations=[_proposal(item, spec.id) for item in detail.obligations],
        duties=detail.duties,
    )


def systems_page(rows: list[SystemRow]) -> SystemsPage:
    """Return the systems page's view object."""
    return SystemsPage([_system(row.spec, row.activities) for row in rows])


def dpia_href(dpia_id: str | None) -> str | None:
    """Return the address of a DPIA's page (the risks area's), or None without a DPIA."""
    return f"/dpias/{quote(dpia_id, safe='')}" if dpia_id else None


def _place(code: str) -> Place:
    return Place(code, JURISDICTIONS.get(code, code))


def _places(codes: list[str]) -> list[Place]:
    return [_place(code) for code in codes]


def _words(values: Sequence[str]) -> list[str]:
    return [value.replace("_", " ") for value in values]


def _system(system: SystemSpec, activities: list[str]) -> SystemItem:
    return SystemItem(
        id=system.id,
        name=system.name,
        description=system.description or "",
        owner=system.owner or "",
        jira_project=system.jira.project if system.jira else "",
        jira_components=list(system.jira.components) if system.jira else [],
        surfaces=_words(system.surfaces),
        hosted_in=_places(system.hosted_in),
        activities=activities,
    )


def _proposal(item: ProposedObligation, activity_id: str) -> ProposalItem:
    label, css = PROPOSAL_WORDS.get(item.proposal, (item.proposal, "st-planned"))
    # The reasons name every activity that triggers the obligation: show this one's.
    own = [reason for reason in item.reasons if f"`{activity_id}`" in reason]
    return ProposalItem(item.obligation_id, item.title, label, css, own or item.reasons)
