"""The demo prepares real data through the real paths: sandbox sync, push and a JUnit report."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.config import DEFAULT_CATALOG_PATH
from tracker.demo import prepare_demo, start_demo_jira
from tracker.models import TestRun, WorkItem
from tracker.services.matrix import build_matrix


def test_demo_syncs_sandbox_epics_pushes_links_and_ingests_a_report(app, engine) -> None:  # type: ignore[no-untyped-def]
    app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
    demo = start_demo_jira(sandbox_port=0, tracker_url="http://127.0.0.1:9")
    try:
        messages = prepare_demo(app, demo.settings)
        with Session(engine) as session:
            items = session.exec(select(WorkItem)).all()
            assert len(items) >= 40
            assert all(item.synced_at is not None for item in items)
            runs = session.exec(select(TestRun)).all()
            assert [run.source_name for run in runs] == [
                "demo_results_earlier.xml",
                "demo_results_earlier.xml",
                "demo_results.xml",
            ]
            statuses = {row.result.status.value for row in build_matrix(session=session).rows}
        assert {"VERIFIED", "FAILING", "IN_PROGRESS", "GAP", "NOT_APPLICABLE"} <= statuses
        linked = [
            issue
            for issue in demo.server.state.issues()
            if demo.server.state.remote_links(issue.key)
        ]
        assert linked, "the sandbox's epics carry remote links to their obligations"
        assert any("GDPR-99.9" in message for message in messages) or any(
            "problem" in m for m in messages
        )
        # Running it again adds nothing twice.
        again = prepare_demo(app, demo.settings)
        assert any("already ingested" in message for message in again)
    finally:
        demo.server.stop()
    # A restarted demo has a fresh, empty sandbox: its epics get their remote links again.
    restarted = start_demo_jira(sandbox_port=0, tracker_url="http://127.0.0.1:9")
    try:
        prepare_demo(app, restarted.settings)
        state = restarted.server.state
        assert any(state.remote_links(issue.key) for issue in state.issues())
    finally:
        restarted.server.stop()
