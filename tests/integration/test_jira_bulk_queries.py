"""Sync and push write in bulk: their SQL statements do not grow with the issues or links."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord
from tracker.services.catalog import load_catalog
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LABELS = ("obligation-ALPHA-1.1", "obligation-BETA-7")


def epics(count: int, labelled: bool, first: int = 1) -> list[IssueRecord]:
    return [
        IssueRecord(
            key=f"PRIV-{number}",
            id=str(number),
            summary=f"Epic {number}",
            issue_type="Epic",
            status="Done",
            status_category="done",
            fix_versions=(),
            labels=LABELS if labelled else (),
            assignee=None,
            url=f"https://jira.example.test/browse/PRIV-{number}",
            updated=T0 + timedelta(seconds=number),
            project_key="PRIV",
        )
        for number in range(first, first + count)
    ]


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_sync_page_with_200_new_links_takes_a_fixed_number_of_statements(
    engine: Engine, session: Session
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    with counted(engine) as plain:
        sync_jira(
            actor=cli_actor("test"),
            engine=engine,
            gateway=FakeJiraGateway(issues=epics(100, False)),
            jql="x",
        )
    with counted(engine) as linked:
        report = sync_jira(
            actor=cli_actor("test"),
            engine=engine,
            gateway=FakeJiraGateway(issues=epics(100, True, 101)),
            jql="x",
        )
    assert report.links_added == 200 and report.pages == 1
    # One executemany for the links, one read of the watermark, and for the audit events:
    # reserve their sequence numbers, one executemany, move the chain's head.
    assert len(linked) <= len(plain) + 5, linked


def test_a_push_of_198_links_takes_about_as_many_statements_as_one_of_2(
    engine: Engine, session: Session
) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    small = FakeJiraGateway(issues=epics(1, True))
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=small, jql="x")
    with counted(engine) as few:
        assert (
            push_links(
                actor=cli_actor("test"), engine=engine, gateway=small, public_url="https://t"
            ).done
            == 2
        )
    large = FakeJiraGateway(issues=epics(99, True, 2))
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=large, jql="x")
    with counted(engine) as many:
        # 99 issues × 2 obligations, in two batches of at most 100 changes
        assert (
            push_links(
                actor=cli_actor("test"), engine=engine, gateway=large, public_url="https://t"
            ).done
            == 198
        )
    assert len(many) <= len(few) + 4, many
