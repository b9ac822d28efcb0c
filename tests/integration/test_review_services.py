"""Periodic reviews: what is due per owner, campaigns, recording, ownership, findings in Jira."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import make_user
from tests.evidence_helpers import load_small_catalog
from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.db import session_scope
from tracker.domain.access import Actor, ActorKind, Role, cli_actor
from tracker.domain.reviews import ReviewState
from tracker.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.models import (
    AuditEvent,
    Dpia,
    DpiaSignOff,
    Obligation,
    ObligationVersion,
    ProcessingActivity,
    Review,
    WorkItemLink,
    utcnow,
)
from tracker.services.catalog import load_catalog
from tracker.services.links import decide_applicability
from tracker.services.review_issues import open_issue_for_finding, review_label
from tracker.services.reviews import (
    MAX_CAMPAIGN_ITEMS,
    create_campaign,
    get_campaign,
    list_campaigns,
    overdue_by_owner,
    record_ad_hoc_review,
    record_item_review,
    record_review,
    resolve_items,
    review_items,
)

TODAY = utcnow().date()
CORA = Actor(ActorKind.USER, "cora@example.com", Role.COMPLIANCE, account_id=1)
LEA = Actor(ActorKind.USER, "lea@example.com", Role.LEGAL, account_id=2)
ENZO = Actor(ActorKind.USER, "enzo@example.com", Role.ENGINEER, account_id=3)
PUBLIC_URL = "https://tracker.example.test"


def add_activity(
    session: Session,
    activity_id: str,
    *,
    owner: str | None = "lea@example.com",
    every: int | None = None,
    days_old: int = 0,
    status: str = "active",
) -> None:
    """Store a processing activity as the data map loader would (only what reviews read)."""
    created = datetime.now(UTC) - timedelta(days=days_old)
    session.add(
        ProcessingActivity(
            id=activity_id,
            name=f"Activity {activity_id}",
            owner=owner,
            status=status,
            review_every_days=every,
            spec={"id": activity_id},
            fingerprint="f" * 64,
            source_file="activities.yaml",
            created_at=created,
            updated_at=created,
        )
    )


def add_dpia(session: Session, dpia_id: str, *, days_old: int = 0) -> None:
    created = datetime.now(UTC) - timedelta(days=days_old)
    spec = {
        "id": dpia_id,
        "risks": [{"id": "R1", "mitigations": [{"obligations": ["ALPHA-1.1", "BETA-7"]}]}],
    }
    session.add(
        Dpia(
            id=dpia_id,
            activity_id="health-sync",
            title=f"DPIA {dpia_id}",
            owner="lea@example.com",
            spec=spec,
            fingerprint="d" * 64,
            source_file="dpias.yaml",
            created_at=created,
            updated_at=created,
        )
    )


@pytest.fixture
def world(engine: Engine, session: Session) -> Session:
    """The small catalog, three activities (one overdue), a DPIA, and the reviewers' accounts."""
    load_small_catalog(session)
    with transaction(session):
        add_activity(session, "sign-up", every=180, days_old=200)  # overdue by 20 days
        add_activity(session, "payments", owner="cora@example.com", days_old=10)
        add_activity(session, "old-crm", status="retired", days_old=900)
        add_dpia(session, "dpia-health-sync", days_old=30)
        decide_applicability(
            session=session,
            obligation_id="BETA-9",
            not_applicable=True,
            justification="We process no data of this kind at all.",
            actor=cli_actor("legal"),
        )
    for actor in (CORA, LEA, ENZO):
        role = actor.role or Role.VIEWER
        make_user(engine, role, email=actor.name)
    make_user(engine, Role.VIEWER, email="vic@example.com")
    session.rollback()
    return session


def campaign(session: Session, items: list[tuple[str, str]], reviewer: str = "lea@example.com"):  # type: ignore[no-untyped-def]
    with transaction(session):
        return create_campaign(
            session=session,
            name="Annual review",
            due_on=TODAY + timedelta(days=30),
            items=items,
            reviewer=reviewer,
            note=None,
            actor=CORA,
        )


# --- what is due --------------------------------------------------------------------------------


def test_review_items_are_applicable_obligations_active_activities_and_dpias(
    world: Session,
) -> None:
    items = {(item.kind, item.id): item for item in review_items(session=world, today=TODAY)}
    assert set(items) == {
        ("obligation", "ALPHA-1.1"),
        ("obligation", "ALPHA-1.2"),
        ("obligation", "ALPHA-2"),
        ("obligation", "BETA-7"),
        ("activity", "sign-up"),
        ("activity", "payments"),
        ("dpia", "dpia-health-sync"),
    }, "no group node (ALPHA-1), no not-applicable obligation (BETA-9), no retired activity"
    overdue = items[("activity", "sign-up")]
    assert overdue.state is ReviewState.OVERDUE
    assert overdue.cadence_days == 180 and overdue.days_left == -20
    assert items[("activity", "payments")].state is ReviewState.FINE
    assert items[("dpia", "dpia-health-sync")].due_on == TODAY + timedelta(days=365 - 30)


def test_overdue_reviews_are_listed_per_owner(world: Session) -> None:
    with transaction(world):
        add_activity(world, "support", owner="cora@example.com", every=30, days_old=45)
    groups = overdue_by_owner(session=world, today=TODAY)
    assert [(group.owner, [item.id for item in group.items]) for group in groups] == [
        ("cora@example.com", ["support"]),
        ("lea@example.com", ["sign-up"]),
    ]


def test_a_dpia_sign_off_counts_as_its_review_and_sets_the_due_date(world: Session) -> None:
    with transaction(world):
        world.add(
            DpiaSignOff(
                dpia_id="dpia-health-sync",
                fingerprint="d" * 64,
                version=1,
                signed_by="lea@example.com",
                next_review_on=TODAY + timedelta(days=10),
            )
        )
    items = {item.id: item for item in review_items(session=world, today=TODAY)}
    dpia = items["dpia-health-sync"]
    assert dpia.due_on == TODAY + timedelta(days=10)
    assert dpia.state is ReviewState.DUE_SOON and dpia.last_reviewed_on == TODAY


def test_an_obligation_is_reviewed_by_its_instruments_owner_unless_it_names_its_own(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(SMALL_CATALOG, folder)
    alpha = folder / "alpha.yaml"
    text = alpha.read_text(encoding="utf-8")
    alpha.write_text(
        text.replace(
            '  effective_date: "2020-01-01"\n',
            '  effective_date: "2020-01-01"\n  owner: legal@example.com\n  review_every_days: 90\n',
            1,
        ).replace(
            "    tags: [deletion]\n",
            "    tags: [deletion]\n    owner: privacy-team\n    review_every_days: 30\n",
            1,
        ),
        encoding="utf-8",
    )
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(folder), actor=cli_actor("legal"))
    rows = {row.id: row for row in session.exec(select(Obligation)).all()}
    assert (rows["ALPHA-1.1"].owner, rows["ALPHA-1.1"].review_every_days) == ("privacy-team", 30)
    assert (rows["ALPHA-1.2"].owner, rows["ALPHA-1.2"].review_every_days) == (
        "legal@example.com",
        90,
    )
    assert rows["BETA-7"].owner is None and rows["BETA-7"].review_every_days is None
    # Not normative: a new owner updates the obligations without a new version.
    alpha.write_text(
        alpha.read_text(encoding="utf-8").replace(
            "owner: legal@example.com", "owner: dpo@example.com"
        ),
        encoding="utf-8",
    )
    with transaction(session):
        report = load_catalog(session=session, catalog=read_catalog(folder), actor=cli_actor("l"))
    assert report.new_versions == []
    assert "ALPHA-1.2" in report.updated and "ALPHA-1.1" not in report.updated
    session.expire_all()
    assert session.get(Obligation, "ALPHA-1.2").owner == "dpo@example.com"  # type: ignore[union-attr]
    assert len(session.exec(select(ObligationVersion)).all()) == len(rows)
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "obligation.updated", AuditEvent.entity_id == "ALPHA-1.2"
        )
    ).one()
    assert event.before == {"owner": "legal@example.com", "version": 1}
    assert event.after == {"owner": "dpo@example.com", "version": 1}


# --- campaigns ----------------------------------------------------------------------------------


def test_a_campaign_assigns_reviews_to_a_reviewer_and_is_audited(world: Session) -> None:
    created = campaign(world, [("activity", "sign-up"), ("obligation", "ALPHA-1.1")])
    assert created.reviews == 2
    assert "assigns 2 review(s)" in created.message
    detail = get_campaign(session=world, campaign_id=created.campaign.id or 0)
    assert [(row.review.item_id, row.review.reviewer, row.title) for row in detail.reviews] == [
        ("sign-up", "lea@example.com", "Activity sign-up"),
        ("ALPHA-1.1", "lea@example.com", "Right to erasure"),
    ]
    assert (detail.progress.total, detail.progress.recorded) == (2, 0)
    actions = [
        (event.action, event.actor)
        for event in world.exec(select(AuditEvent)).all()
        if event.action.startswith("review")
    ]
    assert (
        actions
        == [("review_campaign.created", "cora@example.com")]
        + [("review.assigned", "cora@example.com")] * 2
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"due_on": TODAY - timedelta(days=1)}, "has passed"),
        ({"due_on": TODAY + timedelta(days=731)}, "within two years"),
        ({"due_on": None}, "due date"),
        ({"reviewer": "nobody@example.com"}, "does not exist"),
        ({"reviewer": "vic@example.com"}, "may not record reviews"),
        ({"items": []}, "at least one item"),
        ({"items": [("activity", "no-such")]}, "There is no processing activity 'no-such'"),
        ({"items": [("obligation", "BETA-9")]}, "legal decided it does not apply"),
        ({"items": [("activity", "old-crm")]}, "retired or not active"),
        ({"items": [("activity", f"a{n}") for n in range(501)]}, "at most 500"),
        ({"name": " "}, "Give the name"),
        ({"name": "n\x00"}, "control characters"),
    ],
)
def test_a_campaign_with_bad_input_is_refused_and_nothing_is_written(
    world: Session, change: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "name": "Annual review",
        "due_on": TODAY + timedelta(days=30),
        "items": [("activity", "sign-up")],
        "reviewer": "lea@example.com",
        "note": None,
    }
    values.update(change)
    with pytest.raises(ValidationError, match=message), transaction(world):
        create_campaign(session=world, actor=CORA, **values)  # type: ignore[arg-type]
    assert list_campaigns(session=world) == []
    assert world.exec(select(Review)).all() == []
    assert MAX_CAMPAIGN_ITEMS == 500


def test_only_who_manages_reviews_creates_a_campaign(world: Session) -> None:
    with pytest.raises(ForbiddenError, match="compliance or an admin"), transaction(world):
        create_campaign(
            session=world,
            name="Mine",
            due_on=TODAY,
            items=[("activity", "sign-up")],
            reviewer="lea@example.com",
            note=None,
            actor=LEA,
        )


def test_a_disabled_reviewer_is_refused(engine: Engine, world: Session) -> None:
    from tracker.services.accounts import set_active

    with session_scope(engine) as db:
        set_active(session=db, email="enzo@example.com", active=False, actor=cli_actor("admin"))
    with pytest.raises(ValidationError, match="is disabled"):
        campaign(world, [("activity", "sign-up")], reviewer="enzo@example.com")


def test_items_are_listed_by_id_with_a_kind_where_two_kinds_share_one(world: Session) -> None:
    with transaction(world):
        add_activity(world, "dpia-health-sync")  # an activity with a DPIA's id
    assert resolve_items(session=world, text="ALPHA-2, sign-up\ndpia:dpia-health-sync") == [
        ("dpia", "dpia-health-sync"),
        ("obligation", "ALPHA-2"),
        ("activity", "sign-up"),
    ]
    with pytest.raises(ValidationError, match="write activity:dpia-health-sync"):
        resolve_items(session=world, text="dpia-health-sync")
    with pytest.raises(ValidationError, match="NOPE-1"):
        resolve_items(session=world, text="ALPHA-2\nNOPE-1")


# --- recording ----------------------------------------------------------------------------------


def test_the_reviewer_records_once_and_the_next_review_moves_on(world: Session) -> None:
    created = campaign(world, [("activity", "sign-up")])
    review_id = world.exec(select(Review.id)).one() or 0
    with transaction(world):
        record_review(
            session=world, review_id=review_id, outcome="conforming", finding=None, actor=LEA
        )
    items = {item.id: item for item in review_items(session=world, today=TODAY)}
    assert items["sign-up"].state is ReviewState.FINE
    assert items["sign-up"].due_on == TODAY + timedelta(days=180)
    assert items["sign-up"].last_outcome == "conforming"
    with pytest.raises(ConflictError, match=r"recorded already, as conforming, by lea@"):
        with transaction(world):
            record_review(
                session=world,
                review_id=review_id,
                outcome="not_conforming",
                finding="Changed my mind about it.",
                actor=CORA,
            )
    progress = list_campaigns(session=world)[0]
    assert (progress.campaign.id, progress.total, progress.recorded) == (
        created.campaign.id,
        1,
        1,
    )
    event = world.exec(select(AuditEvent).where(AuditEvent.action == "review.recorded")).one()
    assert event.actor == "lea@example.com"
    assert event.after == {
        "item": "activity:sign-up",
        "campaign": created.campaign.id,
        "outcome": "conforming",
        "finding": None,
    }


def test_someone_else_may_not_record_a_review_but_compliance_may(world: Session) -> None:
    campaign(world, [("activity", "sign-up"), ("obligation", "ALPHA-2")])
    first, second = world.exec(select(Review.id).order_by(col(Review.id))).all()
    with pytest.raises(ForbiddenError, match="assigned to lea@example.com"), transaction(world):
        record_review(
            session=world, review_id=first or 0, outcome="conforming", finding=None, actor=ENZO
        )
    with transaction(world):
        record_review(
            session=world,
            review_id=second or 0,
            outcome="not_conforming",
            finding="No breach runbook exists.",
            actor=CORA,
        )
    reviews = {row.id: row for row in world.exec(select(Review)).all()}
    assert reviews[first].outcome is None
    assert (reviews[second].outcome, reviews[second].reviewed_by) == (
        "not_conforming",
        "cora@example.com",
    )


def test_a_not_conforming_review_needs_a_finding(world: Session) -> None:
    campaign(world, [("activity", "sign-up")])
    review_id = world.exec(select(Review.id)).one() or 0
    for outcome, finding, message in (
        ("not_conforming", None, "Describe the finding"),
        ("not_conforming", "short", "at least 10"),
        ("maybe", None, "conforming or not conforming"),
    ):
        with pytest.raises(ValidationError, match=message), transaction(world):
            record_review(
                session=world, review_id=review_id, outcome=outcome, finding=finding, actor=LEA
            )
    with pytest.raises(NotFoundError, match="no review #999"), transaction(world):
        record_review(session=world, review_id=999, outcome="conforming", finding=None, actor=LEA)
    assert world.exec(select(Review.outcome)).one() is None


def test_an_ad_hoc_review_is_recorded_by_the_items_owner_or_a_manager(world: Session) -> None:
    with pytest.raises(ForbiddenError, match="reviewed by lea@example.com"), transaction(world):
        record_ad_hoc_review(
            session=world,
            kind="activity",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=ENZO,
        )
    with transaction(world):
        record_ad_hoc_review(
            session=world,
            kind="activity",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=LEA,
            at=datetime.now(UTC) - timedelta(days=170),
        )
    item = {item.id: item for item in review_items(session=world, today=TODAY)}["sign-up"]
    assert item.due_on == TODAY + timedelta(days=10) and item.state is ReviewState.DUE_SOON
    with transaction(world):
        record_ad_hoc_review(
            session=world,
            kind="obligation",
            item_id="ALPHA-2",
            outcome="not_conforming",
            finding="The runbook misses the 72-hour clock.",
            actor=CORA,
        )
    with pytest.raises(NotFoundError), transaction(world):
        record_ad_hoc_review(
            session=world,
            kind="dpia",
            item_id="nope",
            outcome="conforming",
            finding=None,
            actor=CORA,
        )
    with pytest.raises(ValidationError, match="future"), transaction(world):
        record_ad_hoc_review(
            session=world,
            kind="activity",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=CORA,
            at=datetime.now(UTC) + timedelta(days=1),
        )
    assert len(world.exec(select(Review)).all()) == 2


# --- a finding as a Jira issue ------------------------------------------------------------------


def not_conforming(world: Session, kind: str, item_id: str) -> int:
    campaign(world, [(kind, item_id)])
    review_id = world.exec(select(Review.id).order_by(col(Review.id).desc())).first() or 0
    with transaction(world):
        record_review(
            session=world,
            review_id=review_id,
            outcome="not_conforming",
            finding="Backups keep erased accounts for a year.",
            actor=LEA,
        )
    return review_id


def open_issue(world: Session, fake: FakeJiraGateway, review_id: int, actor: Actor = LEA):  # type: ignore[no-untyped-def]
    with transaction(world):
        return open_issue_for_finding(
            session=world,
            gateway=fake,
            review_id=review_id,
            project_key="priv",
            actor=actor,
            public_url=PUBLIC_URL,
        )


def test_a_finding_on_an_obligation_opens_one_linked_issue_whatever_its_status(
    world: Session,
) -> None:
    review_id = not_conforming(world, "obligation", "ALPHA-1.1")
    fake = FakeJiraGateway()
    first = open_issue(world, fake, review_id)
    assert (first.key, first.created) == ("PRIV-1", True)
    assert first.message == f"Opened PRIV-1 for the finding of review #{review_id}."
    issue = fake.issues["PRIV-1"]
    assert issue.summary == "Review finding: obligation ALPHA-1.1: Right to erasure"
    assert set(issue.labels) >= {"obligation-ALPHA-1.1", "privacy-review"}
    description = fake.descriptions["PRIV-1"]
    assert "Backups keep erased accounts for a year." in description
    assert f"{PUBLIC_URL}/obligations/ALPHA-1.1" in description
    second = open_issue(world, fake, review_id)
    assert (second.key, second.created) == ("PRIV-1", False)
    assert "already tracks" in second.message
    assert len(fake.calls_to("create_epic")) == 1
    world.rollback()
    assert world.get(Review, review_id).work_item_key == "PRIV-1"  # type: ignore[union-attr]
    link = world.exec(select(WorkItemLink).where(WorkItemLink.obligation_id == "ALPHA-1.1")).one()
    assert (link.work_item_key, link.origin) == ("PRIV-1", "jira")
    event = world.exec(select(AuditEvent).where(AuditEvent.action == "review.issue_opened")).one()
    assert event.after == {"work_item": "PRIV-1", "project": "PRIV", "item": "obligation:ALPHA-1.1"}


def test_an_issue_whose_creation_answer_was_lost_is_found_by_its_label(world: Session) -> None:
    review_id = not_conforming(world, "obligation", "ALPHA-2")
    review = world.get(Review, review_id)
    assert review is not None
    fake = FakeJiraGateway()
    # Jira created it, but the tracker never heard back (no key was stored).
    fake.create_epic("PRIV", "Review finding", "lost", [review_label(review), "privacy-review"])
    found = open_issue(world, fake, review_id)
    assert (found.key, found.created) == ("PRIV-1", False)
    assert len(fake.calls_to("create_epic")) == 1


def test_a_finding_on_an_activity_or_dpia_opens_an_issue_linked_to_no_obligation(
    world: Session,
) -> None:
    fake = FakeJiraGateway()
    activity = open_issue(world, fake, not_conforming(world, "activity", "sign-up"))
    dpia = open_issue(world, fake, not_conforming(world, "dpia", "dpia-health-sync"))
    assert (activity.key, dpia.key) == ("PRIV-1", "PRIV-2")
    assert f"{PUBLIC_URL}/data-map/activities/sign-up" in fake.descriptions["PRIV-1"]
    assert "ALPHA-1.1, BETA-7" in fake.descriptions["PRIV-2"]
    assert not any(label.startswith("obligation-") for label in fake.issues["PRIV-2"].labels)
    world.rollback()
    assert world.exec(select(WorkItemLink)).all() == []


def test_no_issue_for_a_conforming_or_unrecorded_review_nor_for_someone_else(
    world: Session,
) -> None:
    campaign(world, [("activity", "sign-up")])
    review_id = world.exec(select(Review.id)).one() or 0
    fake = FakeJiraGateway()
    with pytest.raises(ConflictError, match="is not recorded yet"):
        open_issue(world, fake, review_id)
    with transaction(world):
        record_review(
            session=world, review_id=review_id, outcome="conforming", finding=None, actor=LEA
        )
    with pytest.raises(ConflictError, match="found the item conforming"):
        open_issue(world, fake, review_id)
    finding = not_conforming(world, "obligation", "ALPHA-2")
    with pytest.raises(ForbiddenError, match="only they, or someone who manages"):
        open_issue(world, fake, finding, actor=ENZO)
    with pytest.raises(ValidationError, match="not a Jira project key"), transaction(world):
        open_issue_for_finding(
            session=world,
            gateway=fake,
            review_id=finding,
            project_key="not a key",
            actor=LEA,
            public_url=PUBLIC_URL,
        )
    assert fake.calls_to("create_epic") == []


def test_an_item_review_outside_a_campaign_moves_its_due_date_and_refuses_unreviewed_items(
    world: Session,
) -> None:
    with transaction(world):
        done = record_item_review(
            session=world,
            kind="activity",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=LEA,
        )
    assert done.item.due_on == TODAY + timedelta(days=180)
    assert done.item.state is ReviewState.FINE and not done.not_conforming
    assert done.review.campaign_id is None and done.review.reviewer == "lea@example.com"
    with pytest.raises(ConflictError, match="BETA-9 is not reviewed: legal decided"):
        with transaction(world):
            record_item_review(
                session=world,
                kind="obligation",
                item_id="BETA-9",
                outcome="conforming",
                finding=None,
                actor=CORA,
            )
    with pytest.raises(NotFoundError, match="no kind of item 'campaign'"), transaction(world):
        record_item_review(
            session=world,
            kind="campaign",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=CORA,
        )
    with pytest.raises(ForbiddenError, match="only its owner"), transaction(world):
        record_item_review(
            session=world,
            kind="activity",
            item_id="sign-up",
            outcome="conforming",
            finding=None,
            actor=ENZO,
        )
    assert len(world.exec(select(Review)).all()) == 1
