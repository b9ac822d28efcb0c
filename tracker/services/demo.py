"""The demo: schema, bundled catalog and example links, tests and results so every page shows data."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlmodel import Session, select

from tracker import migrate
from tracker.catalog import read_catalog
from tracker.db import get_engine, session_scope
from tracker.errors import CatalogError
from tracker.models import TestResult, TestRun, WorkItem, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.links import decide_applicability, ensure_test_case, link_test, link_work_item

DEMO_ACTOR = "demo"

# (key, summary, status, category, fix version, obligations)
_WORK = [
    (
        "PRIV-1",
        "Erasure pipeline for account deletion",
        "Done",
        "done",
        "2026.10",
        ["GDPR-17.1", "CCPA-1798.105.c", "LGPD-18.VI"],
    ),
    (
        "PRIV-2",
        "Notify processors of erasure requests",
        "In Progress",
        "indeterminate",
        "2026.11",
        ["GDPR-17.2"],
    ),
    (
        "PRIV-3",
        "Self-service data export (JSON and CSV)",
        "Done",
        "done",
        "2026.10",
        ["GDPR-15.3", "GDPR-20.1", "LGPD-18.V"],
    ),
    (
        "WEB-7",
        "Honour Global Privacy Control on web",
        "Done",
        "done",
        "2026.11",
        ["CCPAREGS-7025.c.1", "CCPA-1798.135.b.1"],
    ),
    ("WEB-9", "Consent withdrawal as easy as giving it", "To Do", "new", "2026.12", ["GDPR-7.3"]),
    (
        "APP-4",
        "Encrypt ePHI at rest in claims database",
        "Done",
        "done",
        "2026.10",
        ["HIPAA-164.312.a.2.iv"],
    ),
    (
        "APP-5",
        "Audit log for access to health records",
        "In Progress",
        "indeterminate",
        "2026.11",
        ["HIPAA-164.312.b"],
    ),
    (
        "PRIV-8",
        "Breach notification runbook and timer",
        "Done",
        "done",
        "2026.11",
        ["GDPR-33.1", "HIPAA-164.404.b"],
    ),
]
# (test id, obligations, outcome)
_TESTS = [
    (
        "erasure/tests.test_erasure/test_erasure_removes_all_stores",
        ["GDPR-17.1", "CCPA-1798.105.c"],
        "passed",
    ),
    ("erasure/tests.test_erasure/test_erasure_clears_search_index", ["GDPR-17.1"], "passed"),
    (
        "export/tests.test_export/test_export_is_machine_readable",
        ["GDPR-20.1", "GDPR-15.3"],
        "passed",
    ),
    ("web/tests.test_gpc/test_gpc_header_suppresses_sale_tags", ["CCPAREGS-7025.c.1"], "failed"),
    (
        "claims/tests.test_crypto/test_claims_tables_are_encrypted",
        ["HIPAA-164.312.a.2.iv"],
        "passed",
    ),
    ("breach/tests.test_timer/test_breach_timer_is_72_hours", ["GDPR-33.1"], "passed"),
]


def prepare_demo(app: Flask) -> list[str]:
    """Upgrade the schema, load the bundled catalog and add demo data once; return what was done."""
    engine = get_engine(app)
    messages = []
    migrate.upgrade(engine)
    messages.append(f"Database ready at {engine.url.render_as_string(hide_password=True)}.")
    catalog = read_catalog(app.config["CATALOG_PATH"])
    if not catalog.ok:
        raise CatalogError(
            "The bundled catalog has problems; run `tracker catalog validate`.",
            list(catalog.problems),
        )
    with session_scope(engine) as session:
        report = load_catalog(session=session, catalog=catalog, actor=DEMO_ACTOR)
    messages.append("Catalog: " + report.summary())
    with session_scope(engine) as session:
        if session.exec(select(WorkItem)).first() is not None:
            messages.append("Demo data already present.")
            return messages
        _seed(session)
    messages.append("Demo data added: work items, links, a test run.")
    return messages


def _seed(session: Session) -> None:
    now = utcnow()
    for key, summary, status, category, version, obligation_ids in _WORK:
        session.add(
            WorkItem(
                key=key,
                project_key=key.split("-")[0],
                summary=summary,
                issue_type="Epic",
                status=status,
                status_category=category,
                fix_versions=[version],
                updated=now,
                synced_at=now,
            )
        )
        session.flush()
        for obligation_id in obligation_ids:
            link_work_item(session=session, obligation_id=obligation_id, key=key, actor=DEMO_ACTOR)
    run = TestRun(
        suite="product-tests",
        commit="4f2c9e1a7b3d",
        branch="main",
        content_hash="demo-run-1",
        source_name="demo",
        uploaded_by=DEMO_ACTOR,
        started_at=now - timedelta(hours=2),
    )
    session.add(run)
    session.flush()
    for test_id, obligation_ids, outcome in _TESTS:
        case = ensure_test_case(session, test_id)
        for obligation_id in obligation_ids:
            link_test(
                session=session, obligation_id=obligation_id, test_id=test_id, actor=DEMO_ACTOR
            )
        session.add(TestResult(run_id=run.id or 0, test_case_id=case.id or 0, outcome=outcome))
        run.total += 1
        run.passed += outcome == "passed"
        run.failed += outcome == "failed"
    session.add(run)
    decide_applicability(
        session=session,
        obligation_id="HIPAA-164.312.a.2.ii",
        not_applicable=True,
        justification="Demo: the product keeps no ePHI outside the claims system, which has its own break-glass procedure.",
        actor=DEMO_ACTOR,
    )
