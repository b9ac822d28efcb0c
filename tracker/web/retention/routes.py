"""The retention and deletion schedule: every duty the data map derives, with its evidence."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.services.evidence_pages import scope_choices
from tracker.services.retention_schedule import retention_schedule
from tracker.web.auth import requires
from tracker.web.request_args import evidence_scope
from tracker.web.retention.page import parse_schedule_query, schedule_page

retention = Blueprint("retention", __name__)


@retention.get("/retention")
@requires(Permission.READ)
def index() -> str:
    """Show the retention duties by data category: systems, periods, evidence and status."""
    query = parse_schedule_query(request.args)
    scope = evidence_scope()
    session = get_session()
    schedule = retention_schedule(session, scope)
    page = schedule_page(schedule, query, scope, scope_choices(session=session))
    return render_template("retention/index.html", page=page)
