"""`tracker reviews`: what is due per owner (text and JSON), recording a review as an account."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import make_user
from tests.evidence_helpers import load_small_catalog
from tests.helpers import transaction
from tests.integration.test_review_services import add_activity
from tracker.domain.access import Role
from tracker.models import AuditEvent, Review, User, utcnow

TODAY = utcnow().date()


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(args=list(args), catch_exceptions=False)


@pytest.fixture
def world(engine: Engine, session: Session) -> Session:
    """The small catalog, legal's overdue activity, compliance's activity due soon, accounts."""
    load_small_catalog(session)
    with transaction(session):
        add_activity(session, "sign-up", owner="legal@example.com", every=180, days_old=200)
        add_activity(session, "payments", owner="compliance@example.com", every=30, days_old=20)
        add_activity(session, "support", owner="legal@example.com", every=365, days_old=10)
    session.rollback()
    for role in (Role.LEGAL, Role.COMPLIANCE, Role.ENGINEER, Role.VIEWER):
        make_user(engine, role)
    return session


def _activity_rows(output: str) -> list[dict[str, Any]]:
    return [row for row in json.loads(output) if row["kind"] == "activity"]


def test_due_lists_overdue_and_due_soon_reviews_per_owner_as_json(
    runner: CliRunner, world: Session
) -> None:
    result = invoke(runner, "reviews", "due", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in _activity_rows(result.output)}
    assert set(rows) == {"sign-up", "payments"}, "support is not due for almost a year"
    assert rows["sign-up"] == {
        "kind": "activity",
        "id": "sign-up",
        "title": "Activity sign-up",
        "owner": "legal@example.com",
        "due_on": (TODAY - timedelta(days=20)).isoformat(),
        "state": "overdue",
        "last_reviewed_on": None,
    }
    assert rows["payments"]["state"] == "due_soon"
    assert rows["payments"]["due_on"] == (TODAY + timedelta(days=10)).isoformat()
    mine = invoke(runner, "reviews", "due", "--owner", "Legal@Example.com", "--format", "json")
    assert {row["owner"] for row in json.loads(mine.output)} == {"legal@example.com"}


def test_due_as_text_groups_per_owner(runner: CliRunner, world: Session) -> None:
    result = invoke(runner, "reviews", "due", "--owner", "compliance@example.com")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("compliance@example.com: 0 overdue, 1 in all\n")
    assert "activity payments  Activity payments  (due in 10 days; last review never)" in (
        result.output
    )
    nobody = invoke(runner, "reviews", "due", "--owner", "nobody@example.com")
    assert nobody.output == "No review of nobody@example.com is overdue or due within 30 days.\n"


def test_the_owner_records_a_review_and_its_next_review_moves_one_cadence_on(
    runner: CliRunner, world: Session
) -> None:
    result = invoke(
        runner,
        "reviews",
        "record",
        "activity",
        "sign-up",
        "--outcome",
        "conforming",
        "--as",
        "legal@example.com",
    )
    assert result.exit_code == 0, result.output
    due = (TODAY + timedelta(days=180)).isoformat()
    assert f"as conforming; its next review is due on {due} (in 180 days)." in result.output
    rows = _activity_rows(invoke(runner, "reviews", "due", "--format", "json").output)
    assert [row["id"] for row in rows] == ["payments"]
    world.rollback()
    review = world.exec(select(Review)).one()
    assert (review.campaign_id, review.reviewer, review.outcome) == (
        None,
        "legal@example.com",
        "conforming",
    )
    event = world.exec(select(AuditEvent).where(AuditEvent.action == "review.recorded")).one()
    assert event.actor == "legal@example.com"


def test_compliance_records_a_not_conforming_review_of_anyones_item(
    runner: CliRunner, world: Session
) -> None:
    result = invoke(
        runner,
        "reviews",
        "record",
        "activity",
        "sign-up",
        "--outcome",
        "not_conforming",
        "--finding",
        "Consent is not logged for sign-ups.",
        "--as",
        "compliance@example.com",
    )
    assert result.exit_code == 0, result.output
    assert "as not conforming" in result.output
    assert "where a Jira issue can be opened for it" in result.output
    world.rollback()
    review = world.exec(select(Review)).one()
    assert review.finding == "Consent is not logged for sign-ups."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["activity", "sign-up", "--outcome", "conforming", "--as", "engineer@example.com"],
            "reviewed by legal@example.com: only its owner",
        ),
        (
            ["activity", "sign-up", "--outcome", "conforming", "--as", "viewer@example.com"],
            "viewer@example.com is a viewer and may not record reviews",
        ),
        (
            ["activity", "sign-up", "--outcome", "not_conforming", "--as", "legal@example.com"],
            "Describe the finding (at least 10 characters)",
        ),
        (
            ["activity", "nope", "--outcome", "conforming", "--as", "legal@example.com"],
            "There is no processing activity 'nope' to review.",
        ),
        (
            ["activity", "sign-up", "--outcome", "conforming", "--as", "ghost@example.com"],
            "There is no account with the e-mail ghost@example.com.",
        ),
    ],
)
def test_a_review_that_may_not_be_recorded_is_refused_and_nothing_is_written(
    runner: CliRunner, world: Session, args: list[str], message: str
) -> None:
    result = invoke(runner, "reviews", "record", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    world.rollback()
    assert world.exec(select(Review)).all() == []


def test_a_disabled_account_may_not_record_a_review(runner: CliRunner, world: Session) -> None:
    with transaction(world):
        user = world.exec(select(User).where(User.email == "legal@example.com")).one()
        user.active = False
    result = invoke(
        runner,
        "reviews",
        "record",
        "activity",
        "sign-up",
        "--outcome",
        "conforming",
        "--as",
        "legal@example.com",
    )
    assert result.exit_code == 1
    assert "is disabled" in result.output


def test_bad_arguments_are_usage_errors(runner: CliRunner, world: Session) -> None:
    missing = invoke(runner, "reviews", "record", "activity", "sign-up", "--outcome", "conforming")
    assert missing.exit_code == 2 and "Missing option '--as'" in missing.output
    kind = invoke(
        runner, "reviews", "record", "campaign", "x", "--outcome", "conforming", "--as", "a@b.c"
    )
    assert kind.exit_code == 2 and "'campaign' is not one of" in kind.output
    nul = invoke(
        runner,
        "reviews",
        "record",
        "activity",
        "a\x00b",
        "--outcome",
        "conforming",
        "--as",
        "legal@example.com",
    )
    assert nul.exit_code == 2
