"""The web layer: CSRF, navigation, template globals, and the registration of every blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, request, url_for
from flask_wtf.csrf import CSRFProtect

from tracker.domain.access import Permission
from tracker.domain.status import STATUS_LABELS, STATUS_ORDER
from tracker.web.auth import current_identity, may
from tracker.web.id_text import code_spans

csrf = CSRFProtect()

#: Serves tracker/web/static (the style sheet) under /assets, clear of other blueprints.
assets = Blueprint("web", __name__, static_folder="static", static_url_path="/assets")

NAV_KEY = "tracker.nav"


@dataclass(frozen=True)
class NavItem:
    """One entry of the header navigation."""

    label: str
    endpoint: str
    permission: Permission = Permission.READ
    areas: tuple[str, ...] = ()  # other blueprints whose pages it is the entry of


#: The blueprints of the privacy program, all under its one navigation entry.
PRIVACY_AREAS = ("data_map", "applicability", "risks", "retention", "reviews")


def add_nav_item(
    app: Flask,
    label: str,
    endpoint: str,
    permission: Permission = Permission.READ,
    areas: tuple[str, ...] = (),
) -> None:
    """Add an entry to the header navigation, shown to those with the permission."""
    items: list[NavItem] = app.extensions.setdefault(NAV_KEY, [])
    if all(item.endpoint != endpoint for item in items):
        items.append(NavItem(label, endpoint, permission, areas))


def init_app(app: Flask) -> None:
    """Wire CSRF, sign-in and permissions, the blueprints, navigation, errors and headers."""
    from tracker.web import auth, errors, rate_limits, security
    from tracker.web.accounts import sso
    from tracker.web.accounts.routes import accounts
    from tracker.web.api.docs import api_docs
    from tracker.web.api.jobs import jobs_api
    from tracker.web.api.routes import api
    from tracker.web.api.runs import runs_api
    from tracker.web.applicability.routes import applicability
    from tracker.web.audit.routes import audit
    from tracker.web.dashboard.routes import dashboard
    from tracker.web.data_map.routes import data_map
    from tracker.web.evidence.routes import evidence
    from tracker.web.health.routes import health
    from tracker.web.jira.routes import jira
    from tracker.web.jobs.routes import jobs
    from tracker.web.matrix.routes import matrix
    from tracker.web.obligations.routes import obligations
    from tracker.web.releases.routes import releases
    from tracker.web.retention.routes import retention
    from tracker.web.reviews.routes import reviews
    from tracker.web.risks.routes import risks
    from tracker.web.webhooks.routes import webhooks
    from tracker.web.work_items.routes import work_items

    # Who is asking is settled first, so an anonymous POST is refused before CSRF reads its body.
    auth.init_app(app)
    csrf.init_app(app)
    rate_limits.init_app(app)
    sso.init_app(app)
    # Read-only JSON for scripts; a later write route there must authenticate with a token.
    csrf.exempt(api)
    # Jira signs its deliveries with a shared secret (HMAC), which the view verifies.
    csrf.exempt(webhooks)
    # Uploads authenticate with an API token, not a session, so a CSRF token means nothing.
    csrf.exempt(runs_api)
    # Probes and Prometheus send no forms and no sessions; nothing there changes anything.
    csrf.exempt(health)
    rate_limits.limiter.exempt(health)
    app.register_blueprint(health)
    for blueprint in (assets, dashboard, matrix, obligations, api, jira, webhooks):
        app.register_blueprint(blueprint)
    add_nav_item(app, "Dashboard", "dashboard.index")
    add_nav_item(app, "Matrix", "matrix.index")
    app.register_blueprint(evidence)
    app.register_blueprint(runs_api)
    app.register_blueprint(api_docs)
    app.register_blueprint(work_items)
    add_nav_item(app, "Test evidence", "evidence.runs")
    add_nav_item(app, "Jira", "jira.index")
    app.register_blueprint(jobs)
    app.register_blueprint(jobs_api)
    add_nav_item(app, "Jobs", "jobs.index")
    app.register_blueprint(releases)
    add_nav_item(app, "Releases", "releases.index")
    app.register_blueprint(data_map)
    app.register_blueprint(applicability)
    # One entry for the whole privacy program; its pages share the tabs of _privacy_tabs.html.
    add_nav_item(app, "Privacy program", "data_map.index", areas=PRIVACY_AREAS)
    app.register_blueprint(accounts)
    app.register_blueprint(audit)
    app.register_blueprint(retention)
    app.register_blueprint(risks)
    app.register_blueprint(reviews)
    add_nav_item(app, "Audit trail", "audit.index", Permission.READ_AUDIT)
    add_nav_item(app, "Accounts", "accounts.users", Permission.MANAGE_USERS)
    add_nav_item(app, "API tokens", "accounts.tokens", Permission.MANAGE_TOKENS)

    app.context_processor(_template_globals)
    app.jinja_env.filters["code_spans"] = code_spans
    security.init_app(app)
    errors.init_app(app)


def _active(item: NavItem, items: list[NavItem]) -> bool:
    """Mark the entry of the current area (or, in an area with several, the current page)."""
    endpoint = request.endpoint or ""
    area = item.endpoint.partition(".")[0]
    if (request.blueprint or "") in item.areas:
        return True
    if area != (request.blueprint or ""):
        return False
    siblings = [other for other in items if other.endpoint.partition(".")[0] == area]
    return len(siblings) == 1 or endpoint.startswith(item.endpoint)


def _template_globals() -> dict[str, Any]:
    from flask import current_app

    items: list[NavItem] = current_app.extensions.get(NAV_KEY, [])
    nav = [
        {"label": item.label, "href": url_for(item.endpoint), "active": _active(item, items)}
        for item in items
        if may(item.permission)
    ]
    identity = current_identity()
    return {
        "nav_items": nav,
        "actor": identity.actor.name if identity else None,
        "actor_role": identity.actor.role.value if identity and identity.actor.role else None,
        "may": may,
        "anonymous_read": bool(current_app.config.get("ANONYMOUS_READ")),
        "status_labels": {status.value: label for status, label in STATUS_LABELS.items()},
        "status_order": [status.value for status in STATUS_ORDER],
    }
