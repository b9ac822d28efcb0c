"""The review finding job: open (once) the Jira issue of a not-conforming review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.db import session_scope
from tracker.integrations.jira_setup import public_url
from tracker.jobs.jira_access import jira_gateway
from tracker.services.review_issues import open_issue_for_finding

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Open the issue of the review in the parameters, or find the one opened before."""
    review_id = int(context.params.get("review_id") or 0)
    project = str(context.params.get("project") or "")
    with (
        jira_gateway(context.app) as (_settings, gateway),
        session_scope(context.engine) as session,
    ):
        outcome = open_issue_for_finding(
            session=session,
            gateway=gateway,
            review_id=review_id,
            project_key=project,
            actor=context.actor,
            public_url=public_url(context.app),
        )
    message = (
        outcome.message if outcome.created else f"{outcome.message} No second issue was opened."
    )
    return {
        "review": review_id,
        "work_item": outcome.key,
        "created": outcome.created,
        "summary": message,
    }
