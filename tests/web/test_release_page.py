"""The readiness page: verdict, blockers by what unblocks them, sign-off, exceptions, freezing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.helpers import transaction
from tests.release_helpers import RELEASE, release_world
from tracker.models import ReleaseException, ReleaseSnapshot, SignOff, utcnow

URL = f"/releases/{RELEASE}"


def _post(client: Any, path: str, data: dict[str, Any]) -> Any:
    page = client.get(URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return client.post(path, data={"csrf_token": token.group(1), **data})


def test_the_page_says_blocked_and_groups_blockers_by_what_unblocks_them(
    app: Any, session: Session
) -> None:
    release_world(session)
    text = signed_in_client(app, "viewer").get(URL).get_data(as_text=True)
    assert "Blocked: 3 obligations block release 2026.12." in text
    assert "Failing tests (1)" in text and 'href="/evidence/runs/1">Run #1</a>' in text
    assert "Nothing linked yet (1)" in text and "/obligations/ALPHA-2#create-epic" in text
    assert "No passing evidence (1)" in text
    assert "tracker gate --release 2026.12" in text
    assert "Sign off the checked" not in text and "Freeze 2026.12" not in text  # not for viewers


def test_legal_signs_off_and_the_page_counts_it(app: Any, session: Session) -> None:
    release_world(session)
    legal = signed_in_client(app, "legal")
    response = _post(
        legal,
        f"{URL}/sign-off",
        {"obligation": ["ALPHA-1.1", "BETA-7"], "statement": "Reviewed the evidence for both."},
    )
    assert response.status_code == 302
    assert len(session.exec(select(SignOff)).all()) == 2
    text = legal.get(URL).get_data(as_text=True)
    assert "Signed off 2 obligation(s) for 2026.12." in text
    assert "Sign-off: 2 of 5 signed off" in text


def test_an_exception_is_requested_by_one_and_approved_by_another(
    app: Any, session: Session
) -> None:
    release_world(session)
    engineer = signed_in_client(app, "engineer")
    expiry = (utcnow().date() + timedelta(days=30)).isoformat()
    requested = _post(
        engineer,
        f"{URL}/exceptions",
        {
            "obligation": "ALPHA-2",
            "justification": "The feature ships disabled in this release.",
            "compensating_control": "The flag is off in production; checked weekly.",
            "risk_owner": "Cora Compliance",
            "expires_on": expiry,
        },
    )
    assert requested.status_code == 302
    exception = session.exec(select(ReleaseException)).one()
    assert exception.approved_at is None
    # The engineer cannot approve (role), and the page offers no button to the requester.
    assert _post(engineer, f"{URL}/exceptions/{exception.id}/approve", {}).status_code == 403
    compliance = signed_in_client(app, "compliance")
    assert "Approve</button>" in compliance.get(URL).get_data(as_text=True)
    assert _post(compliance, f"{URL}/exceptions/{exception.id}/approve", {}).status_code == 302
    text = compliance.get(URL).get_data(as_text=True)
    assert "Blocked: 2 obligations block" in text and "Excepted 1" in text


def test_a_requester_with_an_approver_role_still_cannot_approve_their_own(
    app: Any, session: Session
) -> None:
    release_world(session)
    legal = signed_in_client(app, "legal")
    _post(
        legal,
        f"{URL}/exceptions",
        {
            "obligation": "ALPHA-2",
            "justification": "The feature ships disabled in this release.",
            "compensating_control": "The flag is off in production; checked weekly.",
            "risk_owner": "Lea",
            "expires_on": (utcnow().date() + timedelta(days=10)).isoformat(),
        },
    )
    exception = session.exec(select(ReleaseException)).one()
    assert "Approve</button>" not in legal.get(URL).get_data(as_text=True)
    refused = _post(legal, f"{URL}/exceptions/{exception.id}/approve", {})
    assert refused.status_code == 403 and "four eyes" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.exec(select(ReleaseException)).one().approved_at is None


def test_a_bad_exception_request_keeps_what_was_typed_and_writes_nothing(
    app: Any, session: Session
) -> None:
    release_world(session)
    engineer = signed_in_client(app, "engineer")
    response = _post(
        engineer,
        f"{URL}/exceptions",
        {
            "obligation": "ALPHA-2",
            "justification": "Long enough text here.",
            "compensating_control": "x",
            "risk_owner": "Cora",
            "expires_on": "2020-01-01",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Long enough text here." in text
    assert session.exec(select(ReleaseException)).all() == []


def test_compliance_freezes_and_anyone_downloads_the_snapshot(app: Any, session: Session) -> None:
    release_world(session)
    compliance = signed_in_client(app, "compliance")
    response = _post(compliance, f"{URL}/freeze", {})
    # Freezing is a job: the answer is its page, which (run at once in tests) links the snapshot.
    assert response.status_code == 303 and response.headers["Location"] == "/jobs/1"
    snapshot = session.exec(select(ReleaseSnapshot)).one()
    job = compliance.get("/jobs/1").get_data(as_text=True)
    assert "Release freeze queued as job #1." in job
    assert f"Snapshot #{snapshot.id} frozen: hash {snapshot.hash[:16]}" in job
    assert f'href="/snapshots/{snapshot.id}/report">Snapshot #{snapshot.id} report</a>' in job
    viewer = signed_in_client(app, "viewer")
    download = viewer.get(f"/snapshots/{snapshot.id}.json")
    assert download.status_code == 200 and download.get_data(as_text=True) == snapshot.document
    oscal = viewer.get(f"/snapshots/{snapshot.id}.oscal.json").get_json()
    assert oscal["assessment-results"]["results"][0]["findings"]
    assert f"#{snapshot.id}" in viewer.get(URL).get_data(as_text=True)
    report = viewer.get(f"/snapshots/{snapshot.id}/report").get_data(as_text=True)
    assert "auditor&#39;s report" in report or "auditor's report" in report
    assert snapshot.hash in report and "ALPHA-1.1" in report


def test_an_unknown_release_page_is_a_404_that_says_so(client: Any, session: Session) -> None:
    release_world(session)
    response = client.get("/releases/2099.01")
    assert response.status_code == 404 and "There is no release" in response.get_data(as_text=True)


def test_the_gate_records_the_day_and_the_page_draws_the_burn_down(
    app: Any, runner: Any, session: Session
) -> None:
    from datetime import date

    from tracker.models import ReadinessRecord

    release_world(session)
    viewer = signed_in_client(app, "viewer")
    assert "No day recorded yet" in viewer.get(URL).get_data(as_text=True)
    assert runner.invoke(args=["gate", "--release", RELEASE]).exit_code == 1
    with transaction(session):
        session.add(ReadinessRecord(release=RELEASE, day=date(2026, 11, 20), blocking=5, total=5))
    text = viewer.get(URL).get_data(as_text=True)
    assert "Blockers from 2026-11-20 (5) to" in text and "(3), one bar per recorded day." in text
    assert text.count('<rect class="chart-fail"') == 2
    recorded = runner.invoke(args=["releases", "record"])
    assert "2026.12: 3 of 5 obligations block it." in recorded.output


def test_the_matrix_and_its_exports_show_the_signoff_for_a_release(
    app: Any, session: Session
) -> None:
    from tracker.db import get_engine, session_scope
    from tracker.domain.access import Actor, ActorKind, Role
    from tracker.services.release_decisions import sign_off

    release_world(session)
    with session_scope(get_engine(app)) as db:
        sign_off(
            session=db,
            release=RELEASE,
            obligation_ids=["ALPHA-1.1"],
            statement="Checked the erasure evidence.",
            actor=Actor(ActorKind.USER, "lea@example.com", Role.LEGAL, account_id=9),
        )
    viewer = signed_in_client(app, "viewer")
    rows = {
        row["id"]: row for row in viewer.get(f"/api/v1/matrix?release={RELEASE}").get_json()["rows"]
    }
    assert rows["ALPHA-1.1"]["signoff"] == "signed" and rows["ALPHA-2"]["signoff"] == "missing"
    assert rows["BETA-9"]["signoff"] == "not needed"
    csv_text = viewer.get(f"/matrix.csv?release={RELEASE}").get_data(as_text=True)
    assert "signoff" in csv_text.splitlines()[0] and ",signed," in csv_text
    page = viewer.get(f"/matrix?release={RELEASE}").get_data(as_text=True)
    assert '<th scope="col">Sign-off</th>' in page
    plain = viewer.get("/api/v1/matrix").get_json()["rows"]
    assert all(row["signoff"] is None for row in plain)


def test_the_dashboard_has_a_release_selector(app: Any, session: Session) -> None:
    release_world(session)
    viewer = signed_in_client(app, "viewer")
    text = viewer.get("/").get_data(as_text=True)
    assert '<option value="2026.12">2026.12</option>' in text
    chosen = viewer.get("/?release=2026.12").get_data(as_text=True)
    assert '<option value="2026.12" selected>' in chosen and 'href="/releases/2026.12"' in chosen


def test_the_dashboard_says_when_an_exception_has_expired(app: Any, session: Session) -> None:
    from datetime import date

    from tracker.models import ReleaseException

    release_world(session)
    with transaction(session):
        session.add(
            ReleaseException(
                release=RELEASE,
                obligation_id="ALPHA-2",
                justification="Accepted for the pilot.",
                compensating_control="Weekly manual review.",
                risk_owner="Cora",
                expires_on=date(2026, 1, 31),
                requested_by="lea@example.com",
                requested_by_ref="user:1",
                approved_by="cora@example.com",
                approved_by_ref="user:2",
                approved_at=utcnow(),
            )
        )
    text = signed_in_client(app, "viewer").get(f"/?release={RELEASE}").get_data(as_text=True)
    assert "1 approved exception of 2026.12 expired and no longer counts" in text


def test_legal_can_sign_off_one_instrument_at_once(app: Any, session: Session) -> None:
    release_world(session)
    legal = signed_in_client(app, "legal")
    text = legal.get(f"{URL}?instrument=BETA").get_data(as_text=True)
    signable = text[text.index('id="sign-off"') : text.index('id="exceptions"')]
    assert 'value="BETA-7"' in signable and 'value="ALPHA-1.1"' not in signable
    assert '<option value="ALPHA">ALPHA</option>' in signable


def test_work_not_done_names_its_jira_status_and_assignee(app: Any, session: Session) -> None:
    from tracker.domain.access import cli_actor
    from tracker.models import WorkItem
    from tracker.services.links import link_work_item

    release_world(session)
    with transaction(session):
        session.add(
            WorkItem(
                key="PRIV-8",
                summary="Erasure workflow",
                status="In Review",
                status_category="indeterminate",
                fix_versions=[RELEASE],
                assignee="Ines Engineer",
            )
        )
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-2", key="PRIV-8", actor=cli_actor("eng")
        )
    text = signed_in_client(app, "viewer").get(URL).get_data(as_text=True)
    assert "Work not done (1)" in text
    assert "PRIV-8: In Review, assigned to Ines Engineer" in text
