"""SQLModel tables: the catalog, Jira work items, tests and results, links, decisions, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlmodel import Field

from tracker.models.base import TableModel, as_utc, column_length, json_dict, json_list, utcnow

__all__ = ["TableModel", "as_utc", "column_length", "utcnow"]


# --- catalog ------------------------------------------------------------------------------


class Instrument(TableModel, table=True):
    """A law or regulation, e.g. GDPR."""

    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=300)
    short_name: str = Field(max_length=64)
    jurisdiction: str = Field(max_length=64)
    official_url: str = Field(max_length=500)
    effective_date: date | None = None
    attribution: str | None = Field(default=None, max_length=500)
    source_file: str = Field(max_length=300)
    retired_at: datetime | None = None


class Obligation(TableModel, table=True):
    """The current version of one assessable duty (or a grouping node) of an instrument."""

    id: str = Field(primary_key=True, max_length=80)
    instrument_id: str = Field(foreign_key="instrument.id", index=True, max_length=32)
    parent_id: str | None = Field(default=None, max_length=80)
    citation: str = Field(max_length=200)
    title: str = Field(max_length=300)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    official_url: str = Field(max_length=500)
    assessable: bool = True
    severity: str | None = Field(default=None, max_length=16)
    lifecycle_status: str = Field(default="active", max_length=16)
    effective_date: date | None = None
    freshness_days: int = 30
    applicability: dict[str, list[str]] = json_dict()
    parameters: list[dict[str, Any]] = json_list()
    evidence: list[dict[str, Any]] = json_list()
    tags: list[str] = json_list()
    # Who reviews it and how often (the catalog's fields, else the instrument's, else defaults).
    owner: str | None = Field(default=None, max_length=200)
    review_every_days: int | None = None
    version: int = 1
    fingerprint: str = Field(max_length=64)
    sort_key: str = Field(max_length=200, index=True)
    source_file: str = Field(max_length=300)
    source_line: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class ObligationVersion(TableModel, table=True):
    """A past or current version of an obligation's normative content."""

    __table_args__ = (UniqueConstraint("obligation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    version: int
    fingerprint: str = Field(max_length=64)
    content: dict[str, Any] = json_dict()
    created_at: datetime = Field(default_factory=utcnow)


class ObligationMapping(TableModel, table=True):
    """A cross-law relationship from one obligation to another (equivalent-to, subset-of, ...)."""

    __table_args__ = (UniqueConstraint("source_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    target_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    relationship: str = Field(max_length=32)
    notes: str | None = Field(default=None, sa_column=Column(Text))


# --- Jira -----------------------------------------------------------------------------------


class WorkItem(TableModel, table=True):
    """The tracker's copy of a Jira issue (usually an epic)."""

    key: str = Field(primary_key=True, max_length=64)
    jira_id: str | None = Field(default=None, max_length=32)
    project_key: str | None = Field(default=None, max_length=32, index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    issue_type: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=64)
    status_category: str = Field(default="new", max_length=16)
    fix_versions: list[str] = json_list()
    labels: list[str] = json_list()
    assignee: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=500)
    updated: datetime | None = None
    missing: bool = False
    # False when only fetched by key because it is linked (outside the sync's JQL).
    in_scope: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    synced_at: datetime | None = None


class LinkRecord(TableModel):
    """What every link records: where it came from, its review and its removal (rows stay)."""

    origin: str = Field(default="manual", max_length=16)
    reviewed_version: int = 1
    reviewed_fingerprint: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = None
    removed_by: str | None = Field(default=None, max_length=200)
    removed_at: datetime | None = None


class WorkItemLink(LinkRecord, table=True):
    """Obligation to work item; removed links keep their row with removed_at set."""

    __table_args__ = (Index("ix_workitemlink_pair", "obligation_id", "work_item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    work_item_key: str = Field(foreign_key="workitem.key", index=True, max_length=64)


class JiraVersion(TableModel, table=True):
    """A Jira fix version (a release) of a project."""

    id: str = Field(primary_key=True, max_length=32)
    project_key: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    released: bool = False
    archived: bool = False
    release_date: date | None = None


class TrackerRelease(TableModel, table=True):
    """A release created in the tracker; Jira fix versions of the same name join it."""

    __tablename__ = "release"

    name: str = Field(primary_key=True, max_length=200)
    release_date: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SignOff(TableModel, table=True):
    """Legal's statement that an obligation is met for a release; the newest one counts."""

    __table_args__ = (Index("ix_signoff_release_obligation", "release", "obligation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    obligation_version: int
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=32)  # the status it was given on
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signed_by: str = Field(max_length=200)
    signed_by_ref: str = Field(max_length=64)
    signed_role: str | None = Field(default=None, max_length=16)
    signed_at: datetime = Field(default_factory=utcnow)


class ReleaseException(TableModel, table=True):
    """An accepted risk for one obligation in one release: requested, approved by another."""

    __table_args__ = (Index("ix_releaseexception_release", "release", "obligation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    justification: str = Field(sa_column=Column(Text, nullable=False))
    compensating_control: str = Field(sa_column=Column(Text, nullable=False))
    risk_owner: str = Field(max_length=200)
    expires_on: date
    requested_by: str = Field(max_length=200)
    requested_by_ref: str = Field(max_length=64)
    requested_at: datetime = Field(default_factory=utcnow)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_by_ref: str | None = Field(default=None, max_length=64)
    approved_role: str | None = Field(default=None, max_length=16)
    approved_at: datetime | None = None
    withdrawn_at: datetime | None = None


class ReadinessRecord(TableModel, table=True):
    """How many obligations blocked a release on a day (the burn-down's history)."""

    release: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    blocking: int
    total: int
    recorded_at: datetime = Field(default_factory=utcnow)


class ReleaseSnapshot(TableModel, table=True):
    """A frozen record of a release: canonical JSON, its hash and the previous snapshot's."""

    id: int | None = Field(default=None, primary_key=True)
    release: str = Field(max_length=200, index=True)
    hash: str = Field(max_length=64, unique=True)
    previous_hash: str | None = Field(default=None, max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    ready: bool
    frozen_by: str = Field(max_length=200)
    frozen_at: datetime = Field(default_factory=utcnow)


class SyncRun(TableModel, table=True):
    """One run of a Jira sync or push, with what it did and what went wrong."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="sync", max_length=16)
    status: str = Field(default="running", max_length=32)
    full: bool = False
    dry_run: bool = False
    actor: str = Field(default="system", max_length=200)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    watermark_from: datetime | None = None
    watermark_to: datetime | None = None
    pages: int = 0
    requests: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    links_added: int = 0
    links_removed: int = 0
    problems: list[str] = json_list()


class SyncLock(TableModel, table=True):
    """A named lock row; inserting it is how one sync excludes another on any database."""

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    # Where the holder runs, so a lock left by a killed process on this host is taken over.
    host: str | None = Field(default=None, max_length=200)
    pid: int | None = None


class RemoteLinkState(TableModel, table=True):
    """What the tracker last pushed to a Jira issue as a remote link, by its stable globalId."""

    __table_args__ = (UniqueConstraint("work_item_key", "global_id"),)

    id: int | None = Field(default=None, primary_key=True)
    work_item_key: str = Field(max_length=64, index=True)
    global_id: str = Field(max_length=255)
    obligation_id: str = Field(max_length=80, index=True)
    title: str = Field(max_length=500)
    url: str = Field(max_length=500)
    resolved: bool = False
    pushed_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(TableModel, table=True):
    """A Jira webhook delivery already processed, for de-duplication and the Jira page's counts.

    identifier is "sha256:" and the hash of Jira's identifier header, or "body-sha256:" and the
    hash of the signed body when there is no header; outcome is applied, stale, deleted or
    ignored.
    """

    identifier: str = Field(primary_key=True, max_length=200)
    event: str = Field(max_length=64)
    issue_key: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(
        default="applied", max_length=16, sa_column_kwargs={"server_default": "applied"}
    )


class EpicRequest(TableModel, table=True):
    """An epic the tracker created for an obligation's gap, so a re-run never creates two."""

    __table_args__ = (UniqueConstraint("obligation_id", "project_key"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    project_key: str = Field(max_length=32)
    work_item_key: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


# --- tests ----------------------------------------------------------------------------------


class TestCase(TableModel, table=True):
    """An automated test, identified across runs by suite/classname/name."""

    __test__ = False  # not a pytest test class

    id: int | None = Field(default=None, primary_key=True)
    test_id: str = Field(sa_column=Column(String(1000), unique=True, nullable=False))
    suite: str = Field(default="", max_length=300)
    classname: str = Field(default="", sa_column=Column(Text, nullable=False))
    name: str = Field(default="", sa_column=Column(Text, nullable=False))
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None


class TestLink(LinkRecord, table=True):
    """Obligation to test case; removed links keep their row with removed_at set."""

    __test__ = False
    __table_args__ = (Index("ix_testlink_pair", "obligation_id", "test_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", max_length=80)
    test_case_id: int = Field(foreign_key="testcase.id", index=True)


class UnknownClaim(TableModel, table=True):
    """A test's newest report names an obligation id the catalog does not have."""

    __test__ = False

    test_case_id: int = Field(foreign_key="testcase.id", primary_key=True)
    claimed_id: str = Field(primary_key=True, max_length=200)
    run_id: int = Field(foreign_key="testrun.id", index=True)


class TestRun(TableModel, table=True):
    """One ingested test report."""

    __test__ = False

    id: int | None = Field(default=None, primary_key=True)
    suite: str = Field(max_length=300, index=True)
    commit: str | None = Field(default=None, max_length=64)
    branch: str | None = Field(default=None, max_length=200)
    release: str | None = Field(default=None, max_length=200)
    environment: str | None = Field(default=None, max_length=200)
    source_name: str = Field(default="", max_length=300)
    content_hash: str = Field(max_length=64, unique=True)
    uploaded_by: str = Field(default="", max_length=200)
    token_id: int | None = Field(default=None, foreign_key="apitoken.id")
    started_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    unknown_ids: list[str] = json_list()
    invalid_ids: list[str] = json_list()


class TestResult(TableModel, table=True):
    """The outcome of one test case in one run."""

    __test__ = False
    __table_args__ = (Index("ix_testresult_case_run", "test_case_id", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="testrun.id", index=True)
    test_case_id: int = Field(foreign_key="testcase.id")
    outcome: str = Field(max_length=16)
    flaky: bool = False
    duration: float | None = None
    message: str | None = Field(default=None, sa_column=Column(Text))
    # The message's full size in bytes when it was cut to the text limit; None: kept whole.
    message_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    # When the report ran the test more than once: each attempt, as JSON (see ingest).
    attempts: str | None = Field(default=None, sa_column=Column(Text))


class User(TableModel, table=True):
    """A person's account: e-mail, name, role; a password hash (Argon2id) or a single sign-on."""

    __tablename__ = "useraccount"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255)
    sso_subject: str | None = Field(default=None, max_length=255, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class LoginSession(TableModel, table=True):
    """One signed-in browser: ended by log-out, idleness, a password reset or disabling."""

    id: str = Field(primary_key=True, max_length=64)  # SHA-256 of the key in the cookie
    user_id: int = Field(foreign_key="useraccount.id", index=True)
    method: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class ApiToken(TableModel, table=True):
    """A token for CI and scripts: its scopes, limits and owner; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = json_list()
    suites: list[str] = json_list()
    branches: list[str] = json_list()
    owner_id: int | None = Field(default=None, foreign_key="useraccount.id", index=True)
    created_by: str = Field(default="", max_length=200)
    # Tokens made before scopes existed were given results:write and no expiry.
    migrated: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


# --- decisions and history ------------------------------------------------------------------


class ApplicabilityDecision(TableModel, table=True):
    """Legal's decision on whether an obligation applies; the newest row is the current one."""

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: str = Field(foreign_key="obligation.id", index=True, max_length=80)
    not_applicable: bool
    justification: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=200)
    decided_role: str | None = Field(default=None, max_length=16)
    decided_at: datetime = Field(default_factory=utcnow)
    # The data map's proposal the decision was made against (None: made without one); a
    # proposal whose fingerprint has moved on since marks the decision for re-review.
    basis_proposal: str | None = Field(default=None, max_length=24)
    basis_fingerprint: str | None = Field(default=None, max_length=64)


class AuditEvent(TableModel, table=True):
    """Who did what to which thing, with the state before and after; append-only, hash-chained."""

    __table_args__ = (Index("ix_auditevent_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    actor_ref: str = Field(default="system", max_length=64, index=True)
    actor_role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=1000)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHead(TableModel, table=True):
    """The last audit event written: appends lock this row, and a verifier checks the tail."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class DataGeneration(TableModel, table=True):
    """The one row counting committed writes that can change a status (see tracker.generation)."""

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    token: str = Field(max_length=32)
    changed_at: datetime = Field(default_factory=utcnow)


# --- background jobs ------------------------------------------------------------------------


class Job(TableModel, table=True):
    """One background job: what it is, how far it got and how it ended (what /jobs shows)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    state: str = Field(default="queued", max_length=16, index=True)
    params: dict[str, Any] = json_dict()
    progress_text: str | None = Field(default=None, max_length=300)
    progress_done: int | None = None
    progress_total: int | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    failure: str | None = Field(default=None, max_length=1000)
    actor: str = Field(default="system", max_length=200)
    actor_ref: str = Field(default="system", max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    task_id: str | None = Field(default=None, max_length=64)
    # "kind@minute" of a scheduled run: workers that all fire the schedule record it once.
    schedule_key: str | None = Field(default=None, max_length=100, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker: str | None = Field(default=None, max_length=300)  # host:pid, shown
    worker_host: str | None = Field(default=None, max_length=200)  # as sync_lock.host_identity
    worker_pid: int | None = None


class JobUpload(TableModel, table=True):
    """A report waiting for its ingest job, in parts, so a worker on any machine can read it."""

    job_id: int = Field(foreign_key="job.id", primary_key=True)
    part: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# The privacy program's tables (data map, DPIAs, retention, reviews) live in their own module.
from tracker.models.privacy_program import (  # noqa: E402
    ApplicabilityProposal,
    DataSystem,
    Dpia,
    DpiaSignOff,
    ProcessingActivity,
    RetentionDuty,
    Review,
    ReviewCampaign,
)

__all__ += [
    "ApplicabilityProposal",
    "DataSystem",
    "Dpia",
    "DpiaSignOff",
    "ProcessingActivity",
    "RetentionDuty",
    "Review",
    "ReviewCampaign",
]
