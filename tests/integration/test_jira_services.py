"""Jira sync, push, gap-to-epic and webhooks against the in-memory fake gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.errors import ConflictError, JiraError, ValidationError
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord
from tracker.models import EpicRequest, RemoteLinkState, SyncRun, WorkItem, WorkItemLink
from tracker.services.catalog import load_catalog
from tracker.services.jira_epics import create_epic
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira
from tracker.services.jira_webhooks import SignatureError, handle_webhook
from tracker.services.links import link_test, link_work_item
from tracker.services.sync_lock import held_lock

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def issue(
    key: str,
    category: str = "done",
    labels: tuple[str, ...] = (),
    minutes: int = 0,
    **kwargs: object,
) -> IssueRecord:
    names = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
    values: dict[str, object] = {
        "key": key,
        "id": str(abs(hash(key)) % 100000),
        "summary": f"Work {key}",
        "issue_type": "Epic",
        "status": names[category],
        "status_category": category,
        "fix_versions": ("2026.12",),
        "labels": labels,
        "assignee": None,
        "url": f"https://jira.example.test/browse/{key}",
        "updated": T0 + timedelta(minutes=minutes),
        "project_key": key.split("-")[0],
    }
    values.update(kwargs)
    return IssueRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def loaded(session: Session) -> Session:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    return session


def links(session: Session) -> set[tuple[str, str, str]]:
    session.rollback()
    return {
        (link.obligation_id, link.work_item_key, link.origin)
        for link in session.exec(
            select(WorkItemLink).where(col(WorkItemLink.removed_at).is_(None))
        ).all()
    }


def test_first_sync_stores_issues_and_links_from_labels(engine: Engine, loaded: Session) -> None:
    fake = FakeJiraGateway(
        issues=[
            issue("PRIV-1", labels=("obligation-ALPHA-1.1", "team-a")),
            issue("PRIV-2", "indeterminate", labels=("obligation-beta-9",), minutes=1),
            issue("PRIV-3", labels=("obligation-NOPE-1",), minutes=2),
        ]
    )
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="issuetype = Epic")
    assert (report.status, report.created, report.links_added) == ("succeeded with problems", 3, 2)
    assert links(loaded) == {("ALPHA-1.1", "PRIV-1", "jira"), ("BETA-9", "PRIV-2", "jira")}
    assert any(
        "obligation-NOPE-1" in problem and "PRIV-3" in problem for problem in report.problems
    )
    item = loaded.get(WorkItem, "PRIV-2")
    assert item is not None and (item.status, item.status_category) == (
        "In Progress",
        "indeterminate",
    )
    run = loaded.get(SyncRun, report.run_id)
    assert run is not None and run.watermark_to == T0 + timedelta(minutes=2) and run.finished_at


def test_incremental_sync_with_nothing_changed_makes_one_search(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(issues=[issue(f"PRIV-{n}", minutes=n) for n in range(1, 150)])
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    fake.calls.clear()
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert len(fake.calls_to("search")) == 1
    assert report.created == report.updated == 0
    since = fake.calls_to("search")[0].args[1]
    assert since == T0 + timedelta(minutes=149) - timedelta(minutes=5)


def test_removing_the_label_removes_the_jira_link_but_not_manual_ones(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1",))])
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    with transaction(loaded):
        link_work_item(
            session=loaded, obligation_id="ALPHA-2", key="PRIV-1", actor=cli_actor("eng")
        )
    fake.add_issue(issue("PRIV-1", labels=(), minutes=10))
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert report.links_removed == 1
    assert links(loaded) == {("ALPHA-2", "PRIV-1", "manual")}


def test_full_sync_marks_deleted_issues_missing_and_keeps_links(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(
        issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1",)), issue("PRIV-2")]
    )
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    del fake.issues["PRIV-1"]
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x", full=True)
    assert report.missing == 1
    loaded.rollback()
    assert loaded.get(WorkItem, "PRIV-1").missing  # type: ignore[union-attr]
    assert ("ALPHA-1.1", "PRIV-1", "jira") in links(loaded)
    assert any("PRIV-1 is missing in Jira" in p for p in report.problems)


def test_linked_items_outside_the_search_are_fetched_by_key(
    engine: Engine, loaded: Session
) -> None:
    outside = issue("APP-9", "indeterminate")
    fake = FakeJiraGateway(
        issues=[issue("PRIV-1"), outside], jql_filter=lambda jql, i: i.key.startswith("PRIV")
    )
    with transaction(loaded):
        link_work_item(session=loaded, obligation_id="ALPHA-2", key="APP-9", actor=cli_actor("eng"))
        link_work_item(
            session=loaded, obligation_id="ALPHA-2", key="APP-404", actor=cli_actor("eng")
        )
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="project = PRIV")
    loaded.rollback()
    assert loaded.get(WorkItem, "APP-9").status == "In Progress"  # type: ignore[union-attr]
    assert loaded.get(WorkItem, "APP-404").missing  # type: ignore[union-attr]
    assert report.missing == 1


def test_a_second_concurrent_sync_is_refused(engine: Engine, loaded: Session) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-1")])
    with held_lock(engine, "Jira sync", "someone else"):
        with pytest.raises(ConflictError, match="Another Jira sync is running"):
            sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert (
        sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x").status
        == "succeeded"
    )


def test_an_expired_lock_of_a_dead_sync_is_taken_over(engine: Engine, loaded: Session) -> None:
    with held_lock(engine, "Jira sync", "dead", ttl=timedelta(seconds=-1)):
        report = sync_jira(
            actor=cli_actor("test"), engine=engine, gateway=FakeJiraGateway(), jql="x"
        )
    assert report.status == "succeeded"


def test_a_sync_failing_mid_way_keeps_what_it_stored_and_the_next_run_converges(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(issues=[issue(f"PRIV-{n}", minutes=n) for n in range(1, 251)])
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    # Everything changes; Jira then fails on the second page.
    for n in range(1, 251):
        fake.add_issue(issue(f"PRIV-{n}", "indeterminate", minutes=300 + n))
    original = fake.search
    pages = {"n": 0}

    def flaky_search(*args, **kwargs):  # type: ignore[no-untyped-def]
        pages["n"] += 1
        if pages["n"] == 2:
            raise JiraError("Jira is unavailable (503).", status=503, retryable=True)
        return original(*args, **kwargs)

    fake.search = flaky_search  # type: ignore[method-assign]
    failed = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert failed.status == "failed" and failed.updated == 100
    loaded.rollback()
    run = loaded.get(SyncRun, failed.run_id)
    assert run is not None and run.watermark_to is None
    fake.search = original  # type: ignore[method-assign]
    again = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert again.status == "succeeded"
    loaded.rollback()
    categories = {item.status_category for item in loaded.exec(select(WorkItem)).all()}
    assert categories == {"indeterminate"}


def test_dry_run_sync_writes_no_work_items(engine: Engine, loaded: Session) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1",))])
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x", dry_run=True)
    assert (report.created, report.links_added) == (1, 1)
    loaded.rollback()
    assert loaded.exec(select(WorkItem)).all() == []
    assert links(loaded) == set()


def synced(engine: Engine, fake: FakeJiraGateway) -> None:
    assert sync_jira(
        actor=cli_actor("test"), engine=engine, gateway=fake, jql="x"
    ).status.startswith("succeeded")


def test_push_adds_one_remote_link_per_obligation_and_a_rerun_changes_nothing(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(
        issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1", "obligation-ALPHA-2"))]
    )
    synced(engine, fake)
    report = push_links(
        actor=cli_actor("test"),
        engine=engine,
        gateway=fake,
        public_url="https://tracker.example.test/",
    )
    assert report.done == 2 and not report.failed
    remote = fake.links["PRIV-1"]
    assert set(remote) == {
        "privacy-tracker:obligation=ALPHA-1.1",
        "privacy-tracker:obligation=ALPHA-2",
    }
    link = remote["privacy-tracker:obligation=ALPHA-1.1"]
    assert link.title == "ALPHA-1.1 (Art. 1(1)): IMPLEMENTED"
    assert link.url == "https://tracker.example.test/obligations/ALPHA-1.1"
    assert not link.resolved
    fake.calls.clear()
    again = push_links(
        actor=cli_actor("test"),
        engine=engine,
        gateway=fake,
        public_url="https://tracker.example.test",
    )
    assert (again.done, again.unchanged) == (0, 2)
    assert fake.calls == []


def test_push_marks_verified_obligations_resolved_and_deletes_removed_links(
    engine: Engine, loaded: Session
) -> None:
    from tracker.models import TestResult, TestRun
    from tracker.services.links import ensure_test_case

    fake = FakeJiraGateway(
        issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1", "obligation-ALPHA-2"))]
    )
    synced(engine, fake)
    push_links(actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t")
    with transaction(loaded):
        link_test(
            session=loaded,
            obligation_id="ALPHA-1.1",
            test_id="s/c/t",
            actor=cli_actor("ci"),
            before_first_run=True,
        )
        run = TestRun(suite="s", branch="main", content_hash="h1")
        loaded.add(run)
        loaded.flush()
        case = ensure_test_case(loaded, "s/c/t")
        loaded.add(TestResult(run_id=run.id or 0, test_case_id=case.id or 0, outcome="passed"))
    fake.add_issue(issue("PRIV-1", labels=("obligation-ALPHA-1.1",), minutes=5))
    synced(engine, fake)
    preview = push_links(
        actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t", dry_run=True
    )
    assert sorted(c.action for c in preview.planned) == ["delete", "update"]
    assert fake.links["PRIV-1"]["privacy-tracker:obligation=ALPHA-1.1"].title.endswith(
        "IMPLEMENTED"
    )
    push_links(actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t")
    assert set(fake.links["PRIV-1"]) == {"privacy-tracker:obligation=ALPHA-1.1"}
    verified = fake.links["PRIV-1"]["privacy-tracker:obligation=ALPHA-1.1"]
    assert verified.resolved and verified.title.endswith("VERIFIED")
    loaded.rollback()
    assert len(loaded.exec(select(RemoteLinkState)).all()) == 1


def test_push_partial_failure_names_the_issues_and_a_rerun_finishes(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(
        issues=[
            issue("PRIV-1", labels=("obligation-ALPHA-1.1",)),
            issue("PRIV-2", labels=("obligation-BETA-7",)),
        ]
    )
    synced(engine, fake)
    fake.fail(
        "upsert_remote_link",
        JiraError("Jira rate limit reached.", status=429, retryable=True),
        times=1,
    )
    first = push_links(actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t")
    assert list(first.failed) == ["PRIV-1"] and first.done == 1
    assert "Run the push again" in first.summary()
    second = push_links(
        actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t"
    )
    assert second.done == 1 and not second.failed
    assert set(fake.links) == {"PRIV-1", "PRIV-2"}


def test_create_epic_for_a_gap_once(engine: Engine, loaded: Session) -> None:
    fake = FakeJiraGateway()
    with transaction(loaded):
        outcome = create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="priv",
            actor=cli_actor("legal"),
            public_url="https://t",
        )
    assert outcome.created and outcome.key == "PRIV-1"
    epic = fake.issues["PRIV-1"]
    assert "obligation-BETA-9" in epic.labels and epic.issue_type == "Epic"
    description = fake.descriptions["PRIV-1"]
    assert "§ 9" in description and "https://example.org/beta#9" in description
    assert "Requests with Sec-GPC 1 fire no sale tags." in description
    with transaction(loaded):
        again = create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=cli_actor("legal"),
            public_url="https://t",
        )
    assert (again.key, again.created) == ("PRIV-1", False)
    assert len(fake.calls_to("create_epic")) == 1
    assert ("BETA-9", "PRIV-1", "jira") in links(loaded)


def test_a_created_epic_stays_requested_and_linked_when_jira_cannot_be_read_after(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway()
    fake.fail("read_issue", JiraError("Jira is unavailable.", status=503), times=None)
    with transaction(loaded):
        outcome = create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=cli_actor("legal"),
            public_url="https://t",
        )
    assert (outcome.key, outcome.created) == ("PRIV-1", True)
    assert ("BETA-9", "PRIV-1", "jira") in links(loaded)
    request = loaded.exec(select(EpicRequest)).one()
    assert (request.obligation_id, request.work_item_key) == ("BETA-9", "PRIV-1")
    item = loaded.get(WorkItem, "PRIV-1")
    assert item is not None
    assert item.summary == fake.issues["PRIV-1"].summary  # what the create call sent
    assert (item.issue_type, item.status_category) == ("Epic", "new")
    assert fake.calls_to("read_issue") == []  # the key came from Jira: nothing to check
    with transaction(loaded):
        again = create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=cli_actor("legal"),
            public_url="https://t",
        )
    assert (again.key, again.created) == ("PRIV-1", False)
    assert len(fake.calls_to("create_epic")) == 1


def test_create_epic_adopts_an_epic_whose_answer_was_lost(engine: Engine, loaded: Session) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-7", "new", labels=("obligation-BETA-9",))])
    with transaction(loaded):
        outcome = create_epic(
            session=loaded,
            gateway=fake,
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=cli_actor("legal"),
            public_url="https://t",
        )
    assert (outcome.key, outcome.created) == ("PRIV-7", False)
    assert fake.calls_to("create_epic") == []


def test_create_epic_refuses_an_obligation_that_is_not_a_gap(
    engine: Engine, loaded: Session
) -> None:
    with transaction(loaded):
        link_work_item(session=loaded, obligation_id="BETA-9", key="PRIV-1", actor=cli_actor("eng"))
    with pytest.raises(ConflictError, match="not a gap"), transaction(loaded):
        create_epic(
            session=loaded,
            gateway=FakeJiraGateway(),
            obligation_id="BETA-9",
            project_key="PRIV",
            actor=cli_actor("legal"),
            public_url="https://t",
        )


def sign(body: bytes, secret: str = "s3cret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(event: str, key: str = "PRIV-1", labels: list[str] | None = None) -> bytes:
    return json.dumps(
        {
            "webhookEvent": event,
            "timestamp": 1764000000000,
            "issue": {
                "id": "10001",
                "key": key,
                "fields": {
                    "summary": "Erasure pipeline",
                    "issuetype": {"name": "Epic"},
                    "status": {"name": "Done", "statusCategory": {"key": "done"}},
                    "fixVersions": [{"name": "2026.12"}],
                    "labels": labels or [],
                    "assignee": None,
                    "updated": "2026-11-20T10:15:30.000+0000",
                    "project": {"key": "PRIV"},
                },
            },
        }
    ).encode()


def deliver(session: Session, body: bytes, identifier: str = "d-1", signature: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Atlassian-Webhook-Identifier": identifier}
    headers["X-Hub-Signature"] = signature if signature is not None else sign(body)
    with transaction(session):
        return handle_webhook(
            session=session,
            raw_body=body,
            headers=headers,
            secret="s3cret",
            jira_url="https://jira.example.test",
        )


def test_webhook_updates_the_work_item_and_its_label_links(engine: Engine, loaded: Session) -> None:
    outcome = deliver(loaded, payload("jira:issue_updated", labels=["obligation-ALPHA-1.1"]))
    assert not outcome.duplicate
    item = loaded.get(WorkItem, "PRIV-1")
    assert item is not None and item.status_category == "done"
    assert links(loaded) == {("ALPHA-1.1", "PRIV-1", "jira")}
    deliver(loaded, payload("jira:issue_deleted"), identifier="d-2")
    loaded.rollback()
    assert loaded.get(WorkItem, "PRIV-1").missing  # type: ignore[union-attr]


def test_webhook_with_a_bad_or_missing_signature_writes_nothing(
    engine: Engine, loaded: Session
) -> None:
    body = payload("jira:issue_created")
    with pytest.raises(SignatureError):
        deliver(loaded, body, signature=sign(body, "wrong"))
    with pytest.raises(SignatureError):
        deliver(loaded, body, signature="")
    with pytest.raises(SignatureError):
        deliver(loaded, body + b" ", signature=sign(body))
    loaded.rollback()
    assert loaded.exec(select(WorkItem)).all() == []


def test_a_repeated_delivery_is_applied_once(engine: Engine, loaded: Session) -> None:
    body = payload("jira:issue_created", labels=["obligation-ALPHA-2"])
    deliver(loaded, body)
    with transaction(loaded):
        link = loaded.exec(select(WorkItemLink)).one()
        link.removed_at = datetime.now(UTC)
        loaded.add(link)
    assert deliver(loaded, body).duplicate
    assert links(loaded) == set()


def test_webhook_that_is_not_json_is_refused(engine: Engine, loaded: Session) -> None:
    with pytest.raises(ValidationError):
        deliver(loaded, b"not json")


def test_full_push_sends_every_link_again_for_a_jira_that_lost_them(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1",))])
    synced(engine, fake)
    push_links(actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t")
    fake.links.clear()  # someone removed the remote links in Jira
    assert (
        push_links(
            actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t"
        ).done
        == 0
    )
    report = push_links(
        actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t", full=True
    )
    assert report.done == 1
    assert set(fake.links["PRIV-1"]) == {"privacy-tracker:obligation=ALPHA-1.1"}


def test_incremental_sync_refreshes_linked_items_outside_the_jql(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(
        issues=[issue("PRIV-1"), issue("APP-9", "indeterminate")],
        jql_filter=lambda jql, i: i.key.startswith("PRIV"),
    )
    with transaction(loaded):
        link_work_item(session=loaded, obligation_id="ALPHA-2", key="APP-9", actor=cli_actor("eng"))
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="project = PRIV")
    fake.add_issue(issue("APP-9", "done", minutes=30))
    fake.calls.clear()
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="project = PRIV")
    assert [call.args[0] for call in fake.calls_to("get_issues")] == [("APP-9",)]
    loaded.rollback()
    item = loaded.get(WorkItem, "APP-9")
    assert item is not None and item.status_category == "done" and not item.in_scope
    assert loaded.get(WorkItem, "PRIV-1").in_scope  # type: ignore[union-attr]


def test_a_second_concurrent_push_is_refused_and_a_dead_push_is_marked_interrupted(
    engine: Engine, loaded: Session
) -> None:
    fake = FakeJiraGateway(issues=[issue("PRIV-1", labels=("obligation-ALPHA-1.1",))])
    synced(engine, fake)
    with held_lock(engine, "Jira push", "someone else"):
        with pytest.raises(ConflictError, match="Another Jira push is running"):
            push_links(actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t")
    with transaction(loaded):
        loaded.add(SyncRun(kind="push", actor="killed"))  # a push whose process died
    report = push_links(
        actor=cli_actor("test"), engine=engine, gateway=fake, public_url="https://t"
    )
    assert report.done == 1
    loaded.rollback()
    statuses = [
        run.status
        for run in loaded.exec(
            select(SyncRun).where(SyncRun.kind == "push").order_by(col(SyncRun.id))
        ).all()
    ]
    assert statuses == ["interrupted", "succeeded"]


def test_old_delivery_identifiers_are_forgotten(engine: Engine, loaded: Session) -> None:
    from tracker.models import WebhookDelivery

    with transaction(loaded):
        loaded.add(
            WebhookDelivery(
                identifier="old",
                event="jira:issue_updated",
                received_at=datetime.now(UTC) - timedelta(days=30),
            )
        )
        loaded.add(
            WebhookDelivery(
                identifier="recent",
                event="jira:issue_updated",
                received_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
    deliver(loaded, payload("jira:issue_updated"), identifier="new")
    loaded.rollback()
    assert sorted(d.identifier for d in loaded.exec(select(WebhookDelivery)).all()) == sorted(
        ["sha256:" + hashlib.sha256(b"new").hexdigest(), "recent"]
    )
