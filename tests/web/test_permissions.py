"""Every route declares who may use it, and every route refuses everyone else, changing nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.auth_helpers import PASSWORD, make_user, sign_in
from tests.evidence_helpers import case, ingest, load_small_catalog, report, snapshot
from tracker.db import session_scope
from tracker.domain.access import Permission, Role, Scope, cli_actor
from tracker.services.tokens import create_token
from tracker.web.auth import route_permission

ALL_ROLES = set(Role)
READERS = ALL_ROLES
ENGINEERS = {Role.ENGINEER, Role.ADMIN}
LEGAL = {Role.LEGAL, Role.ADMIN}
AUDITORS = {Role.COMPLIANCE, Role.ADMIN}
ADMINS = {Role.ADMIN}

# endpoint: (declared permission, roles a signed-in person needs, token scopes that may use it)
# Written out by hand: a route added or changed must be added here, on purpose.
ROUTES: dict[str, tuple[Permission, set[Role], set[Scope]]] = {
    "dashboard.index": (Permission.READ, READERS, set()),
    "matrix.index": (Permission.READ, READERS, set()),
    "matrix.export_csv": (Permission.READ, READERS, set()),
    "matrix.export_json": (Permission.READ, READERS, set()),
    "matrix.export_markdown": (Permission.READ, READERS, set()),
    "matrix.export_oscal_catalog": (Permission.READ, READERS, set()),
    "matrix.export_oscal_profile": (Permission.READ, READERS, set()),
    "obligations.show": (Permission.READ, READERS, set()),
    "obligations.add_work_item": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "obligations.remove_work_item": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "obligations.remove_label": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "obligations.add_test": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "obligations.remove_test": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "obligations.review": (Permission.REVIEW_LINKS, LEGAL, set()),
    "obligations.applicability": (Permission.DECIDE_APPLICABILITY, LEGAL, set()),
    "evidence.runs": (Permission.READ, READERS, set()),
    "evidence.run": (Permission.READ, READERS, set()),
    "evidence.test": (Permission.READ, READERS, set()),
    "evidence.obligation": (Permission.READ, READERS, set()),
    "evidence.orphans_report": (Permission.READ, READERS, set()),
    "jira.index": (Permission.READ, READERS, set()),
    "jira.sync_now": (Permission.RUN_JIRA, ENGINEERS, set()),
    "jira.push_now": (Permission.RUN_JIRA, ENGINEERS, set()),
    "jira.create_epic_for": (Permission.EDIT_LINKS, ENGINEERS, set()),
    "jira.create_epics_for_gaps": (Permission.EDIT_LINKS, ENGINEERS, set()),
    # Background jobs: anyone who reads may follow them; starting one is the button's right.
    "jobs.index": (Permission.READ, READERS, set()),
    "jobs.show": (Permission.READ, READERS, set()),
    "jobs_api.get_job": (Permission.READ, READERS, {Scope.READ}),
    "work_items.show": (Permission.READ, READERS, set()),
    # The data map: its pages and its Art. 30 downloads are for anyone who reads.
    "data_map.index": (Permission.READ, READERS, set()),
    "data_map.activity": (Permission.READ, READERS, set()),
    "data_map.systems": (Permission.READ, READERS, set()),
    "data_map.export_csv": (Permission.READ, READERS, set()),
    "data_map.export_xlsx": (Permission.READ, READERS, set()),
    "api.list_obligations": (Permission.READ, READERS, {Scope.READ}),
    "api.get_obligation": (Permission.READ, READERS, {Scope.READ}),
    "api.matrix": (Permission.READ, READERS, {Scope.READ}),
    "api.get_work_item": (Permission.READ, READERS, {Scope.READ}),
    # Uploads: a token with results:write only; no browser session, whatever its role.
    "test_runs_api.create_run": (Permission.UPLOAD_RESULTS, set(), {Scope.RESULTS_WRITE}),
    "test_runs_api.list_test_runs": (Permission.READ, READERS, {Scope.READ}),
    "test_runs_api.get_run": (Permission.READ, READERS, {Scope.READ}),
    # The API contract reads like the API; its page is a page (tokens count only on /api/).
    "api_docs.openapi": (Permission.READ, READERS, {Scope.READ}),
    "api_docs.reference": (Permission.READ, READERS, set()),
    "releases.index": (Permission.READ, READERS, set()),
    "releases.create": (Permission.DECIDE_RELEASES, AUDITORS, set()),
    "releases.api_list": (Permission.READ, READERS, {Scope.READ}),
    "releases.api_gate": (Permission.READ, READERS, {Scope.READ}),
    "releases.show": (Permission.READ, READERS, set()),
    "releases.diff": (Permission.READ, READERS, set()),
    "releases.sign": (Permission.SIGN_OFF, LEGAL, set()),
    "releases.request_risk": (
        Permission.REQUEST_EXCEPTIONS,
        {Role.ENGINEER, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
        set(),
    ),
    "releases.approve": (
        Permission.APPROVE_EXCEPTIONS,
        {Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
        set(),
    ),
    "releases.freeze": (Permission.DECIDE_RELEASES, AUDITORS, set()),
    "releases.snapshot_download": (Permission.READ, READERS, set()),
    "releases.snapshot_oscal": (Permission.READ, READERS, set()),
    "releases.snapshot_report": (Permission.READ, READERS, set()),
    # Applicability from the data map: anyone reads the proposals; legal confirms them.
    "applicability.index": (Permission.READ, READERS, set()),
    "applicability.confirm": (Permission.DECIDE_APPLICABILITY, LEGAL, set()),
    "retention.index": (Permission.READ, READERS, set()),
    # The risk register and DPIAs: anyone reads them; legal (the DPO) signs a DPIA off.
    "risks.index": (Permission.READ, READERS, set()),
    "risks.heat_map_svg": (Permission.READ, READERS, set()),
    "risks.dpia": (Permission.READ, READERS, set()),
    "risks.sign_off": (Permission.SIGN_OFF, LEGAL, set()),
    # Reviews: anyone reads them; compliance runs campaigns; reviewers record their own
    # (ownership is checked by the service: tests/integration/test_review_services.py).
    "reviews.index": (Permission.READ, READERS, set()),
    "reviews.campaign": (Permission.READ, READERS, set()),
    "reviews.create": (Permission.MANAGE_REVIEWS, AUDITORS, set()),
    "reviews.record": (
        Permission.RECORD_REVIEWS,
        {Role.ENGINEER, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
        set(),
    ),
    "reviews.open_issue": (
        Permission.RECORD_REVIEWS,
        {Role.ENGINEER, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
        set(),
    ),
    # Outside a campaign: the item's owner or compliance (the service checks the owner).
    "reviews.record_item": (
        Permission.RECORD_REVIEWS,
        {Role.ENGINEER, Role.LEGAL, Role.COMPLIANCE, Role.ADMIN},
        set(),
    ),
    "audit.index": (Permission.READ_AUDIT, AUDITORS, set()),
    "audit.export": (Permission.READ_AUDIT, AUDITORS, set()),
    "accounts.users": (Permission.MANAGE_USERS, ADMINS, set()),
    "accounts.users_create": (Permission.MANAGE_USERS, ADMINS, set()),
    "accounts.users_set_role": (Permission.MANAGE_USERS, ADMINS, set()),
    "accounts.users_set_active": (Permission.MANAGE_USERS, ADMINS, set()),
    "accounts.users_reset_password": (Permission.MANAGE_USERS, ADMINS, set()),
    "accounts.tokens": (Permission.MANAGE_TOKENS, ADMINS, set()),
    "accounts.tokens_create": (Permission.MANAGE_TOKENS, ADMINS, set()),
    "accounts.tokens_revoke": (Permission.MANAGE_TOKENS, ADMINS, set()),
    "accounts.login": (Permission.PUBLIC, ALL_ROLES, set()),
    "accounts.login_submit": (Permission.PUBLIC, ALL_ROLES, set()),
    "accounts.sso_start": (Permission.PUBLIC, ALL_ROLES, set()),
    "accounts.sso_callback": (Permission.PUBLIC, ALL_ROLES, set()),
    "accounts.logout": (Permission.PUBLIC, ALL_ROLES, set()),
    "accounts.logout_submit": (Permission.PUBLIC, ALL_ROLES, set()),
    "webhooks.jira_delivery": (Permission.PUBLIC, ALL_ROLES, set()),
    "web.static": (Permission.PUBLIC, ALL_ROLES, set()),
    # Probes: a load balancer or Kubernetes asks without credentials; they answer only
    # ok/failing in generic words (tests/web/test_health.py).
    "health.healthz": (Permission.PUBLIC, ALL_ROLES, set()),
    "health.readyz": (Permission.PUBLIC, ALL_ROLES, set()),
    # Prometheus has no session: /metrics checks its own token or the caller's address
    # (loopback here; refusals in tests/web/test_metrics.py).
    "health.metrics": (Permission.PUBLIC, ALL_ROLES, set()),
}

URL_VALUES = {
    "obligation_id": "ALPHA-1.1",
    "key": "PRIV-1",
    "run_id": 1,
    "test_case_id": 1,
    "token_id": 1,
    "exception_id": 1,
    "snapshot_id": 1,
    "filename": "tracker.css",
    "name": "2026.12",
    "job_id": 1,
    "activity_id": "sign-up",
    "dpia_id": "dpia-newsletter",
    "campaign_id": 1,
    "review_id": 1,
    # No activity exists in this world: a role that may record gets the 404, not a 403.
    "item_kind": "activity",
    "item_id": "sign-up",
}
TARGET = "target@example.com"
FORMS: dict[str, dict[str, str]] = {
    "obligations.add_work_item": {"key": "PRIV-9"},
    "obligations.add_test": {"test_id": "pytest/tests.test_privacy/test_b"},
    "obligations.remove_test": {"test_id": "pytest/tests.test_privacy/test_a"},
    "obligations.applicability": {
        "decision": "not_applicable",
        "justification": "We sell to businesses only, no consumers.",
    },
    "jira.create_epic_for": {"project": "PRIV"},
    "jira.create_epics_for_gaps": {"project": "PRIV"},
    "accounts.users_create": {"email": "new@example.com", "role": "viewer"},
    "accounts.users_set_role": {"email": TARGET, "role": "legal"},
    "accounts.users_set_active": {"email": TARGET, "active": "0"},
    "accounts.users_reset_password": {"email": TARGET},
    "accounts.tokens_create": {"name": "forged", "scope": "results:write"},
    "accounts.login_submit": {"email": TARGET, "password": PASSWORD},
    "releases.create": {"name": "2027.01"},
    "applicability.confirm": {"obligation": "ALPHA-1.1"},
}


def _endpoints(app: Flask) -> dict[str, tuple[str, str]]:
    """Return every endpoint with one rule and method to request it by."""
    found: dict[str, tuple[str, str]] = {}
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found[rule.endpoint] = (rule.rule, "POST" if "POST" in methods else methods[0])
    return found


def test_every_route_declares_a_permission(app: Flask) -> None:
    undeclared = [
        endpoint for endpoint in _endpoints(app) if route_permission(app, endpoint) is None
    ]
    assert undeclared == [], f"routes without a declared permission: {undeclared}"


def test_every_route_is_in_the_table_with_the_permission_it_declares(app: Flask) -> None:
    endpoints = set(_endpoints(app))
    assert endpoints == set(ROUTES), (
        f"not in the table: {sorted(endpoints - set(ROUTES))}; "
        f"gone: {sorted(set(ROUTES) - endpoints)}"
    )
    for endpoint, (permission, _, _) in ROUTES.items():
        assert route_permission(app, endpoint) is permission, endpoint


def test_a_route_without_a_declared_permission_is_refused(client: Any, app: Flask) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret page")
    response = client.get("/undeclared")
    assert response.status_code == 403
    assert "secret page" not in response.get_data(as_text=True)


@pytest.fixture
def world(app: Flask, engine: Engine, session: Session) -> dict[str, str]:
    """A catalog, a test run with linked tests, one account per role, tokens of each scope."""
    load_small_catalog(session)
    ingest(
        session,
        report(
            case("test_a", obligations="ALPHA-1.1"),
            case("test_b", obligations="ALPHA-1.2", outcome="failed"),
        ),
    )
    make_user(engine, Role.VIEWER, email=TARGET)
    secrets = {}
    with session_scope(engine) as db_session:
        for scope in Scope:
            secrets[scope.value] = create_token(
                session=db_session,
                name=f"token-{scope.value}",
                actor=cli_actor("test setup"),
                scopes=[scope],
            ).secret
    return secrets


def _prepare(
    app: Flask, engine: Engine, identity: Role | Scope | None, secrets: dict[str, str]
) -> tuple[Any, dict[str, str], str]:
    """Return a client signed in as the identity, its headers and a valid CSRF token."""
    client = app.test_client()
    if isinstance(identity, Role):
        sign_in(
            client, engine, make_user(engine, identity, email=f"{identity.value}-x@example.com")
        )
    form_page = client.get("/logout" if isinstance(identity, Role) else "/login")
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', form_page.get_data(as_text=True)
    )
    headers = {}
    if isinstance(identity, Scope):
        headers["Authorization"] = f"Bearer {secrets[identity.value]}"
    return client, headers, token.group(1) if token else ""


def _send(app: Flask, client: Any, endpoint: str, headers: dict[str, str], csrf: str) -> Any:
    rule, method = _endpoints(app)[endpoint]
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(URL_VALUES[m.group(1)]), rule)
    if method == "GET":
        return client.get(path, headers=headers)
    if endpoint == "test_runs_api.create_run":
        body = report(case("test_forged", obligations="ALPHA-2"), suite="forged")
        return client.post(path, data=body, headers={**headers, "Content-Type": "application/xml"})
    return client.post(path, data={"csrf_token": csrf, **FORMS.get(endpoint, {})}, headers=headers)


IDENTITIES: list[Role | Scope | None] = [None, *Role, *Scope]


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_each_identity_is_allowed_or_refused_exactly_as_the_table_says(
    endpoint: str, app: Flask, engine: Engine, world: dict[str, str]
) -> None:
    permission, roles, scopes = ROUTES[endpoint]
    api = _endpoints(app)[endpoint][0].startswith("/api/")
    for identity in IDENTITIES:
        if permission is Permission.PUBLIC:
            allowed = True
        elif identity is None:
            allowed = False
        elif isinstance(identity, Role):
            allowed = identity in roles
        else:
            allowed = identity in scopes
        client, headers, csrf = _prepare(app, engine, identity, world)
        before = snapshot(engine)
        response = _send(app, client, endpoint, headers, csrf)
        where = f"{endpoint} as {identity or 'anonymous'}: {response.status_code}"
        location = response.headers.get("Location", "")
        if allowed:
            assert response.status_code not in (401, 403), where
            if permission is not Permission.PUBLIC:
                assert "/login" not in location, where
            continue
        if identity is None or (isinstance(identity, Scope) and not api):
            # Nobody signed in (tokens count only on the API): pages send to the log-in page.
            if api:
                assert response.status_code == 401, where
            else:
                assert response.status_code == 302 and "/login" in location, where
        elif isinstance(identity, Role) and api and response.request.method == "POST":
            # A browser session may not change anything through the API (no CSRF there).
            assert response.status_code == 401, where
        else:
            assert response.status_code == 403, where
            if isinstance(identity, Role):
                assert "role" in response.get_data(as_text=True), where
        assert snapshot(engine) == before, f"{where} changed the database"
