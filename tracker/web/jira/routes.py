"""The Jira page (settings, runs, missing items), Sync now, Push to Jira, and gap-to-epic."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.db import get_engine, get_session
from tracker.domain.access import Actor, Permission
from tracker.domain.status import Status
from tracker.errors import ConflictError, JiraError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.integrations.jira_setup import NOT_CONFIGURED, jira_settings, require_gateway
from tracker.services.jira_epics import create_epic
from tracker.services.jira_overview import jira_overview
from tracker.services.jira_push import PushReport, push_links
from tracker.services.jira_sync import SyncReport, sync_jira
from tracker.services.obligations import ObligationDetail
from tracker.web.auth import current_actor, requires
from tracker.web.jira.page import EpicForm, jira_page

jira = Blueprint("jira", __name__)

#: The first project key a JQL names, offered as the project of a new epic.
_JQL_PROJECT = re.compile(r"\bproject\s*(?:=|in\s*\()\s*\"?([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)


@jira.get("/jira")
@requires(Permission.READ)
def index() -> str:
    """Show the Jira settings (never secrets), recent sync and push runs, and missing items."""
    settings, error = _settings()
    overview = jira_overview(session=get_session())
    page = jira_page(
        settings=settings,
        settings_error=error,
        not_configured=NOT_CONFIGURED,
        overview=overview,
        public_url=_public_url(),
    )
    return render_template("jira/index.html", page=page)


@jira.post("/jira/sync")
@requires(Permission.RUN_JIRA)
def sync_now() -> ResponseReturnValue:
    """Pull changed work items from Jira now (and push links when TRACKER_JIRA_PUSH is on)."""

    def sync(settings: JiraSettings, gateway: JiraGateway) -> None:
        report = sync_jira(
            engine=get_engine(), gateway=gateway, jql=settings.jql, actor=_actor("Sync now")
        )
        _flash_sync(report)
        if settings.push_after_sync and report.status != "failed":
            _flash_push(_push(gateway))

    _with_jira(sync)
    return _back()


@jira.post("/jira/push")
@requires(Permission.RUN_JIRA)
def push_now() -> ResponseReturnValue:
    """Make the remote links on Jira issues match the tracker's links and statuses."""
    _with_jira(lambda _settings, gateway: _flash_push(_push(gateway)))
    return _back()


@jira.post("/obligations/<obligation_id>/create-epic")
@requires(Permission.EDIT_LINKS)
def create_epic_for(obligation_id: str) -> ResponseReturnValue:
    """Create (once) a Jira epic for an obligation that is a gap, and link it."""
    project = request.form.get("project", "")

    def create(_settings: JiraSettings, gateway: JiraGateway) -> None:
        session = get_session()
        with session.begin():
            outcome = create_epic(
                session=session,
                gateway=gateway,
                obligation_id=obligation_id,
                project_key=project,
                actor=current_actor(),
                public_url=_public_url(),
            )
        if outcome.created:
            flash(outcome.message, "success")
        else:
            flash(f"{outcome.message} No second epic was created.", "info")

    _with_jira(create, failure_prefix="No epic was created. ")
    target = url_for("obligations.show", obligation_id=obligation_id) + "#status"
    return redirect(target, code=303)


def _with_jira(
    action: Callable[[JiraSettings, JiraGateway], None], failure_prefix: str = ""
) -> None:
    """Run an action with the configured gateway; say any failure in a message, then close."""
    try:
        settings, gateway = require_gateway()
    except JiraError as error:
        flash(str(error), "error")
        return
    try:
        action(settings, gateway)
    except (ValidationError, ConflictError, JiraError) as error:
        # ConflictError says which of sync or push is already running, and since when.
        flash(f"{failure_prefix}{error}", "error")
    finally:
        _close(gateway)


def epic_form(detail: ObligationDetail) -> EpicForm | None:
    """Return the form when the obligation is a gap and Jira is configured, else None."""
    row = detail.row
    if row is None or row.result.status is not Status.GAP:
        return None
    settings, _error = _settings()
    if settings is None:
        return None
    match = _JQL_PROJECT.search(settings.jql)
    return EpicForm(project=match.group(1).upper() if match else "")


def _settings() -> tuple[JiraSettings | None, str | None]:
    try:
        return jira_settings(), None
    except ValidationError as error:
        return None, str(error)


def _push(gateway: JiraGateway) -> PushReport:
    return push_links(
        engine=get_engine(), gateway=gateway, public_url=_public_url(), actor=_actor("Push")
    )


def _flash_sync(report: SyncReport) -> None:
    category = {"succeeded": "success", "failed": "error"}.get(report.status, "info")
    message = f"Sync run #{report.run_id} {report.status}. {report.summary()}"
    if report.status == "failed" and report.problems:
        message += f" {report.problems[-1]}"
    elif report.problems:
        message += " The problems are listed in the run below."
    flash(message, category)


def _flash_push(report: PushReport) -> None:
    flash("Push: " + report.summary(), "error" if report.failed else "success")


def _actor(action: str) -> Actor:
    actor = current_actor()
    return replace(actor, name=f"{actor.name[:120]} ({action})")


def _public_url() -> str:
    return str(current_app.config["PUBLIC_URL"]).rstrip("/")


def _close(gateway: JiraGateway) -> None:
    close = getattr(gateway, "close", None)
    if callable(close):
        close()


def _back() -> ResponseReturnValue:
    return redirect(url_for("jira.index"), code=303)
