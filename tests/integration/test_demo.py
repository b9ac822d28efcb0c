"""The demo prepares real data through the real paths: sandbox sync, push and a JUnit report."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.config import DEFAULT_CATALOG_PATH
from tracker.demo import prepare_demo, start_demo_jira
from tracker.domain.access import Role
from tracker.domain.applicability_decisions import DecisionState
from tracker.domain.risk import RiskState
from tracker.models import (
    ApplicabilityDecision,
    DpiaSignOff,
    ReleaseException,
    ReleaseSnapshot,
    SignOff,
    TestRun,
    WorkItem,
    utcnow,
)
from tracker.services.accounts import check_login
from tracker.services.applicability_proposals import list_proposals
from tracker.services.dpias import choose_release, risk_register
from tracker.services.matrix import build_matrix
from tracker.services.releases import list_releases
from tracker.services.retention_schedule import retention_schedule
from tracker.services.reviews import list_campaigns, overdue_by_owner


def test_demo_syncs_sandbox_epics_pushes_links_and_ingests_a_report(app, engine) -> None:  # type: ignore[no-untyped-def]
    app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
    demo = start_demo_jira(sandbox_port=0, tracker_url="http://127.0.0.1:9")
    try:
        summary = prepare_demo(app, demo.settings)
        messages = summary.lines()
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
        # The retention schedule shows its evidence: a deletion test and the scheduler epic.
        with Session(engine) as session:
            schedule = {row.obligation_id: row for row in retention_schedule(session).rows}
        sensor = schedule["RETENTION-healthSyncService.user.sensor"]
        assert [test.outcome for test in sensor.tests] == ["passed"]
        assert [item.status for item in sensor.work_items] != []
        assert [t.outcome for t in schedule["RETENTION-backups.user.contact.email"].tests] == [
            "failed"
        ]
        linked = [
            issue
            for issue in demo.server.state.issues()
            if demo.server.state.remote_links(issue.key)
        ]
        assert linked, "the sandbox's epics carry remote links to their obligations"
        # Each problem is named, once: the unknown Jira label and the unknown id in the tests.
        assert any("obligation-GDPR-99.9" in problem for problem in summary.problems)
        assert [problem for problem in summary.problems if "GDPR-99.2" in problem] == [
            "Test runs #1, #2, #3 name the obligation GDPR-99.2, which is not in the catalog: "
            "fix the tests or the catalog."
        ]
        # One account per role, with a generated password shown only in these lines.
        shown = _demo_passwords(messages)
        assert set(shown) == {f"{role.value}@demo.example" for role in Role}
        with Session(engine) as session:
            for email, password in shown.items():
                user = check_login(session=session, email=email, password=password)
                assert user is not None and email.startswith(user.role + "@")
            decision = session.exec(
                select(ApplicabilityDecision).where(
                    ApplicabilityDecision.obligation_id == "HIPAA-164.312.a.2.ii"
                )
            ).one()
            # The demo's own seed data is the demo's, not any person's.
            assert decision.decided_by.startswith("tracker demo") and decision.decided_role is None
            # Legal confirmed the other HIPAA proposals: no activity processes health data.
            hipaa = list_proposals(session, instrument="HIPAA").rows
            assert hipaa and {row.state for row in hipaa} == {DecisionState.CONFIRMED}
            confirmed_by = {row.decision.decided_by for row in hipaa if row.decision}
            assert confirmed_by == {"legal@demo.example", decision.decided_by}
        # 2026.10 is signed off, has an approved exception and is frozen; 2026.12 is open.
        assert any(
            m.startswith("  Releases:") and "2026.10: " in m and "frozen as snapshot #1" in m
            for m in messages
        )
        with Session(engine) as session:
            snapshot = session.exec(select(ReleaseSnapshot)).one()
            assert snapshot.release == "2026.10"
            assert session.exec(select(SignOff)).all()
            exception = session.exec(select(ReleaseException)).one()
            assert exception.approved_by == "legal@demo.example"
            assert exception.requested_by == "compliance@demo.example"
            names = [release.name for release in list_releases(session=session)]
            assert {"2026.10", "2026.12", "2027.03"} <= set(names)
            # A DPIA's residual risk is below its inherent one where a mitigation is verified,
            # another waits for its obligations, and legal signed the health-sync DPIA off.
            register = risk_register(session=session, choice=choose_release(session=session))
            scores = {
                (item.dpia.id, item.risk.id): (item.risk.inherent_score, item.risk.residual_score)
                for item in register.entries
            }
            assert scores[("dpia-health-sync", "R1")] == (16, 8)
            assert register.in_state(RiskState.OPEN)
            assert [row.signed_by for row in session.exec(select(DpiaSignOff)).all()] == [
                "legal@demo.example"
            ]
        # Overdue reviews are listed per owner; compliance's campaign for legal has a finding.
        with Session(engine) as session:
            overdue = {
                group.owner: [item.id for item in group.items]
                for group in overdue_by_owner(session=session, today=utcnow().date())
            }
            assert "product-analytics" in overdue["legal@demo.example"]
            assert "customer-support" in overdue["compliance@demo.example"]
            (campaign,) = list_campaigns(session=session)
            assert campaign.campaign.created_by == "compliance@demo.example"
            assert (campaign.total, campaign.recorded, campaign.not_conforming) == (5, 2, 1)
        # The Art. 30 record opens as a spreadsheet and the OSCAL documents validate.
        _check_exports(app, engine)
        # Running it again adds nothing twice; the accounts get new passwords, shown again.
        again = prepare_demo(app, demo.settings).lines()
        assert any("Reviews:" in message and "already run" in message for message in again)
        assert any("already ingested" in message for message in again)
        assert any("2026.10 frozen already" in message for message in again)
        with Session(engine) as session:
            assert len(session.exec(select(DpiaSignOff)).all()) == 1
        new = _demo_passwords(again)
        assert set(new) == set(shown) and all(new[e] != shown[e] for e in shown)
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


def _demo_passwords(messages: list[str]) -> dict[str, str]:
    start = messages.index("Demo accounts (new passwords each start; sign in at /login):")
    rows = [line.split() for line in messages[start + 1 :]]
    return {email: password for _role, email, password in rows}


def _check_exports(app, engine) -> None:  # type: ignore[no-untyped-def]
    import io

    from openpyxl import load_workbook
    from trestle.oscal.catalog import Catalog
    from trestle.oscal.profile import Profile

    from tests.auth_helpers import make_user, sign_in

    client = app.test_client()
    sign_in(client, engine, make_user(engine, Role.VIEWER, email="exports@example.com"))
    workbook = load_workbook(io.BytesIO(client.get("/data-map/export.xlsx").data))
    record = list(workbook["Art. 30 record"].iter_rows(values_only=True))
    assert {row[0] for row in record[1:]} >= {"sign-up", "payments", "health-sync"}
    catalog = client.get("/matrix/oscal/catalog.json").get_json()
    Catalog.model_validate(catalog["catalog"])
    profile = client.get("/matrix/oscal/profile.json").get_json()
    Profile.model_validate(profile["profile"])
    excluded = {
        control
        for exclusion in profile["profile"]["imports"][0].get("exclude-controls", [])
        for control in exclusion["with-ids"]
    }
    assert "hipaa-164.312.a.1" in excluded  # legal confirmed the HIPAA duties do not apply
