"""SQLModel tables, one module per area; every table is imported here so that it registers.

`from tracker.models import X` works for every table and for the helpers of tracker.models.base.
"""

from __future__ import annotations

from tracker.models.accounts import ApiToken, LoginSession, User
from tracker.models.audit import AuditChainHead, AuditEvent, DataGeneration, DataGenerationChange
from tracker.models.base import TableModel, as_utc, column_length, utcnow
from tracker.models.catalog import (
    ApplicabilityDecision,
    Instrument,
    Obligation,
    ObligationMapping,
    ObligationVersion,
)
from tracker.models.evidence import TestCase, TestResult, TestRun, UnknownClaim
from tracker.models.jira import (
    EpicRequest,
    JiraVersion,
    RemoteLinkState,
    SyncLock,
    SyncRun,
    WebhookDelivery,
    WorkItem,
)
from tracker.models.jobs import Job, JobUpload
from tracker.models.links import LinkRecord, TestLink, WorkItemLink
from tracker.models.privacy_program import (
    ApplicabilityProposal,
    DataSystem,
    Dpia,
    DpiaSignOff,
    ProcessingActivity,
    RetentionDuty,
    Review,
    ReviewCampaign,
)
from tracker.models.releases import (
    ReadinessRecord,
    ReleaseException,
    ReleaseSnapshot,
    SignOff,
    TrackerRelease,
)

__all__ = [
    "ApiToken",
    "ApplicabilityDecision",
    "ApplicabilityProposal",
    "AuditChainHead",
    "AuditEvent",
    "DataGeneration",
    "DataGenerationChange",
    "DataSystem",
    "Dpia",
    "DpiaSignOff",
    "EpicRequest",
    "Instrument",
    "JiraVersion",
    "Job",
    "JobUpload",
    "LinkRecord",
    "LoginSession",
    "Obligation",
    "ObligationMapping",
    "ObligationVersion",
    "ProcessingActivity",
    "ReadinessRecord",
    "ReleaseException",
    "ReleaseSnapshot",
    "RemoteLinkState",
    "RetentionDuty",
    "Review",
    "ReviewCampaign",
    "SignOff",
    "SyncLock",
    "SyncRun",
    "TableModel",
    "TestCase",
    "TestLink",
    "TestResult",
    "TestRun",
    "TrackerRelease",
    "UnknownClaim",
    "User",
    "WebhookDelivery",
    "WorkItem",
    "WorkItemLink",
    "as_utc",
    "column_length",
    "utcnow",
]
