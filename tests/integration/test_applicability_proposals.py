"""Applicability proposed from the stored data map: refresh, decisions against it, confirmation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import client_as
from tests.helpers import transaction
from tracker.bulk import table_of
from tracker.catalog import read_catalog
from tracker.data_map.reader import read_data_map
from tracker.domain.access import Actor, ActorKind, Role, cli_actor
from tracker.domain.applicability_decisions import DecisionState
from tracker.domain.applicability_vocabulary import ProposalKind
from tracker.domain.status import Status
from tracker.errors import ValidationError
from tracker.models import (
    ApplicabilityDecision,
    ApplicabilityProposal,
    AuditEvent,
    Obligation,
    RetentionDuty,
)
from tracker.services.applicability_confirm import confirm_proposals
from tracker.services.applicability_proposals import list_proposals, proposal_for
from tracker.services.applicability_refresh import refresh_proposals
from tracker.services.catalog import load_catalog
from tracker.services.data_map import load_data_map
from tracker.services.links import decide_applicability
from tracker.services.matrix import build_matrix

ROOT = Path(__file__).parents[2]
CATALOG = ROOT / "requirements_catalog"
DATA_MAP = ROOT / "data_map"
LEGAL = Actor(kind=ActorKind.USER, name="legal@example.com", role=Role.LEGAL, account_id=1)
PRIVACY = cli_actor("tracker datamap load", "privacy-lead")
HIPAA_SECURITY = "HIPAA-164.312.a.1"  # covered entity or business associate, ePHI, US
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def map_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data_map"
    shutil.copytree(DATA_MAP, target)
    return target


@pytest.fixture
def loaded(session: Session, map_copy: Path) -> Path:
    """The bundled catalog and a copy of the bundled data map, loaded as the demo does."""
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(CATALOG), actor=cli_actor("legal"))
        refresh_proposals(session=session, actor=cli_actor("legal"))
    load_map(session, map_copy)
    return map_copy


def load_map(session: Session, path: Path) -> Any:
    data_map = read_data_map(path)
    assert data_map.ok, data_map.problems
    with transaction(session):
        return load_data_map(session=session, data_map=data_map, actor=PRIVACY)


def add_health_data(path: Path) -> None:
    activities = path / "activities.yaml"
    text = activities.read_text(encoding="utf-8")
    old = "      - user.sensor\n"
    assert text.count(old) == 1
    activities.write_text(
        text.replace(old, old + "      - user.health_and_medical\n"), encoding="utf-8"
    )


def hipaa_ids(session: Session) -> list[str]:
    rows = list_proposals(session, instrument="HIPAA").rows
    return [row.obligation_id for row in rows]


def row_of(session: Session, obligation_id: str) -> Any:
    detail = proposal_for(session, obligation_id)
    assert detail is not None
    return detail.row


def test_before_any_data_map_every_tagged_obligation_is_unknown(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(CATALOG), actor=cli_actor("legal"))
        refresh = refresh_proposals(session=session, actor=cli_actor("legal"))
    found = list_proposals(session)
    assert found.total == len(refresh.changed) > 100
    assert found.by_proposal[ProposalKind.UNKNOWN] == found.total
    # Grouping entries (assessable: false) get no proposal.
    assert proposal_for(session, "HIPAA-164.312") is None


def test_the_bundled_data_map_proposes_hipaa_not_applicable_and_gdpr_applicable(
    session: Session, loaded: Path
) -> None:
    hipaa = list_proposals(session, instrument="HIPAA").rows
    assert hipaa and {row.proposal for row in hipaa} == {ProposalKind.NOT_APPLICABLE}
    security = row_of(session, HIPAA_SECURITY)
    assert security.reasons == (
        "No activity processes ePHI (user.health_and_medical, user.biometric.health).",
    )
    erasure = row_of(session, "GDPR-17.1")
    assert erasure.proposal is ProposalKind.APPLICABLE
    assert "sign-up" in erasure.activities
    assert any(
        reason.startswith("GDPR-17.1 applies: activity `sign-up` processes `user.contact.email`")
        for reason in erasure.reasons
    )
    assert erasure.state is DecisionState.UNDECIDED


def test_retention_duties_are_proposed_applicable_with_their_activities(
    session: Session, loaded: Path
) -> None:
    duties = session.exec(select(RetentionDuty).where(col(RetentionDuty.retired_at).is_(None)))
    duty = duties.first()
    assert duty is not None
    row = row_of(session, duty.obligation_id)
    assert row.proposal is ProposalKind.APPLICABLE
    assert row.activities == tuple(sorted(duty.activities))
    assert f"retention duty for `{duty.data_category}`" in row.reasons[0]


def test_a_refresh_with_nothing_changed_writes_nothing(
    session: Session, engine: Engine, loaded: Path
) -> None:
    statements: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        with transaction(session):
            refresh = refresh_proposals(session=session, actor=PRIVACY)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert refresh.changed == [] and refresh.needs_review == []
    assert statements == []


def test_the_done_when_health_data_proposes_hipaa_and_marks_decisions_for_review(
    app: Flask, engine: Engine, session: Session, loaded: Path
) -> None:
    ids = hipaa_ids(session)
    with transaction(session):
        confirmed = confirm_proposals(session=session, obligation_ids=ids, actor=LEGAL)
    assert confirmed.confirmed == ids
    assert {row_of(session, key).state for key in ids} == {DecisionState.CONFIRMED}
    matrix = {row.id: row for row in build_matrix(session=session).rows}
    assert matrix[HIPAA_SECURITY].result.status is Status.NOT_APPLICABLE

    add_health_data(loaded)
    report = load_map(session, loaded)

    security = row_of(session, HIPAA_SECURITY)
    assert security.proposal is ProposalKind.APPLICABLE
    assert security.activities == ("health-sync",)
    assert security.reasons == (
        "HIPAA-164.312.a.1 applies: activity `health-sync` processes `user.health_and_medical` "
        "in US as business associate on backend_services (system `health-sync-service`)",
    )
    assert security.state is DecisionState.NEEDS_REVIEW
    assert "now proposes “applicable”" in security.review_note
    # The decisions whose proposal now says something else are to review; a duty still
    # proposed not applicable (its condition on surfaces is still unmet) keeps its decision.
    rows = {key: row_of(session, key) for key in ids}
    moved = {key for key, row in rows.items() if row.proposal is not ProposalKind.NOT_APPLICABLE}
    assert HIPAA_SECURITY in moved and len(moved) >= 10
    assert {key for key, row in rows.items() if row.state is DecisionState.NEEDS_REVIEW} == moved
    assert {rows[key].state for key in set(ids) - moved} <= {DecisionState.CONFIRMED}
    assert moved <= set(report.proposals.needs_review)
    assert HIPAA_SECURITY in report.proposals.changed
    # The matrix keeps using the decision until legal looks again.
    matrix = {row.id: row for row in build_matrix(session=session).rows}
    assert matrix[HIPAA_SECURITY].result.status is Status.NOT_APPLICABLE

    page = client_as(app, engine, Role.LEGAL).get(f"/obligations/{HIPAA_SECURITY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Does it apply? What the data map says" in html
    assert 'href="/data-map/activities/health-sync"' in html
    assert "Needs review" in html
    assert "the data map now proposes “applicable”" in html


def test_the_refresh_is_audited_once_with_what_moved(session: Session, loaded: Path) -> None:
    add_health_data(loaded)
    load_map(session, loaded)
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "applicability.proposals_refreshed")
        .order_by(col(AuditEvent.seq))
    ).all()
    last = events[-1]
    assert last.actor == PRIVACY.label
    assert last.after is not None
    assert last.after["moves"][HIPAA_SECURITY] == ["not_applicable", "applicable"]


def test_confirming_not_applicable_makes_the_matrix_not_applicable(
    session: Session, loaded: Path
) -> None:
    undecided = {row.id: row for row in build_matrix(session=session).rows}
    assert undecided[HIPAA_SECURITY].result.status is not Status.NOT_APPLICABLE
    with transaction(session):
        confirm_proposals(session=session, obligation_ids=[HIPAA_SECURITY], actor=LEGAL)
    decision = session.exec(
        select(ApplicabilityDecision).where(ApplicabilityDecision.obligation_id == HIPAA_SECURITY)
    ).one()
    assert decision.not_applicable is True
    assert decision.decided_by == LEGAL.label and decision.decided_role == "legal"
    assert decision.basis_proposal == "not_applicable"
    assert decision.justification.startswith("Confirmed the data map's proposal “not applicable”")
    rows = {row.id: row for row in build_matrix(session=session).rows}
    assert rows[HIPAA_SECURITY].result.status is Status.NOT_APPLICABLE


def test_confirming_an_applicable_proposal_records_that_it_applies(
    session: Session, loaded: Path
) -> None:
    with transaction(session):
        confirm_proposals(session=session, obligation_ids=["GDPR-17.1"], actor=LEGAL)
    assert row_of(session, "GDPR-17.1").decision.not_applicable is False
    rows = {row.id: row for row in build_matrix(session=session).rows}
    assert rows["GDPR-17.1"].result.status is not Status.NOT_APPLICABLE


def test_confirming_twice_adds_nothing(session: Session, loaded: Path) -> None:
    with transaction(session):
        confirm_proposals(session=session, obligation_ids=[HIPAA_SECURITY], actor=LEGAL)
    with transaction(session):
        again = confirm_proposals(session=session, obligation_ids=[HIPAA_SECURITY], actor=LEGAL)
    assert again.confirmed == [] and again.unchanged == [HIPAA_SECURITY]
    decisions = session.exec(
        select(ApplicabilityDecision).where(ApplicabilityDecision.obligation_id == HIPAA_SECURITY)
    ).all()
    assert len(decisions) == 1
    decided = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "applicability.decided", AuditEvent.entity_id == HIPAA_SECURITY
        )
    ).all()
    assert len(decided) == 1


def test_an_unknown_proposal_cannot_be_confirmed_and_nothing_is_written(
    session: Session, loaded: Path
) -> None:
    unknown = list_proposals(session, proposal=ProposalKind.UNKNOWN).rows[0].obligation_id
    with pytest.raises(ValidationError, match="cannot decide") as refused:
        with transaction(session):
            confirm_proposals(
                session=session, obligation_ids=[HIPAA_SECURITY, unknown], actor=LEGAL
            )
    assert unknown in str(refused.value)
    assert session.exec(select(ApplicabilityDecision)).all() == []


def test_an_obligation_without_a_proposal_cannot_be_confirmed(
    session: Session, loaded: Path
) -> None:
    with pytest.raises(ValidationError, match="No proposal for HIPAA-164.312"):
        with transaction(session):
            confirm_proposals(session=session, obligation_ids=["HIPAA-164.312"], actor=LEGAL)


def test_a_decision_by_hand_records_the_proposal_it_was_made_against(
    session: Session, loaded: Path
) -> None:
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id="GDPR-17.1",
            not_applicable=True,
            justification="We keep no data of EU residents after all.",
            actor=LEGAL,
        )
    row = row_of(session, "GDPR-17.1")
    assert row.decision.basis_proposal == "applicable"
    assert row.decision.basis_fingerprint == row.fingerprint
    assert row.state is DecisionState.OVERRIDDEN
    assert not row.confirmable  # an override is changed on its page, never in bulk
    with transaction(session):
        report = confirm_proposals(session=session, obligation_ids=["GDPR-17.1"], actor=LEGAL)
    assert report.overrides_kept == ["GDPR-17.1"] and report.confirmed == []
    assert row_of(session, "GDPR-17.1").decision.not_applicable is True


def test_new_reasons_behind_the_same_proposal_leave_a_decision_confirmed(
    session: Session, loaded: Path
) -> None:
    with transaction(session):
        confirm_proposals(session=session, obligation_ids=["GDPR-17.1"], actor=LEGAL)
    confirmed = row_of(session, "GDPR-17.1")
    assert confirmed.state is DecisionState.CONFIRMED
    # Another activity that triggers it: new reasons and activities, the same proposal.
    with transaction(session):
        session.execute(
            update(table_of(ApplicabilityProposal))
            .where(table_of(ApplicabilityProposal).c.obligation_id == "GDPR-17.1")
            .values(activities=["sign-up", "another"], fingerprint="f" * 64)
        )
    assert row_of(session, "GDPR-17.1").state is DecisionState.CONFIRMED


def test_a_proposal_that_changed_after_the_page_was_shown_is_not_confirmed(
    session: Session, loaded: Path
) -> None:
    with pytest.raises(ValidationError, match="changed after the page was shown"):
        with transaction(session):
            confirm_proposals(
                session=session,
                obligation_ids=["GDPR-17.1"],
                actor=LEGAL,
                seen={"GDPR-17.1": "not_applicable"},
            )
    assert row_of(session, "GDPR-17.1").decision is None


def test_a_decision_made_before_any_proposal_needs_review_once_it_disagrees(
    session: Session, map_copy: Path
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(CATALOG), actor=cli_actor("legal"))
        decide_applicability(
            session=session,
            obligation_id="GDPR-17.1",
            not_applicable=True,
            justification="Decided before the data map existed.",
            actor=LEGAL,
        )
    report = load_map(session, map_copy)
    assert "GDPR-17.1" in report.proposals.needs_review
    row = row_of(session, "GDPR-17.1")
    assert row.state is DecisionState.NEEDS_REVIEW
    assert "before the data map proposed anything" in row.review_note


def test_an_obligation_retired_from_the_catalog_loses_its_proposal(
    session: Session, loaded: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog)
    hipaa = catalog / "hipaa.yaml"
    text = hipaa.read_text(encoding="utf-8")
    start = text.index(f"  - id: {HIPAA_SECURITY}\n")
    at = text.index("    status: active\n", start)
    retired = text[:at] + "    status: retired\n" + text[at + len("    status: active\n") :]
    hipaa.write_text(retired, encoding="utf-8")
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(catalog), actor=cli_actor("legal"))
        refresh = refresh_proposals(session=session, actor=cli_actor("legal"))
    assert HIPAA_SECURITY in refresh.removed
    assert session.get(ApplicabilityProposal, HIPAA_SECURITY) is None
    assert session.get(Obligation, HIPAA_SECURITY) is not None  # retired, kept for the record


def test_cli_lists_proposals_as_json_rows(runner: Any, session: Session, loaded: Path) -> None:
    result = runner.invoke(
        args=["applicability", "proposals", "--format", "json", "--proposal", "applicable"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {row["proposal"] for row in rows} == {"applicable"}
    erasure = next(row for row in rows if row["id"] == "GDPR-17.1")
    assert "sign-up" in erasure["activities"]
    assert erasure["reasons"][0].startswith("GDPR-17.1 applies: activity `")
    assert erasure["decision"] == "undecided"
    assert erasure["computed_at"].endswith("Z")
    text = runner.invoke(args=["applicability", "proposals", "--instrument", "HIPAA"])
    assert f"{HIPAA_SECURITY}  not_applicable  decision: undecided" in text.output
    assert "    No activity processes ePHI" in text.output
    assert "proposals shown (0 applicable, 19 not_applicable, 0 unknown)" in text.output


def test_cli_confirms_all_not_applicable_proposals_as_a_legal_account(
    runner: Any, engine: Engine, session: Session, loaded: Path
) -> None:
    from tests.auth_helpers import make_user

    make_user(engine, Role.LEGAL, email="legal@example.com")
    make_user(engine, Role.ENGINEER, email="engineer@example.com")
    refused = runner.invoke(
        args=["applicability", "confirm", "--all", "--as", "engineer@example.com"]
    )
    assert refused.exit_code == 1
    assert "may not decide applicability" in refused.output
    result = runner.invoke(
        args=[
            "applicability",
            "confirm",
            "--all",
            "--proposal",
            "not_applicable",
            "--as",
            "legal@example.com",
        ]
    )
    assert result.exit_code == 0, result.output
    decisions = session.exec(select(ApplicabilityDecision)).all()
    assert decisions and all(decision.not_applicable for decision in decisions)
    assert {decision.decided_by for decision in decisions} == {"legal@example.com"}
    listed = runner.invoke(
        args=["applicability", "proposals", "--format", "json", "--decision", "confirmed"]
    )
    assert {row["id"] for row in json.loads(listed.output)} == {
        decision.obligation_id for decision in decisions
    }
    again = runner.invoke(
        args=["applicability", "confirm", "--all", "--proposal", "not_applicable"]
    )
    assert "Nothing to confirm" in again.output


def test_cli_refuses_to_confirm_an_unknown_proposal(
    runner: Any, session: Session, loaded: Path
) -> None:
    unknown = list_proposals(session, proposal=ProposalKind.UNKNOWN).rows[0].obligation_id
    result = runner.invoke(args=["applicability", "confirm", unknown])
    assert result.exit_code == 1
    assert "cannot decide" in result.output and "Nothing was confirmed" in result.output
    assert runner.invoke(args=["applicability", "confirm"]).exit_code == 2


def test_catalog_load_refreshes_the_proposals(runner: Any, session: Session) -> None:
    result = runner.invoke(args=["catalog", "load", str(CATALOG)])
    assert result.exit_code == 0, result.output
    assert "Applicability proposals:" in result.output
    assert proposal_for(session, HIPAA_SECURITY) is not None
