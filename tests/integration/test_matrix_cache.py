"""The matrix cache: every kind of write makes the next read show it; time and rollbacks too."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from tests.evidence_helpers import case, ingest, report
from tests.helpers import SMALL_CATALOG
from tests.integration.test_jira_services import deliver, issue, payload
from tests.release_helpers import RELEASE, release_world
from tracker.catalog import read_catalog
from tracker.db import session_scope
from tracker.domain.access import Actor, ActorKind, Role, cli_actor
from tracker.domain.matrix import MatrixRow
from tracker.domain.status import Status
from tracker.generation import OTHER_TABLES, STATUS_TABLES, changes_statuses, current_generation
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.models import WorkItem, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.evidence import EvidenceScope
from tracker.services.jira_sync import sync_jira
from tracker.services.links import (
    decide_applicability,
    link_test,
    link_work_item,
    remove_link_label,
    review_links,
    unlink_test,
    unlink_work_item,
)
from tracker.services.matrix import MatrixData, build_matrix
from tracker.services.matrix_cache import cached_matrix
from tracker.services.matrix_codec import decode_matrix, encode_matrix
from tracker.services.matrix_stores import LocalMatrixCache, RedisMatrixCache
from tracker.services.release_decisions import (
    approve_exception,
    request_exception,
    sign_off,
    withdraw_exception,
)
from tracker.services.release_readiness import release_readiness
from tracker.services.releases import create_release
from tracker.services.snapshots import freeze_release

LEGAL = Actor(ActorKind.USER, "lea@example.com", Role.LEGAL, account_id=1)
COMPLIANCE = Actor(ActorKind.USER, "cora@example.com", Role.COMPLIANCE, account_id=2)
ENGINEER = cli_actor("eng")
DEFAULT = EvidenceScope()
IN_RELEASE = EvidenceScope(release=RELEASE)
REDIS_URL = "redis://127.0.0.1:6379/2"


def read(engine: Engine, cache: object, scope: EvidenceScope = DEFAULT) -> MatrixData:
    with Session(engine) as session:
        return cached_matrix(session=session, cache=cache, scope=scope)  # type: ignore[arg-type]


def rows(data: MatrixData) -> dict[str, MatrixRow]:
    return {row.id: row for row in data.rows}


def fresh(engine: Engine, scope: EvidenceScope) -> list[dict[str, object]]:
    with Session(engine) as session:
        return [row.to_dict() for row in build_matrix(session=session, scope=scope).rows]


def warm(engine: Engine, cache: LocalMatrixCache, scope: EvidenceScope) -> MatrixData:
    first = read(engine, cache, scope)
    assert read(engine, cache, scope) is first  # the second read is served from the cache
    return first


# --- every kind of write ----------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A write through the real service, and what the next matrix read must show after it."""

    name: str
    do: Callable[[Engine, Path], None]
    shows: Callable[[dict[str, MatrixRow], dict[str, MatrixRow]], bool]
    scope: EvidenceScope = DEFAULT
    prepare: Callable[[Engine, Path], None] | None = None


def _changed_catalog(engine: Engine, folder: Path) -> None:
    shutil.copytree(SMALL_CATALOG, folder / "catalog")
    path = folder / "catalog" / "alpha.yaml"
    path.write_text(path.read_text().replace("title: Right to erasure", "title: Erasure on ask"))
    with session_scope(engine) as session:
        load_catalog(
            session=session, catalog=read_catalog(folder / "catalog"), actor=cli_actor("legal")
        )


def _link(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        link_work_item(session=session, obligation_id="ALPHA-2", key="PRIV-7", actor=ENGINEER)


def _unlink(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        unlink_work_item(session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=ENGINEER)


def _review(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        review_links(session=session, obligation_id="ALPHA-1.1", actor=LEGAL)


def _link_test(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        link_test(
            session=session,
            obligation_id="BETA-7",
            test_id="pytest/tests.test_privacy/test_recipients",
            actor=ENGINEER,
        )


def _unlink_test(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        unlink_test(
            session=session,
            obligation_id="ALPHA-1.2",
            test_id="pytest/tests.test_privacy/test_recipients",
            actor=ENGINEER,
        )


def _sync(engine: Engine, _: Path) -> None:
    gateway = FakeJiraGateway(issues=[issue("PRIV-1", category="indeterminate", minutes=5)])
    sync_jira(actor=ENGINEER, engine=engine, gateway=gateway, jql="x")


def _sync_label(engine: Engine, _: Path) -> None:
    gateway = FakeJiraGateway(issues=[issue("PRIV-9", labels=("obligation-ALPHA-2",))])
    sync_jira(actor=ENGINEER, engine=engine, gateway=gateway, jql="x")


def _remove_label(engine: Engine, _: Path) -> None:
    gateway = FakeJiraGateway(issues=[issue("PRIV-9", labels=("obligation-ALPHA-2",))])
    with session_scope(engine) as session:
        remove_link_label(
            session=session, gateway=gateway, obligation_id="ALPHA-2", key="PRIV-9", actor=ENGINEER
        )


def _webhook(engine: Engine, _: Path) -> None:
    with Session(engine) as session:
        deliver(session, payload("jira:issue_created", key="PRIV-5", labels=["obligation-ALPHA-2"]))


def _ingest(engine: Engine, _: Path) -> None:
    with Session(engine) as session:
        ingest(
            session,
            report(case("test_erasure", "ALPHA-1.1"), case("test_recipients", "ALPHA-1.2")),
        )


def _decide(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        decide_applicability(
            session=session,
            obligation_id="ALPHA-2",
            not_applicable=True,
            justification="We hold no data that this duty is about, anywhere.",
            actor=LEGAL,
        )


def _sign_off(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        sign_off(
            session=session,
            release=RELEASE,
            obligation_ids=["ALPHA-1.1"],
            statement="Checked the erasure test run and the epic for this release.",
            actor=LEGAL,
        )


def _create_release(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        create_release(session=session, name="2027.01", release_date=None, actor=COMPLIANCE)


def _request_exception(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        request_exception(
            session=session,
            release=RELEASE,
            obligation_id="ALPHA-2",
            justification="The vendor's fix ships in January; exposure is low meanwhile.",
            compensating_control="Manual weekly review of the processing log.",
            risk_owner="Cora Compliance",
            expires_on=date.today() + timedelta(days=30),
            actor=LEGAL,
        )


def _approve_exception(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        approve_exception(session=session, exception_id=1, actor=COMPLIANCE)


def _withdraw_exception(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        withdraw_exception(session=session, exception_id=1, actor=COMPLIANCE)


def _freeze(engine: Engine, _: Path) -> None:
    with session_scope(engine) as session:
        readiness = release_readiness(session=session, release=RELEASE)
        freeze_release(session=session, readiness=readiness, actor=COMPLIANCE)


def _status(
    ob_id: str, status: Status
) -> Callable[[dict[str, MatrixRow], dict[str, MatrixRow]], bool]:
    return lambda before, after: before[ob_id].status != status and after[ob_id].status == status


def _same_rows(before: dict[str, MatrixRow], after: dict[str, MatrixRow]) -> bool:
    # Writes that the matrix does not show: what counts is that it was computed again.
    return before == after


WRITES = [
    Write(
        "catalog load with a changed obligation",
        _changed_catalog,
        lambda before, after: (
            after["ALPHA-1.1"].title == "Erasure on ask"
            and after["ALPHA-1.1"].result.suspect
            and not before["ALPHA-1.1"].result.suspect
        ),
    ),
    Write("link added", _link, _status("ALPHA-2", Status.IMPLEMENTED)),
    Write(
        "link removed",
        _unlink,
        lambda before, after: (
            not after["ALPHA-1.1"].work_items
            and after["ALPHA-1.1"].status != before["ALPHA-1.1"].status
        ),
    ),
    Write(
        "links reviewed",
        _review,
        lambda before, after: (
            before["ALPHA-1.1"].result.suspect and not after["ALPHA-1.1"].result.suspect
        ),
        prepare=_changed_catalog,
    ),
    Write(
        "test link added",
        _link_test,
        lambda before, after: (
            before["BETA-7"].tests.total == 0 and after["BETA-7"].tests.failed == 1
        ),
    ),
    Write(
        "test link removed",
        _unlink_test,
        lambda before, after: (
            before["ALPHA-1.2"].tests.failed == 1 and after["ALPHA-1.2"].tests.total == 0
        ),
    ),
    Write(
        "sync page",
        _sync,
        lambda before, after: (
            after["ALPHA-1.1"].work_items[0].status_category == "indeterminate"
            and before["ALPHA-1.1"].status != after["ALPHA-1.1"].status
        ),
    ),
    Write(
        "webhook delivery",
        _webhook,
        lambda before, after: (
            [cell.key for cell in after["ALPHA-2"].work_items] == ["PRIV-5"]
            and not before["ALPHA-2"].work_items
        ),
    ),
    Write("report ingested", _ingest, _status("ALPHA-1.2", Status.VERIFIED)),
    Write("applicability decided", _decide, _status("ALPHA-2", Status.NOT_APPLICABLE)),
    Write(
        "sign-off",
        _sign_off,
        lambda before, after: (
            before["ALPHA-1.1"].signoff == "missing" and after["ALPHA-1.1"].signoff == "signed"
        ),
        scope=IN_RELEASE,
    ),
    Write(
        "label-made link removed",
        _remove_label,
        lambda before, after: (
            bool(before["ALPHA-2"].work_items) and not after["ALPHA-2"].work_items
        ),
        prepare=_sync_label,
    ),
    Write(
        "release created",
        _create_release,
        lambda before, after: (
            before["ALPHA-1.1"].signoff == "" and after["ALPHA-1.1"].signoff == "missing"
        ),
        scope=EvidenceScope(release="2027.01"),
    ),
    Write("exception requested", _request_exception, _same_rows, scope=IN_RELEASE),
    Write(
        "exception approved",
        _approve_exception,
        _same_rows,
        scope=IN_RELEASE,
        prepare=_request_exception,
    ),
    Write(
        "exception withdrawn",
        _withdraw_exception,
        _same_rows,
        scope=IN_RELEASE,
        prepare=lambda engine, folder: (
            (
                _request_exception(engine, folder),
                _approve_exception(engine, folder),
            )
            and None
        ),
    ),
    Write("release frozen", _freeze, _same_rows, scope=IN_RELEASE),
]


@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
def test_every_kind_of_write_shows_in_the_next_matrix_read(
    write: Write, engine: Engine, session: Session, tmp_path: Path
) -> None:
    release_world(session)
    session.close()
    if write.prepare is not None:
        write.prepare(engine, tmp_path)
    cache = LocalMatrixCache()
    before = warm(engine, cache, write.scope)
    with engine.connect() as connection:
        generation = current_generation(connection)

    write.do(engine, tmp_path)

    after = read(engine, cache, write.scope)
    assert after is not before  # not the entry computed before the write
    assert write.shows(rows(before), rows(after))
    assert [row.to_dict() for row in after.rows] == fresh(engine, write.scope)
    with engine.connect() as connection:
        assert current_generation(connection) != generation


def test_the_release_scope_learns_of_a_new_release(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    cache = LocalMatrixCache()
    scope = EvidenceScope(release="2027.01")
    assert "There is no release 2027.01" in " ".join(warm(engine, cache, scope).notes)
    _create_release(engine, Path())
    assert "There is no release" not in " ".join(read(engine, cache, scope).notes)


# --- what does not invalidate, rollbacks, time ------------------------------------------------


def test_writes_no_status_rests_on_keep_the_cached_matrix(engine: Engine, session: Session) -> None:
    from tests.auth_helpers import make_user

    release_world(session)
    session.close()
    cache = LocalMatrixCache()
    before = warm(engine, cache, DEFAULT)
    make_user(engine, "viewer", email="someone@example.com")  # an account and its audit event
    assert read(engine, cache, DEFAULT) is before


def test_a_rolled_back_write_leaves_no_trace_in_the_cache(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    cache = LocalMatrixCache()
    before = warm(engine, cache, DEFAULT)
    with engine.connect() as connection:
        generation = current_generation(connection)
    with Session(engine) as writing:
        link_work_item(session=writing, obligation_id="ALPHA-2", key="PRIV-7", actor=ENGINEER)
        writing.flush()
        # Read inside the write: it sees its own change, and must not store it anywhere.
        inside = cached_matrix(session=writing, cache=cache, scope=DEFAULT)
        assert rows(inside)["ALPHA-2"].status == Status.IMPLEMENTED
        writing.rollback()
    assert len(cache) == 1
    after = read(engine, cache, DEFAULT)
    assert after is before and rows(after)["ALPHA-2"].status == Status.GAP
    with engine.connect() as connection:
        assert current_generation(connection) == generation
    # The next committed write moves on to a generation no cached entry can carry.
    _link(engine, Path())
    assert rows(read(engine, cache, DEFAULT))["ALPHA-2"].status == Status.IMPLEMENTED


def test_a_failed_write_transaction_moves_nothing(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    cache = LocalMatrixCache()
    before = warm(engine, cache, DEFAULT)
    with pytest.raises(RuntimeError), session_scope(engine) as writing:
        unlink_work_item(session=writing, obligation_id="ALPHA-1.1", key="PRIV-1", actor=ENGINEER)
        raise RuntimeError("the request failed after the write")
    assert read(engine, cache, DEFAULT) is before


def test_a_passing_result_turning_stale_is_shown_without_any_write(
    engine: Engine, session: Session
) -> None:
    release_world(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1"), days_ago=29.5))
    session.close()
    cache = LocalMatrixCache()
    now = utcnow()
    week = 7 * 24 * 3600  # a bucket far wider than the wait: only the expiry can end the entry
    with Session(engine) as reading:
        first = cached_matrix(
            session=reading, cache=cache, scope=DEFAULT, now=now, bucket_seconds=week
        )
    assert rows(first)["ALPHA-1.1"].status == Status.VERIFIED
    with Session(engine) as reading:
        same = cached_matrix(
            session=reading,
            cache=cache,
            scope=DEFAULT,
            now=now + timedelta(hours=1),
            bucket_seconds=week,
        )
    assert same is first
    with Session(engine) as reading:
        later = cached_matrix(
            session=reading,
            cache=cache,
            scope=DEFAULT,
            now=now + timedelta(days=1),
            bucket_seconds=week,
        )
    assert rows(later)["ALPHA-1.1"].status != Status.VERIFIED
    assert rows(later)["ALPHA-1.1"].tests.stale == 1


def test_a_new_time_bucket_computes_the_matrix_again(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    cache = LocalMatrixCache()
    now = utcnow()
    with Session(engine) as reading:
        first = cached_matrix(session=reading, cache=cache, now=now, bucket_seconds=60)
    with Session(engine) as reading:
        later = cached_matrix(
            session=reading, cache=cache, now=now + timedelta(seconds=61), bucket_seconds=60
        )
    assert later is not first and later.generated_at > first.generated_at


# --- the shared cache in Redis ------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("tracker:matrix:*"):
        client.delete(key)
    return REDIS_URL


def test_redis_shares_the_matrix_between_workers_and_forgets_it_after_a_write(
    engine: Engine, session: Session, redis_url: str
) -> None:
    release_world(session)
    session.close()
    one, two = RedisMatrixCache.from_url(redis_url), RedisMatrixCache.from_url(redis_url)
    computed = read(engine, one, DEFAULT)
    shared = read(engine, two, DEFAULT)  # another worker: nothing in its own memory
    assert shared is not computed and shared == computed
    _decide(engine, Path())
    after = read(engine, two, DEFAULT)
    assert rows(after)["ALPHA-2"].status == Status.NOT_APPLICABLE
    assert rows(read(engine, one, DEFAULT))["ALPHA-2"].status == Status.NOT_APPLICABLE


def test_an_unreachable_redis_costs_speed_not_answers(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    cache = RedisMatrixCache.from_url("redis://127.0.0.1:1/2")
    data = read(engine, cache, DEFAULT)
    assert rows(data)["ALPHA-1.1"].status == Status.VERIFIED


def test_the_cached_form_is_json_and_reads_back_the_same(engine: Engine, session: Session) -> None:
    release_world(session)
    ingest(session, report(case("test_erasure", "ALPHA-1.1"), days_ago=40))
    with Session(engine) as reading:
        data = build_matrix(session=reading, scope=IN_RELEASE)
    expires = utcnow() + timedelta(minutes=1)
    blob = encode_matrix(data, expires)
    assert blob.startswith(b"{") and b"\\u" not in blob[:1]
    assert decode_matrix(blob) == (data, expires)
    assert decode_matrix(blob.replace(b'"format":1', b'"format":0')) is None


# --- the generation itself ------------------------------------------------------------------------


def test_every_table_is_classified_as_changing_statuses_or_not() -> None:
    tables = set(SQLModel.metadata.tables)
    unclassified = tables - STATUS_TABLES - OTHER_TABLES
    assert not unclassified, (
        f"Classify {sorted(unclassified)} in tracker/generation.py: STATUS_TABLES if a status, "
        "the matrix, the dashboard or a release page rests on its rows, else OTHER_TABLES."
    )
    assert not STATUS_TABLES & OTHER_TABLES
    assert (STATUS_TABLES | OTHER_TABLES) - tables <= {"alembic_version"}


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        ("SELECT * FROM workitem FOR UPDATE", False),
        ('INSERT INTO "release" (name) VALUES (?)', True),
        ("INSERT OR REPLACE INTO testresult (id) VALUES (?)", True),
        ("UPDATE workitemlink SET removed_at=? WHERE id=?", True),
        ("DELETE FROM public.signoff WHERE id = %(id)s", True),
        ("WITH x AS (SELECT 1) UPDATE obligation SET title = 'a'", True),
        ('TRUNCATE "useraccount"', True),
        ("INSERT INTO some_new_table (id) VALUES (1)", True),
        ("UPDATE apitoken SET last_used_at=? WHERE id=?", False),
        ("INSERT INTO auditevent (seq) VALUES (?)", False),
        ("UPDATE loginsession SET last_seen_at=?", False),
        (
            "INSERT INTO webhookdelivery (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET id = 1",
            False,
        ),
        ("INSERT INTO testcase (id) VALUES (?) ON CONFLICT DO UPDATE SET id = 1", True),
    ],
)
def test_statements_are_classified_by_the_tables_they_write(statement: str, changes: bool) -> None:
    assert changes_statuses(statement) is changes


def test_a_core_statement_outside_any_service_moves_the_generation(engine: Engine) -> None:
    with engine.connect() as connection:
        before = current_generation(connection)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO release (name, created_by, created_at) VALUES ('r', 'x', '2026-01-01')"
            )
        )
    with engine.connect() as connection:
        assert current_generation(connection) != before


def test_a_bulk_insert_alone_moves_the_generation(engine: Engine) -> None:
    # On PostgreSQL the rows go by COPY on the driver's cursor, which SQLAlchemy never sees.
    from tracker.bulk import bulk_insert, table_of
    from tracker.models import TrackerRelease

    with engine.connect() as connection:
        before = current_generation(connection)
    with Session(engine) as bulk_session, bulk_session.begin():
        bulk_insert(
            bulk_session,
            table_of(TrackerRelease),
            [{"name": "bulk", "created_by": "x", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}],
        )
    with engine.connect() as connection:
        assert current_generation(connection) != before


def test_the_generation_moves_once_per_transaction(engine: Engine, session: Session) -> None:
    release_world(session)
    session.close()
    with engine.connect() as connection:
        number = int(current_generation(connection).split("-")[0])
    with session_scope(engine) as writing:
        for key in ("PRIV-1", "PRIV-2"):
            writing.add(WorkItem(key=key + "0", summary="x"))
        writing.flush()
        writing.add(WorkItem(key="PRIV-30", summary="y"))
    with engine.connect() as connection:
        assert int(current_generation(connection).split("-")[0]) == number + 1
