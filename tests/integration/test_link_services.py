"""The link services check what they are given: test ids, group entries, label-made links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.errors import ConflictError, ValidationError
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord, IssueSummary
from tracker.models import TestLink, WorkItem, WorkItemLink
from tracker.services.jira_epics import create_epic
from tracker.services.links import (
    LabelLinkError,
    link_test,
    link_work_item,
    remove_link_label,
    unlink_work_item,
)

ACTOR = cli_actor("eng")


@pytest.fixture
def loaded(session: Session) -> Session:
    load_small_catalog(session)
    return session


def epic(key: str, labels: tuple[str, ...] = ()) -> IssueRecord:
    return IssueRecord(
        key=key,
        id="1" + key.rsplit("-", 1)[1],
        summary=f"Epic {key}",
        issue_type="Epic",
        status="To Do",
        status_category="new",
        fix_versions=(),
        labels=labels,
        assignee=None,
        url=f"https://jira.example.test/browse/{key}",
        updated=datetime(2026, 11, 20, tzinfo=UTC),
        project_key=key.split("-")[0],
    )


def active_test_links(session: Session) -> list[str]:
    cases = session.exec(select(TestLink).where(col(TestLink.removed_at).is_(None))).all()
    return [link.obligation_id for link in cases]


def test_an_unreported_test_id_is_refused_unless_it_is_meant_to_run_later(loaded: Session) -> None:
    with pytest.raises(ValidationError) as refused, transaction(loaded):
        link_test(session=loaded, obligation_id="ALPHA-1.1", test_id="s/c/typo", actor=ACTOR)
    assert refused.value.field == "test_id"
    assert "No test run has reported the test s/c/typo yet" in str(refused.value)
    assert active_test_links(loaded) == []
    with transaction(loaded):
        outcome = link_test(
            session=loaded,
            obligation_id="ALPHA-1.1",
            test_id="s/c/typo",
            actor=ACTOR,
            before_first_run=True,
        )
    assert outcome.created and "before its first run" in outcome.message
    assert active_test_links(loaded) == ["ALPHA-1.1"]


def test_a_reported_test_is_linked_even_when_an_earlier_link_created_it_first(
    loaded: Session,
) -> None:
    with transaction(loaded):
        link_test(
            session=loaded,
            obligation_id="ALPHA-1.1",
            test_id="pytest/tests.test_privacy/test_a",
            actor=ACTOR,
            before_first_run=True,
        )
    ingest(loaded, report(case("test_a")))
    with transaction(loaded):
        outcome = link_test(
            session=loaded,
            obligation_id="ALPHA-1.2",
            test_id="pytest/tests.test_privacy/test_a",
            actor=ACTOR,
        )
    assert outcome.message == "Linked test pytest/tests.test_privacy/test_a to ALPHA-1.2."


def test_a_group_entry_cannot_be_linked(loaded: Session) -> None:
    fake = FakeJiraGateway(issues=[epic("PRIV-1")])
    with pytest.raises(ValidationError, match="ALPHA-1 groups other obligations"):
        link_work_item(
            session=loaded, obligation_id="ALPHA-1", key="PRIV-1", actor=ACTOR, gateway=fake
        )
    with pytest.raises(ValidationError, match="one of its parts \\(ALPHA-1.1, ALPHA-1.2\\)"):
        link_test(
            session=loaded,
            obligation_id="ALPHA-1",
            test_id="s/c/t",
            actor=ACTOR,
            before_first_run=True,
        )
    assert fake.calls == []


def test_create_epic_refuses_a_group_entry_before_creating_anything_in_jira(
    loaded: Session,
) -> None:
    fake = FakeJiraGateway()
    with pytest.raises(ValidationError, match="ALPHA-1 groups other obligations"):
        create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="ALPHA-1",
            project_key="PRIV",
            actor=ACTOR,
            public_url="https://t",
        )
    assert fake.calls == [] and fake.issues == {}


def test_create_epic_shows_the_new_epic_at_once(loaded: Session, engine: Engine) -> None:
    fake = FakeJiraGateway()
    with transaction(loaded):
        create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=ACTOR,
            public_url="https://t",
        )
    with Session(engine) as session:
        item = session.get(WorkItem, "PRIV-1")
        assert item is not None and item.summary.startswith("BETA-9 ")
        # What the create call sent, without a second request; Jira's status name comes with
        # the next sync (a new issue has not started).
        assert (item.issue_type, item.status_category) == ("Epic", "new")
        assert item.status == "not yet synced"


def test_a_manual_link_that_the_issues_label_would_remake_is_not_removed(
    loaded: Session,
) -> None:
    with transaction(loaded):
        loaded.add(WorkItem(key="PRIV-3", summary="x", labels=["obligation-alpha-1.1"]))
        loaded.flush()
        link_work_item(session=loaded, obligation_id="ALPHA-1.1", key="PRIV-3", actor=ACTOR)
    with pytest.raises(LabelLinkError) as refused, transaction(loaded):
        unlink_work_item(session=loaded, obligation_id="ALPHA-1.1", key="PRIV-3", actor=ACTOR)
    assert refused.value.label == "obligation-alpha-1.1"  # the label as Jira spells it
    assert "the next Jira sync would bring it back" in str(refused.value)


def test_remove_link_label_refuses_a_link_no_label_makes_without_asking_jira(
    loaded: Session,
) -> None:
    fake = FakeJiraGateway(issues=[epic("PRIV-4")])
    with transaction(loaded):
        link_work_item(session=loaded, obligation_id="ALPHA-1.1", key="PRIV-4", actor=ACTOR)
    with pytest.raises(ConflictError, match="made in the tracker, not by a Jira label"):
        remove_link_label(
            session=loaded, gateway=fake, obligation_id="ALPHA-1.1", key="PRIV-4", actor=ACTOR
        )
    assert fake.calls_to("remove_label") == []


def test_remove_link_label_of_an_unsynced_epic_link_removes_the_label_it_was_given(
    loaded: Session, engine: Engine
) -> None:
    fake = FakeJiraGateway()
    with transaction(loaded):
        create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=ACTOR,
            public_url="https://t",
        )
    with transaction(loaded):
        remove_link_label(
            session=loaded, gateway=fake, obligation_id="BETA-9", key="PRIV-1", actor=ACTOR
        )
    assert [call.args for call in fake.calls_to("remove_label")] == [
        ("PRIV-1", "obligation-BETA-9")
    ]
    with Session(engine) as session:
        assert (
            session.exec(select(WorkItemLink).where(col(WorkItemLink.removed_at).is_(None))).all()
            == []
        )


class MovedJira(FakeJiraGateway):
    """Answers PRIV-5 as APP-2, as Jira does for an issue moved to another project."""

    def read_issue(self, issue_key: str) -> IssueSummary:
        return super().read_issue("APP-2" if issue_key == "PRIV-5" else issue_key)


def test_a_moved_issue_is_linked_under_its_new_key(loaded: Session, engine: Engine) -> None:
    moved = MovedJira(issues=[epic("APP-2")])
    with transaction(loaded):
        outcome = link_work_item(
            session=loaded, obligation_id="ALPHA-1.1", key="PRIV-5", actor=ACTOR, gateway=moved
        )
    assert (
        outcome.message
        == "Linked APP-2 (PRIV-5 is now APP-2 in Jira) to ALPHA-1.1: Epic APP-2 (To Do)."
    )
    with Session(engine) as session:
        keys = session.exec(
            select(WorkItemLink.work_item_key).where(col(WorkItemLink.removed_at).is_(None))
        ).all()
        assert keys == ["APP-2"] and session.get(WorkItem, "PRIV-5") is None
