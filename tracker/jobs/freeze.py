"""The freeze job: seal a release's readiness as a snapshot, as `tracker snapshot freeze` does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.db import session_scope
from tracker.services.gate_policy import configured_policy
from tracker.services.release_readiness import release_readiness
from tracker.services.snapshots import freeze_release

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext


def run(context: JobContext) -> dict[str, Any]:
    """Freeze the release in the parameters as it is now, in one transaction."""
    config = context.app.config
    release = str(context.params.get("release") or "")
    context.progress(f"Freezing {release}", force=True)
    with session_scope(context.engine) as session:
        readiness = release_readiness(
            session=session,
            release=release,
            policy=configured_policy(config),
            default_branch=config["DEFAULT_BRANCH"],
        )
        snapshot = freeze_release(
            session=session,
            readiness=readiness,
            actor=context.actor,
            signing_key=config.get("SNAPSHOT_SIGNING_KEY"),
        )
        return {
            "release": readiness.release.name,
            "snapshot": snapshot.id,
            "hash": snapshot.hash,
            "ready": snapshot.ready,
            "summary": f"Snapshot #{snapshot.id} frozen: hash {snapshot.hash[:16]}…",
        }
