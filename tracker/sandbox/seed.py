"""Seed data for the sandbox: a hand-written privacy demo and generated sets for benchmarks."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from tracker.sandbox.state import SandboxState

PROJECTS = (
    ("PRIV", "Privacy Platform"),
    ("APP", "Mobile App"),
    ("WEB", "Web Storefront"),
)
# (name, released, release date, archived)
VERSIONS = (
    ("2026.09", True, date(2026, 9, 24), True),
    ("2026.10", True, date(2026, 10, 29), False),
    ("2026.11", False, date(2026, 11, 26), False),
    ("2026.12", False, date(2026, 12, 17), False),
    ("2027.03", False, date(2027, 3, 25), False),
)
OBLIGATION_IDS = (
    "GDPR-5.1.c",
    "GDPR-5.1.e",
    "GDPR-7.1",
    "GDPR-7.3",
    "GDPR-12.3",
    "GDPR-15.1",
    "GDPR-15.3",
    "GDPR-16",
    "GDPR-17.1",
    "GDPR-17.2",
    "GDPR-20.1",
    "GDPR-21.2",
    "GDPR-25.2",
    "GDPR-30.1",
    "GDPR-32.1",
    "GDPR-33.1",
    "GDPR-34.1",
    "GDPR-35.1",
    "CCPA-1798.100.a",
    "CCPA-1798.105.c",
    "CCPA-1798.110.a",
    "CCPA-1798.120.a",
    "CCPA-1798.130.a.2",
    "CCPA-1798.135.a",
    "CCPAREGS-7021.b",
    "CCPAREGS-7025.c.1",
    "CCPAREGS-7026.a",
    "LGPD-18.II",
    "LGPD-18.VI",
    "LGPD-46",
    "LGPD-48",
    "HIPAA-164.312.a.2.iv",
    "HIPAA-164.312.b",
    "HIPAA-164.312.d",
    "HIPAA-164.312.e.1",
    "HIPAA-164.404.b",
)
UNKNOWN_OBLIGATION_LABEL = "obligation-GDPR-99.9"
#: Retention duties the demo data map derives (tracker.domain.retention), labelled by their id.
RETENTION_DUTY_IDS = ("RETENTION-healthSyncService.user.sensor",)
PEOPLE = ("Ana Souza", "Ben Carter", "Chloé Martin", "Dev Patel", "Erin Walsh")

# (project, summary, fix version, status category, obligation ids / extra labels)
DEMO_EPICS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    (
        "PRIV",
        "Erasure pipeline for account deletion",
        "2026.10",
        "done",
        ("GDPR-17.1", "LGPD-18.VI"),
    ),
    (
        "PRIV",
        "Propagate erasure requests to downstream processors",
        "2026.11",
        "indeterminate",
        ("GDPR-17.2",),
    ),
    (
        "PRIV",
        "Data subject access request export service",
        "2026.10",
        "done",
        ("GDPR-15.1", "GDPR-15.3", "LGPD-18.II"),
    ),
    (
        "PRIV",
        "Machine-readable export for data portability",
        "2026.11",
        "indeterminate",
        (),
    ),
    (
        "PRIV",
        "DSAR deadline tracking and extension notices",
        "2026.11",
        "indeterminate",
        ("GDPR-12.3", "CCPA-1798.130.a.2", "CCPAREGS-7021.b"),
    ),
    ("PRIV", "Rectification requests in the privacy portal", "2026.12", "new", ("GDPR-16",)),
    ("PRIV", "Record of processing activities registry", "2026.10", "done", ("GDPR-30.1",)),
    ("PRIV", "Consent receipt ledger with proof of consent", "2026.10", "done", ("GDPR-7.1",)),
    ("PRIV", "One-click consent withdrawal across products", "2026.12", "new", ()),
    (
        "PRIV",
        "Retention scheduler purges expired personal data",
        "2026.11",
        "indeterminate",
        ("GDPR-5.1.e", *RETENTION_DUTY_IDS),
    ),
    ("PRIV", "DPIA workflow for high-risk processing", "2026.12", "new", ()),
    (
        "PRIV",
        "Breach notification runbook with 72-hour timer",
        "2026.10",
        "done",
        ("GDPR-33.1", "LGPD-48"),
    ),
    ("PRIV", "Breach communication templates for data subjects", "2026.12", "new", ()),
    ("PRIV", "Encrypt ePHI at rest in claims DB", "2026.10", "done", ("HIPAA-164.312.a.2.iv",)),
    ("PRIV", "Audit logging for ePHI access", "2026.11", "indeterminate", ("HIPAA-164.312.b",)),
    (
        "PRIV",
        "TLS 1.3 for PHI in transit between services",
        "2026.11",
        "done",
        ("HIPAA-164.312.e.1",),
    ),
    (
        "PRIV",
        "HIPAA breach notification letters to individuals",
        "2026.12",
        "new",
        ("HIPAA-164.404.b",),
    ),
    ("PRIV", "Legacy retention exception register", "2026.12", "new", ("GDPR-99.9",)),
    ("PRIV", "Key rotation for the tokenisation vault", "2026.11", "indeterminate", ()),
    ("PRIV", "Subprocessor inventory and DPA tracker", "2026.12", "new", ()),
    ("PRIV", "Privacy engineering metrics dashboard", "2026.12", "new", ()),
    ("APP", "In-app account deletion flow", "2026.10", "done", ("CCPA-1798.105.c",)),
    (
        "APP",
        "Privacy notice at collection during onboarding",
        "2026.11",
        "indeterminate",
        ("CCPA-1798.100.a",),
    ),
    (
        "APP",
        "Right to know: disclose categories of personal data",
        "2026.12",
        "new",
        (),
    ),
    ("APP", "Privacy-by-default settings for new accounts", "2026.12", "new", ()),
    (
        "APP",
        "Entity authentication for the clinician app",
        "2026.12",
        "indeterminate",
        ("HIPAA-164.312.d",),
    ),
    ("APP", "Mobile SDK consent gating for analytics", "2026.11", "indeterminate", ()),
    ("APP", "Push notification preference centre", "2026.10", "done", ()),
    ("APP", "Crash reporter PII scrubbing", "2026.10", "done", ()),
    ("APP", "Biometric login hardening", "2026.12", "new", ()),
    ("APP", "App tracking transparency prompt", "2026.11", "done", ()),
    (
        "WEB",
        "Honour Global Privacy Control on web",
        "2026.11",
        "indeterminate",
        ("CCPAREGS-7025.c.1",),
    ),
    ("WEB", "Do Not Sell or Share link in the footer", "2026.10", "done", ("CCPA-1798.135.a",)),
    ("WEB", "Opt-out of sale and sharing toggle", "2026.11", "indeterminate", ("CCPA-1798.120.a",)),
    (
        "WEB",
        "Second opt-out method via web form and phone line",
        "2026.12",
        "new",
        (),
    ),
    ("WEB", "Objection handling for direct marketing", "2026.12", "new", ()),
    ("WEB", "Checkout data minimisation review", "2026.11", "indeterminate", ("GDPR-5.1.c",)),
    (
        "WEB",
        "WAF and bot protection for customer data",
        "2026.10",
        "done",
        ("GDPR-32.1", "LGPD-46"),
    ),
    ("WEB", "Cookie banner with reject-all parity", "2026.11", "done", ()),
    ("WEB", "Guest order data retention", "2026.12", "new", ()),
    ("WEB", "Marketing email unsubscribe audit", "2026.11", "indeterminate", ()),
)
# (parent epic summary, summary, issue type, status category)
DEMO_CHILDREN = (
    (
        "Erasure pipeline for account deletion",
        "Delete user rows from the orders service",
        "Story",
        "done",
    ),
    ("Erasure pipeline for account deletion", "Purge backups older than 35 days", "Task", "done"),
    ("Honour Global Privacy Control on web", "Detect Sec-GPC header at the edge", "Story", "done"),
    (
        "Honour Global Privacy Control on web",
        "Suppress ad pixels when GPC is on",
        "Story",
        "indeterminate",
    ),
    ("Audit logging for ePHI access", "Ship audit events to the SIEM", "Task", "new"),
    ("In-app account deletion flow", "Deletion confirmation screen", "Story", "done"),
)
_GENERATED_ACTIONS = (
    "Implement",
    "Harden",
    "Automate",
    "Document",
    "Review",
    "Migrate",
    "Instrument",
    "Test",
)
_GENERATED_SUBJECTS = (
    "erasure requests",
    "access request exports",
    "consent records",
    "retention jobs",
    "breach alerts",
    "cookie consent",
    "opt-out signals",
    "ePHI encryption",
    "audit trails",
    "vendor contracts",
    "privacy notices",
    "data maps",
)


def seed_demo(state: SandboxState, *, now: datetime | None = None) -> None:
    """Add the demo product: PRIV, APP and WEB with about 40 epics and a few stories."""
    base = _base_time(state, now, days_back=30)
    with state.batch():
        _ensure_projects(state)
        epic_keys: dict[str, str] = {}
        for index, (project, summary, version, status, ids) in enumerate(DEMO_EPICS):
            labels = [f"obligation-{obligation}" for obligation in ids]
            if index % 7 == 3:
                labels.append("privacy")
            created = base + timedelta(hours=6 * index)
            updated = created + timedelta(hours=1 + index % 5, minutes=7 * index % 60)
            issue = state.add_issue(
                project,
                summary,
                issuetype="Epic",
                status=status,
                fix_versions=[version],
                labels=labels,
                description=f"{summary}. Seeded by the Jira sandbox demo.",
                assignee=PEOPLE[index % len(PEOPLE)] if index % 6 else None,
                created=created,
                updated=updated,
                notify=False,
            )
            epic_keys[summary] = issue.key
        for offset, (parent, summary, issuetype, status) in enumerate(DEMO_CHILDREN):
            parent_key = epic_keys[parent]
            created = base + timedelta(days=11, hours=3 * offset)
            state.add_issue(
                parent_key.split("-")[0],
                summary,
                issuetype=issuetype,
                status=status,
                parent_key=parent_key,
                created=created,
                updated=created + timedelta(minutes=45),
                notify=False,
            )


def seed_generated(
    state: SandboxState, n: int, rng_seed: int = 0, *, now: datetime | None = None
) -> None:
    """Add `n` deterministic epics spread over projects, versions, statuses and labels."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible test data, not security
    base = _base_time(state, now, days_back=2) - timedelta(minutes=n)
    projects = [key for key, _ in PROJECTS]
    versions = [name for name, *_ in VERSIONS]
    statuses = ("new", "indeterminate", "done")
    with state.batch():
        _ensure_projects(state)
        for index in range(n):
            labels: list[str] = []
            if rng.random() < 0.5:
                labels = [
                    f"obligation-{obligation}"
                    for obligation in rng.sample(OBLIGATION_IDS, rng.choice((1, 1, 2)))
                ]
            created = base + timedelta(minutes=index)
            summary = (
                f"{rng.choice(_GENERATED_ACTIONS)} {rng.choice(_GENERATED_SUBJECTS)} #{index + 1}"
            )
            state.add_issue(
                projects[index % len(projects)],
                summary,
                issuetype="Epic",
                status=rng.choice(statuses),
                fix_versions=[rng.choice(versions)],
                labels=labels,
                created=created,
                updated=created + timedelta(seconds=rng.randrange(0, 3600)),
                notify=False,
            )


def _ensure_projects(state: SandboxState) -> None:
    for key, name in PROJECTS:
        if state.project(key) is not None:
            continue
        state.add_project(key, name)
        for version_name, released, release_date, archived in VERSIONS:
            state.add_version(
                key,
                version_name,
                released=released,
                release_date=release_date,
                archived=archived,
                description=f"{name} release {version_name}",
            )


def _base_time(state: SandboxState, now: datetime | None, *, days_back: int) -> datetime:
    # Seeded times sit in the past of the state clock, so later edits are always newer.
    current = now or state.now()
    return current.replace(second=0, microsecond=0) - timedelta(days=days_back)
