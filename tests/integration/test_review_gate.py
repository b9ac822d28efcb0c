"""Overdue reviews among a release's blockers, when the gate policy says so (and only then)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from tests.helpers import transaction
from tests.release_helpers import RELEASE, release_world
from tracker.domain.access import cli_actor
from tracker.domain.gate_policy import PolicySpec
from tracker.services.release_readiness import release_readiness
from tracker.services.reviews import record_ad_hoc_review

NO_STATUS_BLOCKS = "block: []\n"


def review(session: Session, obligation_id: str, days_ago: int) -> None:
    with transaction(session):
        record_ad_hoc_review(
            session=session,
            kind="obligation",
            item_id=obligation_id,
            outcome="conforming",
            finding=None,
            actor=cli_actor("tracker reviews (test)"),
            at=datetime.now(UTC) - timedelta(days=days_ago),
        )


def blocking(session: Session, policy: PolicySpec) -> dict[str, tuple[str, ...]]:
    readiness = release_readiness(session=session, release=RELEASE, policy=policy)
    return {item.id: item.reasons for item in readiness.verdict.obligations if item.blocking}


def test_an_overdue_review_blocks_the_release_only_under_a_policy_that_says_so(
    session: Session,
) -> None:
    release_world(session)
    review(session, "ALPHA-1.1", days_ago=400)  # verified, but its yearly review is overdue
    assert "ALPHA-1.1" not in blocking(session, PolicySpec())
    strict = blocking(session, PolicySpec(block_overdue_reviews=True))
    due = (datetime.now(UTC) - timedelta(days=400) + timedelta(days=365)).date()
    assert strict["ALPHA-1.1"] == (f"Its periodic review is overdue (it was due on {due}).",)
    # The statuses that blocked before still block, with their own reasons only.
    assert strict["ALPHA-1.2"] == ("FAILING blocks the release under the policy.",)
    readiness = release_readiness(
        session=session, release=RELEASE, policy=PolicySpec(block_overdue_reviews=True)
    )
    assert readiness.overdue_reviews == {"ALPHA-1.1": due}


def test_the_gates_exit_code_follows_the_overdue_review(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    release_world(session)
    review(session, "ALPHA-1.1", days_ago=400)
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(NO_STATUS_BLOCKS, encoding="utf-8")
    strict = tmp_path / "strict.yaml"
    strict.write_text(NO_STATUS_BLOCKS + "block_overdue_reviews: true\n", encoding="utf-8")
    passed = runner.invoke(args=["gate", "--release", RELEASE, "--policy", str(lenient)])
    assert passed.exit_code == 0, passed.output
    blocked = runner.invoke(
        args=["gate", "--release", RELEASE, "--policy", str(strict), "--format", "json"]
    )
    assert blocked.exit_code == 1, blocked.output
    verdict = json.loads(blocked.output)
    assert verdict["policy"]["block_overdue_reviews"] is True
    assert [(item["id"], item["reasons"][0][:33]) for item in verdict["blocking"]] == [
        ("ALPHA-1.1", "Its periodic review is overdue (i")
    ]
    review(session, "ALPHA-1.1", days_ago=0)  # reviewed today: due again in a year
    again = runner.invoke(args=["gate", "--release", RELEASE, "--policy", str(strict)])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("Release 2026.12: READY")


def test_the_configured_policy_puts_overdue_reviews_on_the_release_page_and_the_api_gate(
    app: Any, engine: Any, session: Session, tmp_path: Path
) -> None:
    from tests.auth_helpers import client_as
    from tracker.domain.access import Role

    release_world(session)
    review(session, "ALPHA-1.1", days_ago=400)
    viewer = client_as(app, engine, Role.VIEWER)
    reason = "Its periodic review is overdue"
    assert reason not in viewer.get(f"/releases/{RELEASE}").get_data(as_text=True)
    strict = tmp_path / "strict.yaml"
    strict.write_text("block_overdue_reviews: true\n", encoding="utf-8")
    app.config["GATE_POLICY_PATH"] = strict
    assert reason in viewer.get(f"/releases/{RELEASE}").get_data(as_text=True)
    gate = viewer.get(f"/api/v1/releases/{RELEASE}/gate").get_json()
    assert gate["policy"]["block_overdue_reviews"] is True
    assert any(item["reasons"][0].startswith(reason) for item in gate["blocking"])


def test_a_configured_policy_that_cannot_be_used_is_a_503_that_names_the_setting(
    app: Any, engine: Any, session: Session, tmp_path: Path
) -> None:
    from tests.auth_helpers import client_as
    from tracker.domain.access import Role

    release_world(session)
    broken = tmp_path / "broken.yaml"
    broken.write_text("block_overdue_reviews: [not a flag\n", encoding="utf-8")
    app.config["GATE_POLICY_PATH"] = broken
    viewer = client_as(app, engine, Role.VIEWER)
    page = viewer.get(f"/releases/{RELEASE}")
    assert page.status_code == 503
    assert "TRACKER_GATE_POLICY" in page.get_data(as_text=True)
    api = viewer.get(f"/api/v1/releases/{RELEASE}/gate")
    assert api.status_code == 503
    assert "TRACKER_GATE_POLICY" in api.get_json()["error"]["message"]
