"""The sync job: `tracker jira sync` on the queue, then a push job when TRACKER_JIRA_PUSH=1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.errors import JiraError
from tracker.jobs.jira_access import jira_gateway
from tracker.services.jira_sync import sync_jira

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Pull changed work items (all of them with full); raise JiraError when the run failed."""
    from tracker.jobs.queue import submit

    with jira_gateway(context.app) as (settings, gateway):
        context.progress("Reading issues from Jira", force=True)
        report = sync_jira(
            engine=context.engine,
            gateway=gateway,
            jql=settings.jql,
            full=bool(context.params.get("full")),
            actor=context.actor,
            progress=context.advance,
            on_total=lambda total: context.start_total(total, "Reading issues from Jira"),
        )
    if report.status == "failed":
        reason = report.problems[-1] if report.problems else "no reason was given"
        raise JiraError(f"Sync run #{report.run_id} failed: {reason}", retryable=report.retryable)
    result: dict[str, Any] = {
        "sync_run": report.run_id,
        "status": report.status,
        "summary": report.summary(),
        "problems": report.problems[:20],
    }
    if settings.push_after_sync and context.params.get("push_after", True):
        result["push_job"] = submit(context.app, "push", {}, context.actor)
    return result
