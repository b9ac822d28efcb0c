"""The kinds of job: what each is called, which task module runs it, whether a re-run is safe."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext

Handler = Callable[["JobContext"], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    """One kind of job."""

    name: str
    label: str
    module: str
    #: Whether a run whose worker died may simply be run again (the service is idempotent).
    rerun_when_interrupted: bool
    #: What to do about an interrupted run that is not re-run.
    advice: str = ""

    def handler(self) -> Handler:
        """Return the task function that runs this kind of job."""
        run: Handler = importlib.import_module(self.module).run
        return run


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("sync", "Jira sync", "tracker.jobs.sync", True),
        JobKind("push", "Push to Jira", "tracker.jobs.push", True),
        JobKind(
            "epic",
            "Create epic",
            "tracker.jobs.epics",
            False,
            "Look in Jira for an epic with the obligation's label before creating it again.",
        ),
        JobKind(
            "epics",
            "Create epics for gaps",
            "tracker.jobs.epics",
            False,
            "Start it again: epics already created are found by their label, not made twice.",
        ),
        JobKind(
            "review_issue",
            "Open Jira issue for a review finding",
            "tracker.jobs.review_issues",
            False,
            "Start it again: an issue already opened is found by the review's label, not made "
            "twice.",
        ),
        JobKind("ingest", "Report ingest", "tracker.jobs.ingest", True),
        JobKind(
            "freeze",
            "Release freeze",
            "tracker.jobs.freeze",
            False,
            "Look at the release's snapshots: freeze it again if no new one is there.",
        ),
        JobKind("readiness", "Daily readiness record", "tracker.jobs.readiness", True),
    )
}


def kind_label(name: str) -> str:
    """Return the kind's name as people read it."""
    kind = KINDS.get(name)
    return kind.label if kind else name
