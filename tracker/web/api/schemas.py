"""The shapes of the read API's answers (obligations, matrix, work items, releases, errors).

Every answer passes through its model before it is sent, so the OpenAPI document, which is
generated from these models, says what the API really returns; a field added to an answer
without its model fails the request, and the tests with it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from tracker.domain.gate_policy import PolicySpec
from tracker.domain.release_verdict import SignOffState
from tracker.domain.status import Implementation, Status, Verification
from tracker.domain.timestamps import rfc3339_utc

#: A moment in time, written as RFC 3339 in UTC to the second (2026-12-01T15:19:59Z).
Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-12-01T15:19:59Z"]}),
]


class Shape(BaseModel):
    """An API answer or part of one: exactly these fields, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- errors ------------------------------------------------------------------------------------


class ErrorDetail(Shape):
    """What went wrong, for a person: the HTTP status, a stable code and what to do."""

    status: int = Field(description="The HTTP status of the answer.")
    code: str = Field(
        description="A stable code: bad_request, unauthorized, forbidden, not_found, "
        "payload_too_large, unsupported_media_type, invalid_report, internal_error, ...",
        examples=["bad_request"],
    )
    message: str = Field(description="What went wrong and what to do about it.")
    field: str | None = Field(None, description="The input that was refused, when one was.")
    line: int | None = Field(None, description="Where in an uploaded report, when known.")
    column: int | None = Field(None, description="Where in an uploaded report, when known.")


class ErrorResponse(Shape):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


def error_body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """Return an error answer's JSON; only the extra fields given appear in it."""
    detail = ErrorDetail(status=status, code=code, message=message, **extra)
    return ErrorResponse(error=detail).model_dump(mode="json", exclude_unset=True)


# --- obligations -------------------------------------------------------------------------------


class ObligationSummary(Shape):
    """One assessable obligation in a list, with its overall status."""

    id: str = Field(examples=["GDPR-17.1"])
    instrument: str = Field(examples=["GDPR"])
    citation: str
    title: str
    status: Status
    severity: str | None
    lifecycle: str | None = Field(description="active, deprecated, ...")
    url: str = Field(description="The obligation's address in this API.")


class ObligationList(Shape):
    """A page of obligations that pass the filters."""

    generated_at: Timestamp
    total: int = Field(description="How many obligations pass the filters (all pages).")
    limit: int
    offset: int
    notes: list[str] = Field(description="What the evidence scope lacks, if anything.")
    items: list[ObligationSummary]


class InstrumentRef(Shape):
    """The law or regulation an obligation belongs to."""

    id: str
    title: str
    jurisdiction: str


class SourcePlace(Shape):
    """Where in the catalog the obligation is written."""

    file: str
    line: int


class ObligationMapping(Shape):
    """A cross-law mapping of the obligation."""

    other: str
    other_title: str | None
    relationship: str
    direction: str
    notes: str | None


class VersionEntry(Shape):
    """One version of the obligation's normative text."""

    version: int
    created_at: Timestamp
    fingerprint: str
    changed_fields: list[str]


class LinkedWorkItem(Shape):
    """A work item linked to the obligation."""

    key: str
    summary: str
    status: str
    status_category: str
    url: str | None
    missing: bool
    origin: str
    suspect: bool
    linked_by: str
    linked_at: Timestamp


class LinkedTest(Shape):
    """A test linked to the obligation, with its latest result in the evidence scope."""

    test_id: str
    latest_outcome: str | None
    latest_run_id: int | None
    origin: str
    suspect: bool
    linked_by: str
    linked_at: Timestamp


class ObligationLinks(Shape):
    """The obligation's links to work items and tests."""

    work_items: list[LinkedWorkItem]
    tests: list[LinkedTest]


class StatusDetail(Shape):
    """The overall status, its three axes and why."""

    status: Status
    label: str
    implementation: Implementation
    verification: Verification
    suspect: bool
    explanation: str
    reasons: list[str]


class ApplicabilityDecision(Shape):
    """Legal's decision on whether the obligation applies."""

    not_applicable: bool
    justification: str
    decided_by: str
    decided_at: Timestamp


class ObligationDetail(Shape):
    """One obligation: catalog fields, mappings, versions, links and status."""

    id: str
    instrument: InstrumentRef
    citation: str
    title: str
    summary: str
    official_url: str
    assessable: bool
    severity: str | None
    lifecycle: str
    effective_date: date | None
    retired_at: Timestamp | None
    freshness_days: int
    applicability: dict[str, list[str]]
    parameters: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    tags: list[str]
    version: int
    fingerprint: str
    source: SourcePlace
    parent: str | None
    children: list[str]
    mappings: list[ObligationMapping]
    versions: list[VersionEntry]
    links: ObligationLinks
    status: StatusDetail | None = Field(description="None for a grouping of other obligations.")
    applicability_decision: ApplicabilityDecision | None


# --- the matrix --------------------------------------------------------------------------------


class MatrixWorkItem(Shape):
    """A linked work item as a matrix row carries it."""

    key: str
    summary: str
    status: str
    status_category: str
    url: str | None
    missing: bool
    suspect: bool
    origin: str


class TestCounts(Shape):
    """How the linked tests' latest results add up."""

    __test__ = False  # not a pytest test class

    total: int
    passed: int
    failed: int
    not_run: int
    stale: int


class MatrixRow(Shape):
    """One obligation in the matrix."""

    id: str
    instrument: str
    citation: str
    title: str
    severity: str | None
    status: Status
    implementation: Implementation
    verification: Verification
    suspect: bool
    work_items: list[MatrixWorkItem]
    tests: TestCounts
    signoff: SignOffState | None = Field(description="With a release in the scope only.")
    explanation: str


class Matrix(Shape):
    """The filtered and sorted matrix, and the evidence it was computed from."""

    generated_at: Timestamp
    rows: list[MatrixRow]
    evidence_scope: str = Field(description="Which test runs count, in words.")
    notes: list[str] = Field(description="What the evidence scope lacks, if anything.")


# --- work items --------------------------------------------------------------------------------


class CarriedObligation(Shape):
    """An obligation a work item carries (linked, or labelled in Jira)."""

    id: str
    title: str
    citation: str
    status: Status | None
    explanation: str | None
    origin: str
    label: str | None
    linked_by: str
    linked_at: Timestamp
    suspect: bool
    retired: bool
    url: str


class RemoteLink(Shape):
    """A remote link the tracker placed on the Jira issue."""

    obligation: str
    global_id: str
    title: str
    url: str
    resolved: bool
    pushed_at: Timestamp | None


class PushRun(Shape):
    """The latest push to Jira."""

    id: int
    status: str
    started_at: Timestamp
    finished_at: Timestamp | None
    problem: str | None


class PushState(Shape):
    """What the tracker placed on the issue in Jira, and what it still has to."""

    pushable: bool
    remote_links: list[RemoteLink]
    latest_run: PushRun | None
    not_pushed: list[str]
    to_remove: list[str]


class WorkItemDetail(Shape):
    """One work item: what Jira says, the obligations it carries, the last push."""

    key: str
    jira_id: str | None
    project: str | None
    summary: str
    issue_type: str
    status: str
    status_category: str
    fix_versions: list[str]
    labels: list[str]
    unknown_obligation_labels: list[str]
    retired_obligation_labels: list[str]
    assignee: str | None
    url: str | None
    jira_updated: Timestamp | None
    missing: bool
    in_scope: bool
    synced_at: Timestamp | None
    obligations: list[CarriedObligation]
    push: PushState


# --- releases ----------------------------------------------------------------------------------


class ReleaseSummary(Shape):
    """A release: a Jira fix version or one made in the tracker."""

    name: str
    release_date: date | None
    state: str = Field(description="unreleased, released or archived")
    released: bool
    archived: bool
    jira_projects: list[str]
    created_in_tracker: bool


class ReleaseList(Shape):
    """Every release, newest first."""

    releases: list[ReleaseSummary]


class BlockingObligation(Shape):
    """An obligation that blocks the release, and why."""

    id: str
    title: str
    verdict: str = Field(description="A status, or EXCEPTED.")
    signoff: SignOffState
    reasons: list[str]
    severity: str | None


class GateVerdict(Shape):
    """The release gate's verdict under the configured policy (else the default)."""

    release: str
    ready: bool
    signed_off: bool
    evidence: str = Field(description="Which test runs count, in words.")
    policy: PolicySpec
    counts: dict[str, int] = Field(description="Obligations per verdict.")
    obligations: int = Field(description="How many obligations are in scope.")
    blocking: list[BlockingObligation]
    expired_exceptions: list[int]
