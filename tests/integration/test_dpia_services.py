"""DPIAs from the data map: residual risk in a release, acceptance, sign-off, missing DPIAs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.evidence_helpers import (
    case,
    count_statements,
    ingest,
    link_done_work_item,
    load_small_catalog,
    report,
)
from tests.helpers import transaction
from tracker.data_map.reader import read_data_map
from tracker.domain.access import Actor, ActorKind, Role, cli_actor
from tracker.domain.risk import RiskState
from tracker.errors import NotFoundError, ValidationError
from tracker.models import AuditEvent, DpiaSignOff, utcnow
from tracker.services.data_map import load_data_map
from tracker.services.dpia_signoffs import sign_off_dpia
from tracker.services.dpias import SignOffState, choose_release, dpia_report, risk_register
from tracker.services.release_decisions import approve_exception, request_exception
from tracker.services.releases import create_release

PRIVACY = cli_actor("tracker datamap load", "privacy-lead")
LEGAL = Actor(kind=ActorKind.USER, name="dpo@example.com", role=Role.LEGAL, account_id=7)
COMPLIANCE = Actor(
    kind=ActorKind.USER, name="compliance@example.com", role=Role.COMPLIANCE, account_id=8
)

SYSTEMS = [
    {
        "id": "web-app",
        "name": "Web app",
        "jira": {"project": "PRIV"},
        "surfaces": ["web"],
        "hosted_in": ["EU"],
    }
]


def activity(activity_id: str, *, dpia_required: bool) -> dict[str, object]:
    """Return a valid activity of the test data map."""
    return {
        "id": activity_id,
        "name": f"Activity {activity_id}",
        "purpose": "A processing activity of the test data map.",
        "owner": "owner@example.com",
        "legal_basis": {"EU": "contract"},
        "data_categories": ["user.contact.email"],
        "data_subjects": ["customer"],
        "systems": ["web-app"],
        "jurisdictions": ["EU"],
        "roles": ["controller"],
        "dpia": {
            "required": dpia_required,
            "reason": "Large-scale tracking of customers across the site.",
        },
    }


def sign_up_dpia(title: str = "Sign-up DPIA", risk_title: str = "Accounts are taken over") -> dict:  # type: ignore[type-arg]
    """Return the DPIA of activity sign-up: R1 mitigated by ALPHA-1.1 and ALPHA-1.2, R2 by BETA-7."""
    return {
        "id": "dpia-sign-up",
        "activity": "sign-up",
        "title": title,
        "owner": "dpo@example.com",
        "description": "Accounts hold e-mail addresses and order history of customers.",
        "necessity": "Only what the account needs is asked for; nothing is shared.",
        "risks": [
            {
                "id": "R1",
                "title": risk_title,
                "likelihood": 4,
                "impact": 4,
                "data_subjects": ["customer"],
                "mitigations": [
                    {
                        "description": "Erase accounts on request, everywhere.",
                        "obligations": ["ALPHA-1.1"],
                        "reduces_likelihood": 2,
                    },
                    {
                        "description": "Tell every recipient about the erasure.",
                        "obligations": ["ALPHA-1.2"],
                        "reduces_impact": 1,
                    },
                ],
            },
            {
                "id": "R2",
                "title": "Deletion requests are ignored",
                "likelihood": 3,
                "impact": 3,
                "mitigations": [
                    {
                        "description": "Delete collected data on a verified request.",
                        "obligations": ["BETA-7"],
                        "reduces_likelihood": 1,
                    }
                ],
            },
        ],
    }


def write_data_map(folder: Path, dpia: dict | None = None) -> Path:  # type: ignore[type-arg]
    """Write a data map: sign-up (with a DPIA), analytics (needs one, has none), support."""
    folder.mkdir(parents=True, exist_ok=True)
    activities = [
        activity("sign-up", dpia_required=True),
        activity("analytics", dpia_required=True),
        activity("support", dpia_required=False),
    ]
    (folder / "systems.yaml").write_text(yaml.safe_dump({"systems": SYSTEMS}), "utf-8")
    (folder / "activities.yaml").write_text(yaml.safe_dump({"activities": activities}), "utf-8")
    (folder / "dpias.yaml").write_text(yaml.safe_dump({"dpias": [dpia or sign_up_dpia()]}), "utf-8")
    return folder


def load_map(session: Session, folder: Path) -> None:
    """Load the data map in its own transaction, as `tracker datamap load` does."""
    data_map = read_data_map(folder)
    assert data_map.ok, data_map.problems
    with transaction(session):
        load_data_map(session=session, data_map=data_map, actor=PRIVACY)
    session.rollback()


def prepare(session: Session, folder: Path, dpia: dict | None = None) -> None:  # type: ignore[type-arg]
    """Load the small catalog and the test data map."""
    load_small_catalog(session)
    load_map(session, write_data_map(folder, dpia))


def verify(session: Session, obligation_id: str, key: str, **options: str) -> None:
    """Make the obligation VERIFIED: finished work and a passing test that names it."""
    link_done_work_item(session, obligation_id, key)
    ingest(session, report(case(f"test_{key.lower()}", obligation_id)), **options)


def residual(session: Session, release: str | None = None) -> dict[str, int]:
    choice = choose_release(session=session, release=release)
    register = risk_register(session=session, choice=choice)
    return {
        f"{entry.dpia.id} {entry.risk.id}": entry.risk.residual_score for entry in register.entries
    }


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data_map"


def test_a_dpia_residual_risk_falls_when_its_mitigating_obligation_becomes_verified(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    assert residual(session) == {"dpia-sign-up R1": 16, "dpia-sign-up R2": 9}
    link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
    assert residual(session)["dpia-sign-up R1"] == 16  # implemented, not verified yet
    ingest(session, report(case("test_erasure", "ALPHA-1.1")))
    assert residual(session) == {"dpia-sign-up R1": 8, "dpia-sign-up R2": 9}
    ingest(session, report(case("test_erasure", "ALPHA-1.1", outcome="failed")))
    assert residual(session)["dpia-sign-up R1"] == 16  # a failing test takes it back


def test_the_register_names_the_obligations_that_keep_a_mitigation_from_counting(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    verify(session, "ALPHA-1.1", "PRIV-1")
    register = risk_register(session=session, choice=choose_release(session=session))
    r1 = next(entry.risk for entry in register.entries if entry.risk.id == "R1")
    assert r1.state is RiskState.OPEN
    erase, tell = r1.mitigations
    assert erase.counted and not tell.counted
    assert [(check.obligation_id, check.label) for check in tell.not_verified] == [
        ("ALPHA-1.2", "Gap")
    ]
    assert register.titles["ALPHA-1.2"] == "Tell recipients about erasure"
    assert register.heat_map(residual=False).count(4, 4) == 1
    assert register.heat_map(residual=True).count(2, 4) == 1


def test_activities_that_need_a_dpia_without_one_are_listed_as_missing(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    register = risk_register(session=session, choice=choose_release(session=session))
    assert [(item.activity_id, item.reason) for item in register.missing] == [
        ("analytics", "Large-scale tracking of customers across the site.")
    ]
    assert [dpia.activity_name for dpia in register.dpias] == ["Activity sign-up"]


def test_the_residual_counts_the_statuses_of_the_chosen_release(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    with transaction(session):
        for name in ("2026.10", "2026.12"):
            create_release(session=session, name=name, release_date=None, actor=PRIVACY)
    session.rollback()
    verify(session, "ALPHA-1.1", "PRIV-1", release="2026.12")
    ingest(session, report(case("test_other", "BETA-9")), release="2026.10")
    assert residual(session, "2026.12")["dpia-sign-up R1"] == 8
    # 2026.10 has test runs of its own, and none of them names ALPHA-1.1.
    assert residual(session, "2026.10")["dpia-sign-up R1"] == 16
    with pytest.raises(NotFoundError, match="no release '2099.1'"):
        choose_release(session=session, release="2099.1")


def test_the_default_release_is_the_newest_unreleased_one(session: Session, folder: Path) -> None:
    prepare(session, folder)
    assert choose_release(session=session).release is None
    with transaction(session):
        create_release(
            session=session, name="2026.12", release_date=date(2026, 12, 17), actor=PRIVACY
        )
        create_release(
            session=session, name="2027.03", release_date=date(2027, 3, 25), actor=PRIVACY
        )
    session.rollback()
    choice = choose_release(session=session)
    assert (choice.release, choice.chosen) == ("2027.03", False)
    # No run was ingested for it: the default branch's newest runs count, and it says so.
    assert "no test run was ingested for release 2027.03" in choice.evidence
    assert choice.scope.release is None


def test_a_risk_is_accepted_when_its_unverified_obligations_have_approved_exceptions(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    with transaction(session):
        create_release(session=session, name="2026.12", release_date=None, actor=PRIVACY)
    session.rollback()
    verify(session, "ALPHA-1.1", "PRIV-1", release="2026.12")
    with transaction(session):
        requested = request_exception(
            session=session,
            release="2026.12",
            obligation_id="ALPHA-1.2",
            justification="Recipients are told by hand until the event ships.",
            compensating_control="The support team e-mails each recipient.",
            risk_owner="Head of Legal",
            expires_on=utcnow().date() + timedelta(days=60),
            actor=COMPLIANCE,
        )
    session.rollback()
    choice = choose_release(session=session, release="2026.12")
    before = risk_register(session=session, choice=choice)
    assert before.entries[0].risk.state is RiskState.OPEN  # requested is not approved
    with transaction(session):
        approve_exception(session=session, exception_id=requested.id or 0, actor=LEGAL)
    session.rollback()
    register = risk_register(session=session, choice=choice)
    r1 = next(entry.risk for entry in register.entries if entry.risk.id == "R1")
    assert r1.state is RiskState.ACCEPTED
    assert [(item.obligation_id, item.approved_by) for item in r1.exceptions] == [
        ("ALPHA-1.2", "dpo@example.com")
    ]
    assert r1.residual_score == 8
    # Another release has no exception: there the risk is open.
    with transaction(session):
        create_release(session=session, name="2027.03", release_date=None, actor=PRIVACY)
    session.rollback()
    other = risk_register(
        session=session, choice=choose_release(session=session, release="2027.03")
    )
    assert other.in_state(RiskState.ACCEPTED) == []


def test_a_sign_off_holds_for_the_version_signed_and_a_changed_dpia_needs_a_new_one(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    today = utcnow().date()
    review = today + timedelta(days=365)
    with transaction(session):
        result = sign_off_dpia(
            session=session,
            dpia_id="dpia-sign-up",
            next_review_on=review,
            note="  Reviewed with the product team.  ",
            actor=LEGAL,
        )
    session.rollback()
    assert result.recorded and result.sign_off.note == "Reviewed with the product team."
    choice = choose_release(session=session)
    view = dpia_report(session=session, dpia_id="dpia-sign-up", choice=choice).dpias[0].sign_off
    assert view.state is SignOffState.CURRENT
    assert (view.signed_by, view.next_review_on) == ("dpo@example.com", review)
    event = session.exec(
        select(AuditEvent).where(col(AuditEvent.action) == "dpia.signed_off")
    ).one()
    assert (event.actor, event.entity_id) == ("dpo@example.com", "dpia-sign-up")
    # The same sign-off again records nothing new.
    with transaction(session):
        again = sign_off_dpia(
            session=session,
            dpia_id="dpia-sign-up",
            next_review_on=review,
            note="Reviewed with the product team.",
            actor=LEGAL,
        )
    session.rollback()
    assert not again.recorded
    assert len(session.exec(select(DpiaSignOff)).all()) == 1
    load_map(session, write_data_map(folder, sign_up_dpia(title="Sign-up DPIA, second edition")))
    changed = dpia_report(session=session, dpia_id="dpia-sign-up", choice=choice).dpias[0]
    assert changed.version == 2
    assert changed.sign_off.state is SignOffState.EARLIER
    assert "Signed off for an earlier version (version 1" in changed.sign_off.words


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "is in the past"), (3 * 366 + 1, "more than 3 years ahead")],
)
def test_a_next_review_date_in_the_past_or_beyond_three_years_is_refused(
    session: Session, folder: Path, days: int, message: str
) -> None:
    prepare(session, folder)
    with pytest.raises(ValidationError, match=message), transaction(session):
        sign_off_dpia(
            session=session,
            dpia_id="dpia-sign-up",
            next_review_on=utcnow().date() + timedelta(days=days),
            note=None,
            actor=LEGAL,
        )
    session.rollback()
    assert session.exec(select(DpiaSignOff)).all() == []


def test_signing_off_an_unknown_or_removed_dpia_is_not_found(
    session: Session, folder: Path
) -> None:
    prepare(session, folder)
    with pytest.raises(NotFoundError, match="no DPIA 'dpia-nothing'"), transaction(session):
        sign_off_dpia(
            session=session,
            dpia_id="dpia-nothing",
            next_review_on=utcnow().date(),
            note=None,
            actor=LEGAL,
        )
    session.rollback()
    other = sign_up_dpia()
    other["id"] = "dpia-sign-up-v2"
    load_map(session, write_data_map(folder, other))
    with pytest.raises(NotFoundError, match="removed from the data map"):
        dpia_report(session=session, dpia_id="dpia-sign-up", choice=choose_release(session=session))
    register = risk_register(session=session, choice=choose_release(session=session))
    assert [dpia.id for dpia in register.dpias] == ["dpia-sign-up-v2"]


def test_the_register_reads_each_table_once_whatever_the_number_of_dpias(
    session: Session, folder: Path, engine: Engine
) -> None:
    load_small_catalog(session)
    write_data_map(folder)
    many = []
    for number in range(12):
        dpia = sign_up_dpia()
        dpia["id"] = f"dpia-{number}"
        many.append(dpia)
    (folder / "dpias.yaml").write_text(yaml.safe_dump({"dpias": many}), "utf-8")
    load_map(session, folder)
    choice = choose_release(session=session)
    with count_statements(engine) as statements:
        register = risk_register(session=session, choice=choice)
    assert len(register.entries) == 24
    few = len(statements)
    (folder / "dpias.yaml").write_text(yaml.safe_dump({"dpias": many[:2]}), "utf-8")
    load_map(session, folder)
    with count_statements(engine) as statements:
        risk_register(session=session, choice=choice)
    assert len(statements) == few
