"""The Jira page (settings, runs, missing items); Sync now, Push and gap-to-epic queue jobs."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.domain.matrix import MatrixRow
from tracker.domain.status import Status
from tracker.errors import ValidationError
from tracker.integrations.jira_records import JiraSettings
from tracker.integrations.jira_setup import NOT_CONFIGURED, jira_settings, public_url
from tracker.services.jira_epics import PROJECT_KEY
from tracker.services.jira_overview import jira_overview
from tracker.services.links import get_obligation
from tracker.web.auth import requires
from tracker.web.jira.page import EpicForm, jira_page
from tracker.web.jobs.starting import start_job

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
        public_url=public_url(),
        epic_project=_jql_project(settings),
    )
    return render_template("jira/index.html", page=page)


@jira.post("/jira/sync")
@requires(Permission.RUN_JIRA)
def sync_now() -> ResponseReturnValue:
    """Queue a sync of changed work items (a push follows when TRACKER_JIRA_PUSH is on)."""
    refusal = _jira_refusal()
    if refusal is not None:
        flash(refusal, "error")
        return _back()
    return start_job("sync", {}, back=url_for("jira.index"), action="Sync now")


@jira.post("/jira/push")
@requires(Permission.RUN_JIRA)
def push_now() -> ResponseReturnValue:
    """Queue a push that makes the remote links on Jira issues match the tracker."""
    refusal = _jira_refusal()
    if refusal is not None:
        flash(refusal, "error")
        return _back()
    return start_job("push", {}, back=url_for("jira.index"), action="Push")


@jira.post("/jira/epics")
@requires(Permission.EDIT_LINKS)
def create_epics_for_gaps() -> ResponseReturnValue:
    """Queue the creation (once each) of an epic for every obligation that is a gap."""
    project = request.form.get("project", "").strip().upper()
    refusal = _jira_refusal() or _project_refusal(project)
    if refusal is not None:
        flash(f"No epic was created. {refusal}", "error")
        return _back()
    return start_job("epics", {"project": project}, back=url_for("jira.index"))


@jira.post("/obligations/<obligation_id>/create-epic")
@requires(Permission.EDIT_LINKS)
def create_epic_for(obligation_id: str) -> ResponseReturnValue:
    """Queue the creation (once) of a Jira epic for an obligation that is a gap, and its link."""
    obligation = get_obligation(get_session(), obligation_id)  # an unknown one is a 404
    target = url_for("obligations.show", obligation_id=obligation.id) + "#status"
    project = request.form.get("project", "").strip().upper()
    refusal = _jira_refusal() or _project_refusal(project)
    if refusal is not None:
        flash(f"No epic was created. {refusal}", "error")
        return redirect(target, code=303)
    return start_job("epic", {"obligation_id": obligation.id, "project": project}, back=target)


def _jira_refusal() -> str | None:
    """Say why no Jira job can run (not configured, invalid settings), or return None."""
    settings, error = _settings()
    if error is not None:
        return error
    return NOT_CONFIGURED if settings is None else None


def _project_refusal(project: str) -> str | None:
    if PROJECT_KEY.match(project):
        return None
    return f"'{project}' is not a Jira project key (e.g. PRIV)."


def epic_form(row: MatrixRow | None) -> EpicForm | None:
    """Return the form when the obligation (its matrix row) is a gap and Jira is configured."""
    if row is None or row.result.status is not Status.GAP:
        return None
    settings, _error = _settings()
    if settings is None:
        return None
    return EpicForm(project=_jql_project(settings))


def _jql_project(settings: JiraSettings | None) -> str:
    match = _JQL_PROJECT.search(settings.jql) if settings is not None else None
    return match.group(1).upper() if match else ""


def _settings() -> tuple[JiraSettings | None, str | None]:
    try:
        return jira_settings(), None
    except ValidationError as error:
        return None, str(error)


def _back() -> ResponseReturnValue:
    return redirect(url_for("jira.index"), code=303)
