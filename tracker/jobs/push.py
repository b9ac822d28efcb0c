"""The push job: `tracker jira push` on the queue (a re-run sends only what Jira still lacks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from tracker.errors import JiraError
from tracker.integrations.jira_setup import public_url
from tracker.jobs.failures import JobFailed
from tracker.jobs.jira_access import jira_gateway
from tracker.services.jira_push import plan_push, push_links

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Make the remote links in Jira match; retry when Jira was busy or away."""
    full = bool(context.params.get("full"))
    url = public_url(context.app)
    with Session(context.engine) as session:
        planned = len(plan_push(session=session, public_url=url, full=full)[0])
    context.start_total(planned, "Sending remote links to Jira")
    with jira_gateway(context.app) as (_settings, gateway):
        report = push_links(
            engine=context.engine,
            gateway=gateway,
            public_url=url,
            full=full,
            actor=context.actor,
            progress=context.advance,
        )
    result: dict[str, Any] = {
        "sync_run": report.run_id,
        "done": report.done,
        "unchanged": report.unchanged,
        "failed": dict(sorted(report.failed.items())[:20]),
        "summary": report.summary(),
    }
    if report.retryable:
        raise JiraError(f"Push run #{report.run_id}: {report.summary()}", retryable=True)
    if report.failed:
        raise JobFailed(f"Push run #{report.run_id}: {report.summary()}", result)
    return result
