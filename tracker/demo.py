"""The demo: a local Jira sandbox, the bundled catalog, a sync, a push and a test report.

Everything flows through the real paths: the tracker syncs epics from the sandbox over HTTP
with the `jira` client, pushes remote links back onto them, receives the sandbox's signed
webhooks, and ingests a JUnit report, exactly as it would with a real Jira and a real CI.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import select

from tracker import migrate
from tracker.catalog import read_catalog
from tracker.data_map.reader import read_data_map
from tracker.db import get_engine, session_scope
from tracker.domain.access import Role, cli_actor
from tracker.domain.applicability_vocabulary import ProposalKind
from tracker.errors import CatalogError, NotFoundError
from tracker.integrations.jira_gateway import make_gateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import ApplicabilityDecision, Review, utcnow
from tracker.services.accounts import (
    create_user,
    find_user,
    generate_password,
    reset_password,
    set_active,
    set_role,
    user_actor,
)
from tracker.services.applicability_confirm import confirm_proposals
from tracker.services.applicability_proposals import list_proposals
from tracker.services.applicability_refresh import refresh_proposals
from tracker.services.catalog import CatalogLoadReport, load_catalog
from tracker.services.data_map import load_data_map, stored_obligation_ids
from tracker.services.dpia_signoffs import sign_off_dpia
from tracker.services.dpias import SignOffState, choose_release, risk_register
from tracker.services.ingest import IngestReport, RunOptions, ingest_report
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira
from tracker.services.links import decide_applicability
from tracker.services.release_decisions import approve_exception, request_exception, sign_off
from tracker.services.release_readiness import record_readiness, release_readiness
from tracker.services.releases import find_release, list_releases
from tracker.services.reviews import (
    create_campaign,
    list_campaigns,
    overdue_by_owner,
    record_ad_hoc_review,
    record_review,
    review_items,
)
from tracker.services.snapshots import freeze_release, list_snapshots

if TYPE_CHECKING:
    from tracker.sandbox.server import SandboxServer

DEMO_EMAIL = "demo@example.com"
DEMO_JQL = "project in (PRIV, APP, WEB) AND issuetype = Epic"
DEMO_ACTOR = cli_actor("tracker demo")
DEMO_ACCOUNT_DOMAIN = "demo.example"
DEMO_FROZEN_RELEASE = "2026.10"
DEMO_SIGNED_DPIA = "dpia-health-sync"


@dataclass
class DemoJira:
    """The running sandbox and the settings the tracker uses to reach it."""

    server: SandboxServer
    settings: JiraSettings


def free_port(preferred: int, host: str = "127.0.0.1") -> int:
    """Return the preferred port if it is free on host, else one the system picks."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on the loopback interface")


def start_demo_jira(*, sandbox_port: int, tracker_url: str) -> DemoJira:
    """Start the Jira sandbox with the demo product, sending signed webhooks to the tracker."""
    from tracker.sandbox.context import SandboxAuth
    from tracker.sandbox.seed import seed_demo
    from tracker.sandbox.server import SandboxServer
    from tracker.sandbox.state import SandboxState
    from tracker.sandbox.webhooks import WebhookConfig

    token = secrets.token_urlsafe(16)
    webhook_secret = secrets.token_urlsafe(16)
    state = SandboxState()
    seed_demo(state)
    server = SandboxServer(
        state,
        mode="cloud",
        port=free_port(sandbox_port),
        auth=SandboxAuth(email=DEMO_EMAIL, token=token),
        webhook=WebhookConfig(
            url=f"{tracker_url.rstrip('/')}/webhooks/jira", secret=webhook_secret
        ),
    )
    settings = JiraSettings(
        url=server.url,
        email=DEMO_EMAIL,
        api_token=token,
        jql=DEMO_JQL,
        webhook_secret=webhook_secret,
        push_after_sync=True,
        timeout=10.0,
    )
    return DemoJira(server=server, settings=settings)


@dataclass
class DemoSummary:
    """What the demo set up, the problems it met (each named) and the accounts to sign in with."""

    steps: list[tuple[str, str]] = field(default_factory=list)  # (what, how it went)
    problems: list[str] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)

    def step(self, what: str, text: str) -> None:
        """Record one step's outcome."""
        self.steps.append((what, text))

    def problem(self, text: str) -> None:
        """Record a problem once, however many steps met it."""
        if text not in self.problems:
            self.problems.append(text)

    def lines(self, *, tracker_url: str | None = None, log_file: str | None = None) -> list[str]:
        """Return the console summary: address, what was done, each problem, the accounts."""
        rows: list[tuple[str, str]] = []
        if tracker_url:
            rows.append(("Open", f"{tracker_url.rstrip('/')}/ and sign in with an account below"))
        rows += self.steps
        width = max((len(what) for what, _ in rows), default=0) + 1
        lines = ["The demo is ready." if tracker_url else "The demo data is ready."]
        lines += [f"  {what + ':':<{width}} {text}" for what, text in rows]
        if self.problems:
            lines.append(f"Problems found ({len(self.problems)}):")
            lines += [f"  - {problem}" for problem in self.problems]
        else:
            lines.append("Problems found: none.")
        lines += account_lines(self.accounts)
        if log_file:
            lines.append(f"Requests, webhook deliveries and warnings are logged to {log_file}.")
        return lines


def prepare_demo(app: Flask, settings: JiraSettings | None) -> DemoSummary:
    """Upgrade the schema, load the catalog, sync and push Jira, ingest the demo report."""
    engine = get_engine(app)
    summary = DemoSummary()
    migrate.upgrade(engine)
    summary.step("Database", engine.url.render_as_string(hide_password=True))
    catalog = read_catalog(app.config["CATALOG_PATH"])
    if not catalog.ok:
        raise CatalogError(
            "The bundled catalog has problems; run `tracker catalog validate`.",
            list(catalog.problems),
        )
    with session_scope(engine) as session:
        loaded = load_catalog(session=session, catalog=catalog, actor=DEMO_ACTOR)
        refresh_proposals(session=session, actor=DEMO_ACTOR)
    summary.step("Catalog", _catalog_line(loaded))
    summary.step("Data map", demo_data_map(app))
    accounts = demo_accounts(engine)
    with session_scope(engine) as session:
        if session.exec(select(ApplicabilityDecision)).first() is None:
            # What legal records from the obligation page when a duty does not apply.
            decide_applicability(
                session=session,
                obligation_id="HIPAA-164.312.a.2.ii",
                not_applicable=True,
                justification=(
                    "The product stores no ePHI outside the claims system, whose emergency "
                    "access procedure is run and evidenced by the hosting provider."
                ),
                actor=DEMO_ACTOR,
            )
    summary.step("Applicability", demo_applicability(app, accounts))
    if settings is not None:
        gateway = make_gateway(settings)
        synced = sync_jira(
            engine=engine, gateway=gateway, jql=settings.jql, full=True, actor=DEMO_ACTOR
        )
        summary.step("Jira sync", f"from the sandbox at {settings.url}: {synced.summary()}")
        for problem in synced.problems:
            summary.problem(f"Jira sync: {problem}")
        # The sandbox starts empty each time: send every remote link, whatever was remembered.
        pushed = push_links(
            engine=engine,
            gateway=gateway,
            public_url=app.config["PUBLIC_URL"],
            full=True,
            actor=DEMO_ACTOR,
        )
        summary.step("Jira push", pushed.summary())
        _push_problems(summary, pushed.failed)
    # Two earlier nightly runs and today's, so evidence pages show a history.
    # The oldest run was the release run of 2026.10, which the demo freezes.
    runs = []
    unknown: dict[str, list[int]] = {}
    for days_ago, name, commit, release in (
        (8, "demo_results_earlier.xml", "9b1e07c2d4aa", DEMO_FROZEN_RELEASE),
        (1, "demo_results_earlier.xml", "c03f5d6e8b21", "2026.12"),
        (0, "demo_results.xml", "4f2c9e1a7b3d", "2026.12"),
    ):
        with session_scope(engine) as session:
            ingested = ingest_report(
                session=session,
                source=demo_report(name, days_ago),
                options=RunOptions(
                    suite="product-tests",
                    commit=commit,
                    branch=app.config["DEFAULT_BRANCH"],
                    release=release,
                    environment="ci",
                    source_name=name,
                ),
                uploaded_by=DEMO_ACTOR,
            )
        runs.append(ingested)
        for obligation_id in ingested.unknown_ids:
            unknown.setdefault(obligation_id, []).append(ingested.run_id)
    summary.step("Test reports", _runs_summary(runs))
    for obligation_id, run_ids in unknown.items():
        summary.problem(
            f"Test runs {', '.join(f'#{run_id}' for run_id in run_ids)} name the obligation "
            f"{obligation_id}, which is not in the catalog: fix the tests or the catalog."
        )
    if settings is not None:
        pushed = push_links(
            engine=engine,
            gateway=make_gateway(settings),
            public_url=app.config["PUBLIC_URL"],
            actor=DEMO_ACTOR,
        )
        summary.step("Jira push again", pushed.summary())
        _push_problems(summary, pushed.failed)
    summary.step("Releases", demo_release_decisions(app, accounts))
    summary.step("DPIAs", demo_dpia_sign_off(app, accounts))
    summary.step("Reviews", demo_reviews(app, accounts))
    summary.accounts = list(accounts.values())
    return summary


def demo_applicability(app: Flask, accounts: dict[Role, DemoAccount]) -> str:
    """Have legal confirm the HIPAA proposals (not applicable: no activity processes ePHI).

    Adding `user.health_and_medical` to health-sync in the data map then proposes the HIPAA
    duties and marks these decisions for review (see /applicability).
    """
    engine = get_engine(app)
    with session_scope(engine) as session:
        hipaa = list_proposals(session, instrument="HIPAA").rows
        ids = [
            row.obligation_id
            for row in hipaa
            if row.confirmable and row.proposal is ProposalKind.NOT_APPLICABLE
        ]
        if ids:
            legal = user_actor(find_user(session, accounts[Role.LEGAL].email))
            confirm_proposals(session=session, obligation_ids=ids, actor=legal)
        counts = list_proposals(session).by_proposal
    return (
        f"{counts[ProposalKind.APPLICABLE]} obligations proposed applicable, "
        f"{counts[ProposalKind.NOT_APPLICABLE]} not applicable, "
        f"{counts[ProposalKind.UNKNOWN]} for legal to decide; legal confirmed "
        f"{len(ids)} HIPAA proposals (not applicable) now. See /applicability."
    )


def demo_data_map(app: Flask) -> str:
    """Load the bundled data map (DATA_MAP_PATH) after the catalog; return the summary line."""
    engine = get_engine(app)
    with session_scope(engine) as session:
        data_map = read_data_map(
            app.config["DATA_MAP_PATH"], known_obligations=stored_obligation_ids(session)
        )
        if not data_map.ok:
            raise CatalogError(
                "The bundled data map has problems; run `tracker datamap validate`.",
                list(data_map.problems),
            )
        loaded = load_data_map(session=session, data_map=data_map, actor=DEMO_ACTOR)
    duties = len(loaded.retention.added) + len(loaded.retention.changed)
    line = data_map.summary()
    if duties:
        line += f"; {duties} retention duties derived (see /retention)"
    return line + "."


def _catalog_line(loaded: CatalogLoadReport) -> str:
    """Return the catalog load in a few words: its size and only the counts that are not 0."""
    counts = [
        (len(loaded.created), "created"),
        (len(loaded.new_versions), "with a new version"),
        (len(loaded.updated), "updated"),
        (loaded.unchanged, "unchanged"),
        (len(loaded.retired), "retired"),
        (len(loaded.restored), "restored"),
    ]
    done = ", ".join(f"{count} {what}" for count, what in counts if count)
    return f"{loaded.instruments} instruments, {loaded.size}: {done or 'nothing to do'}."


def _push_problems(summary: DemoSummary, failed: dict[str, str]) -> None:
    for key, error in sorted(failed.items()):
        summary.problem(f"Jira push to {key} failed: {error}")


def _runs_summary(runs: list[IngestReport]) -> str:
    """Return one line for the demo's test reports: the runs made and the latest's counts."""
    added = [run for run in runs if not run.duplicate]
    numbers = ", ".join(f"#{run.run_id}" for run in runs)
    if not added:
        return f"{len(runs)} reports, already ingested as runs {numbers}; nothing was added."
    latest = runs[-1]
    return (
        f"{len(runs)} reports as runs {numbers} ({len(added)} new); latest run "
        f"#{latest.run_id}: {latest.total} tests, {latest.passed} passed, {latest.failed} "
        f"failed, {latest.errors} errors, {latest.skipped} skipped."
    )


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its freshly generated password (printed once, never stored)."""

    email: str
    role: Role
    password: str


def demo_accounts(engine: Engine) -> dict[Role, DemoAccount]:
    """Create one account per role, or give the existing ones new generated passwords."""
    accounts: dict[Role, DemoAccount] = {}
    with session_scope(engine) as session:
        for role in Role:
            email = f"{role.value}@{DEMO_ACCOUNT_DOMAIN}"
            password = generate_password()
            try:
                find_user(session, email)
            except NotFoundError:
                create_user(
                    session=session,
                    email=email,
                    role=role,
                    display_name=f"Demo {role.value}",
                    password=password,
                    actor=DEMO_ACTOR,
                )
            else:
                set_role(session=session, email=email, role=role, actor=DEMO_ACTOR)
                set_active(session=session, email=email, active=True, actor=DEMO_ACTOR)
                reset_password(session=session, email=email, password=password, actor=DEMO_ACTOR)
            accounts[role] = DemoAccount(email, role, password)
    return accounts


def demo_release_decisions(app: Flask, accounts: dict[Role, DemoAccount]) -> str:
    """Sign off and except obligations of 2026.10, then freeze it (once; demo data)."""
    engine = get_engine(app)
    with session_scope(engine) as session:
        if list_snapshots(session=session, release=DEMO_FROZEN_RELEASE):
            return f"{DEMO_FROZEN_RELEASE} frozen already; the others stay open."
        try:
            find_release(session=session, name=DEMO_FROZEN_RELEASE)
        except NotFoundError:
            return "none (they are Jira fix versions, and the Jira sandbox is off)"
        legal = user_actor(find_user(session, accounts[Role.LEGAL].email))
        compliance = user_actor(find_user(session, accounts[Role.COMPLIANCE].email))
        branch = app.config["DEFAULT_BRANCH"]
        readiness = release_readiness(
            session=session, release=DEMO_FROZEN_RELEASE, default_branch=branch
        )
        signable = [row.id for row in readiness.rows if row.result.status.value == "VERIFIED"]
        signed = (
            sign_off(
                session=session,
                release=DEMO_FROZEN_RELEASE,
                obligation_ids=signable,
                statement="Demo data: the verified obligations were reviewed at demo set-up.",
                actor=legal,
                default_branch=branch,
            ).signed
            if signable
            else []
        )
        gaps = [row.id for row in readiness.rows if row.result.status.value == "GAP"]
        if gaps:
            exception = request_exception(
                session=session,
                release=DEMO_FROZEN_RELEASE,
                obligation_id=gaps[0],
                justification="Demo data: the feature this duty concerns is not enabled yet.",
                compensating_control="Demo data: the feature flag is off and checked weekly.",
                risk_owner="Demo compliance officer",
                expires_on=utcnow().date() + timedelta(days=90),
                actor=compliance,
            )
            approve_exception(session=session, exception_id=exception.id or 0, actor=legal)
        readiness = release_readiness(
            session=session, release=DEMO_FROZEN_RELEASE, default_branch=branch
        )
        snapshot = freeze_release(session=session, readiness=readiness, actor=compliance)
        for release in list_releases(session=session):
            if not release.released and not release.archived:
                record_readiness(
                    session=session,
                    readiness=release_readiness(
                        session=session, release=release.name, default_branch=branch
                    ),
                )
    return (
        f"{DEMO_FROZEN_RELEASE}: {len(signed)} sign-offs, one approved exception, frozen as "
        f"snapshot #{snapshot.id} ({'ready' if snapshot.ready else 'blocked'}); "
        "the others stay open."
    )


def demo_dpia_sign_off(app: Flask, accounts: dict[Role, DemoAccount]) -> str:
    """Have legal sign off the health-sync DPIA (once); return the risk register in a line."""
    engine = get_engine(app)
    with session_scope(engine) as session:
        choice = choose_release(session=session, default_branch=app.config["DEFAULT_BRANCH"])
        register = risk_register(session=session, choice=choice)
        dpia = next((item for item in register.dpias if item.id == DEMO_SIGNED_DPIA), None)
        if dpia is not None and dpia.sign_off.state is not SignOffState.CURRENT:
            legal = user_actor(find_user(session, accounts[Role.LEGAL].email))
            sign_off_dpia(
                session=session,
                dpia_id=dpia.id,
                next_review_on=utcnow().date() + timedelta(days=365),
                note="Demo data: reviewed with the wellness team at demo set-up.",
                actor=legal,
            )
        lowered = [
            f"{entry.dpia.id} {entry.risk.id} {entry.risk.inherent_score} → "
            f"{entry.risk.residual_score}"
            for entry in register.entries
            if entry.risk.residual_score < entry.risk.inherent_score
        ]
    where = f"release {choice.release}" if choice.release else "the newest evidence"
    signed = f"; {DEMO_SIGNED_DPIA} signed off by legal" if dpia is not None else ""
    return (
        f"{len(register.dpias)} DPIAs, {len(register.entries)} risks in {where}; residual "
        f"below inherent: {', '.join(lowered) or 'none'}{signed}. See /risks."
    )


DEMO_CAMPAIGN = "Demo: yearly privacy review"


def demo_reviews(app: Flask, accounts: dict[Role, DemoAccount]) -> str:
    """Run compliance's review campaign for legal (once): two recorded, one not conforming.

    Two activities were last reviewed long ago (demo data), so /reviews lists overdue
    reviews for both owners.
    """
    engine = get_engine(app)
    today = utcnow().date()
    with session_scope(engine) as session:
        done = any(row.campaign.name == DEMO_CAMPAIGN for row in list_campaigns(session=session))
        reviewable = {(item.kind, item.id) for item in review_items(session=session, today=today)}
        if not done:
            legal = user_actor(find_user(session, accounts[Role.LEGAL].email))
            compliance = user_actor(find_user(session, accounts[Role.COMPLIANCE].email))
            for activity, owner, days_ago in (
                ("product-analytics", legal, 200),  # every 180 days: 20 days overdue
                ("customer-support", compliance, 400),  # every 365 days: 35 days overdue
            ):
                if ("activity", activity) in reviewable:
                    record_ad_hoc_review(
                        session=session,
                        kind="activity",
                        item_id=activity,
                        outcome="conforming",
                        finding=None,
                        actor=owner,
                        at=utcnow() - timedelta(days=days_ago),
                    )
            wanted = [
                ("activity", "sign-up"),
                ("obligation", "GDPR-17.1"),
                ("activity", "health-sync"),
                ("obligation", "GDPR-33.1"),
                ("dpia", "dpia-health-sync"),
            ]
            created = create_campaign(
                session=session,
                name=DEMO_CAMPAIGN,
                due_on=today + timedelta(days=21),
                items=[item for item in wanted if item in reviewable],
                reviewer=accounts[Role.LEGAL].email,
                note="Demo data: the yearly review of the sign-up and health features.",
                actor=compliance,
            )
            session.flush()
            outcomes = {
                ("activity", "sign-up"): ("conforming", None),
                ("obligation", "GDPR-17.1"): (
                    "not_conforming",
                    "Demo data: account erasure leaves the person's rows in the analytics "
                    "warehouse for 90 days; the erasure job must cover it.",
                ),
            }
            reviews = session.exec(
                select(Review).where(Review.campaign_id == created.campaign.id)
            ).all()
            for review in reviews:
                outcome = outcomes.get((review.item_kind, review.item_id))
                if outcome is not None:
                    record_review(
                        session=session,
                        review_id=review.id or 0,
                        outcome=outcome[0],
                        finding=outcome[1],
                        actor=legal,
                    )
        groups = overdue_by_owner(session=session, today=today)
    overdue = ", ".join(f"{group.owner} {len(group.items)}" for group in groups) or "none"
    made = "already run" if done else "run"
    return f"campaign '{DEMO_CAMPAIGN}' {made}; overdue reviews per owner: {overdue}. See /reviews."


def account_lines(accounts: list[DemoAccount]) -> list[str]:
    """Return the console lines that show the demo accounts (the only place passwords appear)."""
    width = max((len(account.email) for account in accounts), default=0)
    lines = ["Demo accounts (new passwords each start; sign in at /login):"]
    lines += [
        f"  {account.role.value:<10} {account.email:<{width}}  {account.password}"
        for account in accounts
    ]
    return lines


def demo_report(name: str = "demo_results.xml", days_ago: int = 0) -> bytes:
    """Return a demo JUnit report stamped with the start of a day (one run per day and file)."""
    template = resources.files("tracker.data").joinpath(name).read_text("utf-8")
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return template.replace("{timestamp}", day.strftime("%Y-%m-%dT%H:%M:%S")).encode("utf-8")
