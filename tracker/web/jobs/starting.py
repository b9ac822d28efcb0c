"""Starting a job from a button: queue it, then answer at once with the job's page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from tracker.domain.access import Actor
from tracker.jobs.kinds import kind_label
from tracker.jobs.queue import QueueError, submit
from tracker.web.auth import current_actor


def start_job(
    kind: str, params: dict[str, Any], *, back: str, action: str | None = None
) -> ResponseReturnValue:
    """Queue a job by the signed-in person; 303 to its page (or back, saying why it could not)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        job_id = submit(app, kind, params, acting(action))
    except QueueError as error:
        flash(str(error), "error")
        return redirect(back, code=303)
    flash(f"{kind_label(kind)} queued as job #{job_id}.", "info")
    return redirect(url_for("jobs.show", job_id=job_id), code=303)


def acting(action: str | None) -> Actor:
    """Return the signed-in actor, named with the button pressed when there is one."""
    actor = current_actor()
    return replace(actor, name=f"{actor.name[:120]} ({action})") if action else actor
