"""The epic jobs: create (once) the epic of one gap, or of every gap, as the CLI does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from tracker.db import session_scope
from tracker.domain.status import Status
from tracker.errors import ConflictError, JiraError, TrackerError
from tracker.integrations.jira_setup import public_url
from tracker.jobs.failures import JobFailed
from tracker.jobs.jira_access import jira_gateway
from tracker.services.jira_epics import create_epic
from tracker.services.matrix import build_matrix

if TYPE_CHECKING:
    from tracker.integrations.jira_gateway import JiraGateway
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Create the epic of the obligation in the parameters, or of every gap without one."""
    project = str(context.params.get("project") or "")
    with jira_gateway(context.app) as (_settings, gateway):
        obligation_id = context.params.get("obligation_id")
        if obligation_id:
            return _one(context, gateway, str(obligation_id), project)
        return _every_gap(context, gateway, project)


def _one(
    context: JobContext, gateway: JiraGateway, obligation_id: str, project: str
) -> dict[str, Any]:
    with session_scope(context.engine) as session:
        outcome = create_epic(
            session=session,
            gateway=gateway,
            obligation_id=obligation_id,
            project_key=project,
            actor=context.actor,
            public_url=public_url(context.app),
        )
    message = (
        outcome.message if outcome.created else f"{outcome.message} No second epic was created."
    )
    return {
        "obligation": obligation_id,
        "work_item": outcome.key,
        "created": outcome.created,
        "summary": message,
    }


def _every_gap(context: JobContext, gateway: JiraGateway, project: str) -> dict[str, Any]:
    with Session(context.engine) as session:
        gaps = [
            row.id for row in build_matrix(session=session).rows if row.result.status is Status.GAP
        ]
    context.start_total(len(gaps), f"Creating epics in {project} for {len(gaps)} gap(s)")
    created: list[str] = []
    found: list[str] = []
    skipped: list[str] = []
    failed: dict[str, str] = {}
    retry = False
    for obligation_id in gaps:
        try:
            result = _one(context, gateway, obligation_id, project)
        except ConflictError:
            skipped.append(obligation_id)  # no longer a gap: someone linked work meanwhile
        except JiraError as error:
            failed[obligation_id] = str(error)
            retry = retry or error.transient
            if error.status in (401, 403):
                break  # the same answer awaits every other obligation
        except TrackerError as error:
            failed[obligation_id] = str(error)
        else:
            (created if result["created"] else found).append(
                f"{obligation_id}: {result['work_item']}"
            )
        context.advance(1)
    summary = (
        f"{len(created)} epic(s) created, {len(found)} found already, "
        f"{len(skipped)} no longer a gap, {len(failed)} failed."
    )
    result_json: dict[str, Any] = {
        "project": project,
        "created": created[:200],
        "found": found[:200],
        "failed": dict(list(failed.items())[:20]),
        "summary": summary,
    }
    if retry:
        raise JiraError(f"{summary} Jira was busy or away; the rest follows.", retryable=True)
    if failed:
        first = next(iter(failed.values()))
        raise JobFailed(f"{summary} The first failure: {first}", result_json)
    return result_json
