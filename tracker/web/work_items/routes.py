"""The work-item page: a Jira issue as the tracker knows it, with the obligations it carries."""

from __future__ import annotations

from flask import Blueprint, render_template

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.services.work_item_page import work_item_detail
from tracker.web.auth import requires
from tracker.web.request_args import evidence_scope
from tracker.web.work_items.page import work_item_page

work_items = Blueprint("work_items", __name__)


@work_items.get("/work-items/<key>")
@requires(Permission.READ)
def show(key: str) -> str:
    """Show one work item: what Jira says, the obligations it carries, the last push."""
    scope = evidence_scope()
    detail = work_item_detail(session=get_session(), key=key, scope=scope)
    return render_template("work_items/show.html", page=work_item_page(detail, scope))
