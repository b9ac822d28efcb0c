"""Diffs between releases: scope, versions, statuses per axis, exceptions, lapsed sign-offs."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from tests.auth_helpers import signed_in_client
from tests.evidence_helpers import case, ingest, report
from tests.helpers import transaction
from tests.release_helpers import RELEASE, release_world
from tracker.domain.release_diff import diff_documents
from tracker.models import JiraVersion

BASE = {"release": {"name": "2026.10"}, "hash": "a" * 64}


def _ob(ob_id: str, **values: Any) -> dict[str, Any]:
    base = {
        "id": ob_id,
        "version": 1,
        "status": "VERIFIED",
        "implementation": "done",
        "verification": "passing",
        "signoff": "signed",
        "verdict": "VERIFIED",
        "exceptions": [],
    }
    return base | values


def test_the_diff_names_scope_versions_axes_exceptions_and_lapsed_signoffs() -> None:
    before = BASE | {
        "obligations": [
            _ob("A"),
            _ob("B"),
            _ob("C", exceptions=[{"id": 4, "approved_by": "x", "expires_on": "2027-01-01"}]),
        ]
    }
    after = {"release": {"name": "2026.12"}} | {
        "obligations": [
            _ob(
                "A",
                version=2,
                status="FAILING",
                verification="failing",
                signoff="lapsed",
                verdict="FAILING",
            ),
            _ob("C"),
            _ob("D", exceptions=[{"id": 7, "approved_by": "y", "expires_on": "2027-01-01"}]),
        ]
    }
    diff = diff_documents(before, after, "2026-12-01")
    assert diff.before == "2026.10 (snapshot aaaaaaaaaaaa)" and diff.after == "2026.12"
    assert diff.added == ["D"] and diff.removed == ["B"]
    assert [(v.obligation_id, v.before, v.after) for v in diff.new_versions] == [("A", 1, 2)]
    assert {(c.axis, c.before, c.after) for c in diff.changes if c.obligation_id == "A"} == {
        ("status", "VERIFIED", "FAILING"),
        ("verification", "passing", "failing"),
        ("signoff", "signed", "lapsed"),
        ("verdict", "VERIFIED", "FAILING"),
    }
    assert diff.new_exceptions == [("D", 7)] and diff.ended_exceptions == [("C", 4)]
    assert diff.lapsed_signoffs == ["A"]


def test_identical_documents_have_an_empty_diff() -> None:
    document = BASE | {"obligations": [_ob("A")]}
    assert diff_documents(document, document, "2026-12-01").empty


def test_diff_between_a_frozen_release_and_one_as_it_is_now(
    runner: Any, app: Any, session: Session
) -> None:
    release_world(session)
    with transaction(session):
        session.add(
            JiraVersion(id="9", project_key="PRIV", name="2027.03", release_date=date(2027, 3, 25))
        )
    assert runner.invoke(args=["releases", "freeze", RELEASE]).exit_code == 0
    ingest(session, report(case("test_recipients", "ALPHA-1.2")), release="2027.03")
    result = runner.invoke(args=["releases", "diff", RELEASE, "2027.03"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("From 2026.12 (snapshot ")
    assert "to 2027.03:" in result.output
    assert "ALPHA-1.1 verification: passing -> not run" in result.output
    page = signed_in_client(app, "viewer").get("/releases/2027.03/diff?from=2026.12")
    assert page.status_code == 200 and "Changes per axis" in page.get_data(as_text=True)
    missing = runner.invoke(args=["releases", "diff", RELEASE, "2099.01"])
    assert missing.exit_code == 1 and "There is no release '2099.01'" in missing.output
