"""The demo: a local Jira sandbox, the bundled catalog, a sync, a push and a test report.

Everything flows through the real paths: the tracker syncs epics from the sandbox over HTTP
with the `jira` client, pushes remote links back onto them, receives the sandbox's signed
webhooks, and ingests a JUnit report, exactly as it would with a real Jira and a real CI.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import select

from tracker import migrate
from tracker.catalog import read_catalog
from tracker.db import get_engine, session_scope
from tracker.domain.access import Role, cli_actor
from tracker.errors import CatalogError, NotFoundError
from tracker.integrations.jira_gateway import make_gateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import ApplicabilityDecision, utcnow
from tracker.services.accounts import (
    create_user,
    find_user,
    generate_password,
    reset_password,
    set_active,
    set_role,
    user_actor,
)
from tracker.services.catalog import load_catalog
from tracker.services.ingest import RunOptions, ingest_report
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira
from tracker.services.links import decide_applicability
from tracker.services.release_decisions import approve_exception, request_exception, sign_off
from tracker.services.release_readiness import record_readiness, release_readiness
from tracker.services.releases import find_release, list_releases
from tracker.services.snapshots import freeze_release, list_snapshots

if TYPE_CHECKING:
    from tracker.sandbox.server import SandboxServer

DEMO_EMAIL = "demo@example.com"
DEMO_JQL = "project in (PRIV, APP, WEB) AND issuetype = Epic"
DEMO_ACTOR = cli_actor("tracker demo")
DEMO_ACCOUNT_DOMAIN = "demo.example"
DEMO_FROZEN_RELEASE = "2026.10"


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


def prepare_demo(app: Flask, settings: JiraSettings | None) -> list[str]:
    """Upgrade the schema, load the catalog, sync and push Jira, ingest the demo report."""
    engine = get_engine(app)
    messages = []
    migrate.upgrade(engine)
    messages.append(f"Database ready: {engine.url.render_as_string(hide_password=True)}")
    catalog = read_catalog(app.config["CATALOG_PATH"])
    if not catalog.ok:
        raise CatalogError(
            "The bundled catalog has problems; run `tracker catalog validate`.",
            list(catalog.problems),
        )
    with session_scope(engine) as session:
        loaded = load_catalog(session=session, catalog=catalog, actor=DEMO_ACTOR)
    messages.append("Catalog: " + loaded.summary())
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
    if settings is not None:
        gateway = make_gateway(settings)
        synced = sync_jira(
            engine=engine, gateway=gateway, jql=settings.jql, full=True, actor=DEMO_ACTOR
        )
        messages.append(f"Jira sync from the sandbox at {settings.url}: {synced.summary()}")
        # The sandbox starts empty each time: send every remote link, whatever was remembered.
        pushed = push_links(
            engine=engine,
            gateway=gateway,
            public_url=app.config["PUBLIC_URL"],
            full=True,
            actor=DEMO_ACTOR,
        )
        messages.append("Jira push: " + pushed.summary())
    # Two earlier nightly runs and today's, so evidence pages show a history.
    # The oldest run was the release run of 2026.10, which the demo freezes.
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
        messages.append("Test report: " + ingested.summary())
    if settings is not None:
        pushed = push_links(
            engine=engine,
            gateway=make_gateway(settings),
            public_url=app.config["PUBLIC_URL"],
            actor=DEMO_ACTOR,
        )
        messages.append("Jira push after the test report: " + pushed.summary())
    messages.extend(demo_release_decisions(app, accounts))
    messages.extend(account_lines(accounts))  # last, so they are on screen when it starts
    return messages


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


def demo_release_decisions(app: Flask, accounts: dict[Role, DemoAccount]) -> list[str]:
    """Sign off and except obligations of 2026.10, then freeze it (once; demo data)."""
    engine = get_engine(app)
    with session_scope(engine) as session:
        if list_snapshots(session=session, release=DEMO_FROZEN_RELEASE):
            return [f"Release {DEMO_FROZEN_RELEASE}: frozen already."]
        try:
            find_release(session=session, name=DEMO_FROZEN_RELEASE)
        except NotFoundError:
            return []  # no Jira sandbox, so no fix versions
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
    return [
        f"Release {DEMO_FROZEN_RELEASE}: {len(signed)} sign-offs, one approved exception, "
        f"frozen as snapshot #{snapshot.id} ({'ready' if snapshot.ready else 'blocked'})."
    ]


def account_lines(accounts: dict[Role, DemoAccount]) -> list[str]:
    """Return the console lines that show the demo accounts (the only place passwords appear)."""
    width = max(len(account.email) for account in accounts.values())
    lines = ["Demo accounts (new passwords each start; sign in at /login):"]
    lines += [
        f"  {account.role.value:<10} {account.email:<{width}}  {account.password}"
        for account in accounts.values()
    ]
    return lines


def demo_report(name: str = "demo_results.xml", days_ago: int = 0) -> bytes:
    """Return a demo JUnit report stamped with the start of a day (one run per day and file)."""
    template = resources.files("tracker.data").joinpath(name).read_text("utf-8")
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return template.replace("{timestamp}", day.strftime("%Y-%m-%dT%H:%M:%S")).encode("utf-8")
