"""Release readiness, sign-offs, exceptions with four eyes, and `tracker gate` for CI."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from defusedxml import ElementTree
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.release_helpers import RELEASE, release_world
from tracker.db import session_scope
from tracker.domain.access import Actor, ActorKind, Role
from tracker.errors import ForbiddenError, NotFoundError, ValidationError
from tracker.models import AuditEvent, SignOff, utcnow
from tracker.services.release_decisions import (
    approve_exception,
    request_exception,
    sign_off,
)
from tracker.services.release_readiness import release_readiness

LEA = Actor(ActorKind.USER, "lea@example.com", Role.LEGAL, account_id=1)
CORA = Actor(ActorKind.USER, "cora@example.com", Role.COMPLIANCE, account_id=2)
ENGINEER = Actor(ActorKind.USER, "eng@example.com", Role.ENGINEER, account_id=3)


def _verdicts(session: Session, **kwargs: Any) -> dict[str, Any]:
    readiness = release_readiness(session=session, release=RELEASE, **kwargs)
    return {item.id: item for item in readiness.verdict.obligations}


def test_the_default_policy_blocks_what_is_not_verified_or_not_applicable(session: Session) -> None:
    release_world(session)
    readiness = release_readiness(session=session, release=RELEASE)
    verdicts = {item.id: item for item in readiness.verdict.obligations}
    assert not readiness.verdict.ready
    assert {ob_id for ob_id, item in verdicts.items() if item.blocking} == {
        "ALPHA-1.2",
        "ALPHA-2",
        "BETA-7",
    }
    assert verdicts["ALPHA-1.1"].verdict == "VERIFIED" and not verdicts["ALPHA-1.1"].blocking
    assert verdicts["BETA-9"].verdict == "NOT_APPLICABLE"
    assert verdicts["ALPHA-1.2"].reasons == ("FAILING blocks the release under the policy.",)


def test_an_unknown_release_is_an_error_never_a_pass(session: Session) -> None:
    release_world(session)
    with pytest.raises(NotFoundError, match="There is no release '2099.01'"):
        release_readiness(session=session, release="2099.01")


def test_a_signoff_records_version_and_status_and_lapses_when_the_status_falls(
    engine: Engine, session: Session
) -> None:
    release_world(session)
    from tracker.domain.gate_policy import PolicySpec

    with session_scope(engine) as db:
        done = sign_off(
            session=db,
            release=RELEASE,
            obligation_ids=["ALPHA-1.1", "ALPHA-1.2", "BETA-7"],
            statement="Checked the erasure flows against Art. 17.",
            actor=LEA,
        )
    assert done.signed == ["ALPHA-1.1", "BETA-7"]
    assert "FAILING" in done.refused["ALPHA-1.2"]
    stored = session.exec(select(SignOff).where(SignOff.obligation_id == "ALPHA-1.1")).one()
    assert (stored.status, stored.obligation_version, stored.signed_role) == (
        "VERIFIED",
        1,
        "legal",
    )
    strict = PolicySpec(require_signoff=True, block=[])
    assert _verdicts(session, policy=strict)["ALPHA-1.1"].signoff.value == "signed"
    # A newer run fails the test: the status falls below what was signed, so it lapses.
    from tests.evidence_helpers import case, ingest, report

    ingest(session, report(case("test_erasure", "ALPHA-1.1", "failed")), release=RELEASE)
    verdict = _verdicts(session, policy=strict)["ALPHA-1.1"]
    assert verdict.signoff.value == "lapsed" and verdict.blocking
    assert "signed off when it was VERIFIED; it is FAILING now" in (verdict.signoff_note or "")
    assert _verdicts(session, policy=strict)["ALPHA-2"].reasons == (
        "Legal has not signed it off for this release.",
    )


def test_an_exception_needs_a_second_person_and_then_excepts_the_obligation(
    engine: Engine, session: Session
) -> None:
    release_world(session)
    expiry = utcnow().date() + timedelta(days=30)
    with session_scope(engine) as db:
        requested = request_exception(
            session=db,
            release=RELEASE,
            obligation_id="ALPHA-2",
            justification="The vendor's fix ships in January; exposure is low meanwhile.",
            compensating_control="Manual weekly review of the processing log.",
            risk_owner="Cora Compliance",
            expires_on=expiry,
            actor=LEA,
        )
    assert _verdicts(session)["ALPHA-2"].blocking  # requested is not approved
    with pytest.raises(ForbiddenError, match="four eyes"), session_scope(engine) as db:
        approve_exception(session=db, exception_id=requested.id or 0, actor=LEA)
    with pytest.raises(ForbiddenError, match="legal or compliance"), session_scope(engine) as db:
        approve_exception(session=db, exception_id=requested.id or 0, actor=ENGINEER)
    with session_scope(engine) as db:
        approve_exception(session=db, exception_id=requested.id or 0, actor=CORA)
    verdict = _verdicts(session)["ALPHA-2"]
    assert verdict.verdict == "EXCEPTED" and not verdict.blocking
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_id == "ALPHA-2")).all()
    assert {"exception.requested", "exception.approved"} <= set(actions)


def test_an_expired_exception_stops_counting(engine: Engine, session: Session) -> None:
    release_world(session)
    with session_scope(engine) as db:
        requested = request_exception(
            session=db,
            release=RELEASE,
            obligation_id="ALPHA-2",
            justification="Accepted until the vendor fix lands in the next release.",
            compensating_control="Manual weekly review of the processing log.",
            risk_owner="Cora",
            expires_on=utcnow().date() + timedelta(days=2),
            actor=LEA,
        )
        approve_exception(session=db, exception_id=requested.id or 0, actor=CORA)
    later = release_readiness(
        session=session, release=RELEASE, today=utcnow().date() + timedelta(days=3)
    )
    verdicts = {item.id: item for item in later.verdict.obligations}
    assert verdicts["ALPHA-2"].blocking and later.verdict.expired_exceptions == (requested.id,)


def test_bad_exception_requests_are_refused_and_write_nothing(
    engine: Engine, session: Session
) -> None:
    release_world(session)
    cases = [
        {"expires_on": utcnow().date() - timedelta(days=1)},
        {"expires_on": utcnow().date() + timedelta(days=400)},
        {"justification": "short"},
        {"risk_owner": ""},
    ]
    for override in cases:
        values: dict[str, Any] = {
            "justification": "A justification long enough to read.",
            "compensating_control": "Manual weekly review of the processing log.",
            "risk_owner": "Cora",
            "expires_on": utcnow().date() + timedelta(days=10),
        } | override
        with pytest.raises(ValidationError), session_scope(engine) as db:
            request_exception(
                session=db, release=RELEASE, obligation_id="ALPHA-2", actor=LEA, **values
            )
    before = session.exec(select(AuditEvent)).all()
    assert not [event for event in before if event.action.startswith("exception.")]


def test_gate_exits_1_with_the_blockers_and_0_once_they_are_resolved_or_excepted(
    runner: Any, engine: Engine, session: Session, tmp_path: Any
) -> None:
    release_world(session)
    blocked = runner.invoke(args=["gate", "--release", RELEASE])
    assert blocked.exit_code == 1
    assert blocked.output.startswith("Release 2026.12: BLOCKED by 3 obligation(s)")
    assert "ALPHA-2 (GAP)" in blocked.output
    junit_file = tmp_path / "gate.xml"
    runner.invoke(
        args=["gate", "--release", RELEASE, "--format", "junit", "--output", str(junit_file)]
    )
    suite = ElementTree.parse(junit_file).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "3"
    failed = [
        case.get("name", "") for case in suite.iter("testcase") if case.find("failure") is not None
    ]
    assert sorted(name.split()[0] for name in failed) == ["ALPHA-1.2", "ALPHA-2", "BETA-7"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "block: [GAP, FAILING]\nby_severity:\n  critical: [FAILING]\n", encoding="utf-8"
    )
    relaxed = runner.invoke(
        args=["gate", "--release", RELEASE, "--policy", str(policy), "--format", "json"]
    )
    assert relaxed.exit_code == 1
    assert [item["id"] for item in json.loads(relaxed.output)["blocking"]] == ["ALPHA-1.2"]
    with session_scope(engine) as db:
        requested = request_exception(
            session=db,
            release=RELEASE,
            obligation_id="ALPHA-1.2",
            justification="The failing check is a known false positive of the test.",
            compensating_control="Manual verification of recipients each week.",
            risk_owner="Cora",
            expires_on=utcnow().date() + timedelta(days=14),
            actor=LEA,
        )
        approve_exception(session=db, exception_id=requested.id or 0, actor=CORA)
    passed = runner.invoke(args=["gate", "--release", RELEASE, "--policy", str(policy)])
    assert passed.exit_code == 0 and passed.output.startswith("Release 2026.12: READY")


def test_gate_configuration_errors_exit_2_with_every_problem(
    runner: Any, session: Session, tmp_path: Any
) -> None:
    release_world(session)
    unknown = runner.invoke(args=["gate", "--release", "2099.01"])
    assert unknown.exit_code == 2 and "There is no release '2099.01'" in unknown.output
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "block: [GAP, BROKEN]\nrequire_signof: true\nmax_evidence_age_days: 0\n", encoding="utf-8"
    )
    bad = runner.invoke(args=["gate", "--release", RELEASE, "--policy", str(policy)])
    assert bad.exit_code == 2
    assert f"{policy}:1: block.1:" in bad.output
    assert f"{policy}:2: require_signof:" in bad.output
    assert f"{policy}:3: max_evidence_age_days:" in bad.output
    missing = runner.invoke(
        args=["gate", "--release", RELEASE, "--policy", str(tmp_path / "none.yaml")]
    )
    assert missing.exit_code == 2 and "Cannot read the policy file" in missing.output
    assert "Traceback" not in unknown.output + bad.output + missing.output


def test_the_gate_is_in_the_api_for_read_tokens(client: Any, session: Session) -> None:
    release_world(session)
    body = client.get(f"/api/v1/releases/{RELEASE}/gate").get_json()
    assert body["ready"] is False and {item["id"] for item in body["blocking"]} == {
        "ALPHA-1.2",
        "ALPHA-2",
        "BETA-7",
    }
    missing = client.get("/api/v1/releases/2099.01/gate")
    assert (
        missing.status_code == 404
        and "There is no release" in missing.get_json()["error"]["message"]
    )


def test_without_runs_for_the_release_the_default_branch_counts_and_it_says_so(
    session: Session,
) -> None:
    from tests.evidence_helpers import case, ingest, load_small_catalog, report
    from tests.helpers import transaction
    from tracker.models import JiraVersion

    load_small_catalog(session)
    with transaction(session):
        session.add(JiraVersion(id="5", project_key="PRIV", name="2027.03"))
    ingest(session, report(case("test_erasure", "ALPHA-1.1")), branch="main")
    readiness = release_readiness(session=session, release="2027.03")
    assert readiness.evidence.startswith("no test run was ingested for release 2027.03")
    row = next(row for row in readiness.rows if row.id == "ALPHA-1.1")
    assert row.result.verification.value == "passing"


def test_the_policy_schema_describes_every_key(runner: Any) -> None:
    result = runner.invoke(args=["releases", "policy-schema"])
    schema = json.loads(result.output)
    assert schema["title"] == "Release gate policy"
    assert set(schema["properties"]) == {
        "block",
        "by_severity",
        "by_instrument",
        "require_signoff",
        "max_evidence_age_days",
        "block_overdue_reviews",
    }
    assert schema["additionalProperties"] is False


def test_gate_runs_as_ci_runs_it_a_new_process_on_the_configured_database(
    tmp_path: Any, database_url: str, session: Session
) -> None:
    import os
    import subprocess
    import sys

    release_world(session)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_SECRET_KEY": "ci",
    }
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "gate", "--release"]
    blocked = subprocess.run(
        [*command, RELEASE, "--format", "junit"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert blocked.returncode == 1, blocked.stderr
    assert '<testsuite name="release gate 2026.12" tests="5" failures="3"' in blocked.stdout
    unknown = subprocess.run(
        [*command, "2099.01"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unknown.returncode == 2 and "There is no release" in unknown.stderr
