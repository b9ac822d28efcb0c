"""The stored audit trail: chained on append, verified, tamper found, one chain under concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from tracker.db import session_scope
from tracker.domain.access import Actor, ActorKind, Role
from tracker.errors import TrackerError
from tracker.models import AuditEvent
from tracker.services.audit import record_event, verify_audit_trail

LEGAL = Actor(ActorKind.USER, "lea@example.com", Role.LEGAL, account_id=1)


def _write(engine: Engine, count: int, actor: Actor = LEGAL) -> None:
    for number in range(count):
        with session_scope(engine) as session:
            record_event(
                session=session,
                actor=actor,
                action="applicability.decided",
                entity_type="obligation",
                entity_id=f"GDPR-{number}",
                after={"not_applicable": True, "justification": "B2B only – no consumers"},
            )


def _verify(engine: Engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return verify_audit_trail(session=session)


def _tamper(engine: Engine, statement: str) -> None:
    """Change rows as someone with direct database access would (past the trigger)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(statement))


def test_events_record_the_actor_its_role_and_form_a_chain(engine: Engine) -> None:
    _write(engine, 3)
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
    assert [event.seq for event in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert {(e.actor, e.actor_ref, e.actor_role) for e in events} == {
        ("lea@example.com", "user:1", "legal")
    }
    report = _verify(engine)
    assert report.ok and report.checked == 3


def test_several_events_in_one_transaction_chain_in_order(engine: Engine) -> None:
    with session_scope(engine) as session:
        for number in range(4):
            record_event(
                session=session,
                actor=LEGAL,
                action="link.added",
                entity_type="link",
                entity_id=str(number),
            )
    assert _verify(engine).checked == 4


def test_a_rolled_back_transaction_leaves_no_gap(engine: Engine) -> None:
    _write(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record_event(session=session, actor=LEGAL, action="x", entity_type="y", entity_id="z")
        raise RuntimeError("the operation failed")
    _write(engine, 1)
    report = _verify(engine)
    assert report.ok and report.checked == 3


def test_an_edited_event_is_named(engine: Engine) -> None:
    _write(engine, 5)
    _tamper(engine, "UPDATE auditevent SET actor = 'someone else' WHERE seq = 3")
    report = _verify(engine)
    assert not report.ok and report.problem is not None
    assert report.problem.seq == 3 and "changed" in report.problem.reason


def test_a_deleted_event_is_found(engine: Engine) -> None:
    _write(engine, 5)
    _tamper(engine, "DELETE FROM auditevent WHERE seq = 2")
    report = _verify(engine)
    assert report.problem is not None and report.problem.seq == 3


def test_a_deleted_last_event_is_found(engine: Engine) -> None:
    _write(engine, 5)
    _tamper(engine, "DELETE FROM auditevent WHERE seq = 5")
    report = _verify(engine)
    assert report.problem is not None and report.problem.seq == 5


def test_a_deleted_head_and_tail_are_found_and_stop_further_writes(engine: Engine) -> None:
    _write(engine, 3)
    _tamper(engine, "DELETE FROM auditevent WHERE seq = 3")
    _tamper(engine, "DELETE FROM auditchainhead")
    report = _verify(engine)
    assert report.problem is not None and "head" in report.problem.reason
    with pytest.raises(TrackerError, match="head record is missing"):
        _write(engine, 1)


def test_verify_during_writes_gives_no_false_alarm(engine: Engine) -> None:
    _write(engine, 3)
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            _write(engine, 1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reports = [_verify(engine) for _ in range(25)]
    finally:
        done.set()
        thread.join()
    assert [report.problem for report in reports if not report.ok] == []
    assert _verify(engine).ok


def test_swapped_rows_are_found(engine: Engine) -> None:
    _write(engine, 5)
    # Swap the content of events 2 and 4 under their numbers (ids and seq stay in place).
    _tamper(
        engine,
        "UPDATE auditevent SET entity_id = CASE seq WHEN 2 THEN 'GDPR-3' ELSE 'GDPR-1' END, "
        "hash = (SELECT hash FROM auditevent AS other WHERE other.seq = "
        "CASE auditevent.seq WHEN 2 THEN 4 ELSE 2 END), "
        "prev_hash = (SELECT prev_hash FROM auditevent AS other WHERE other.seq = "
        "CASE auditevent.seq WHEN 2 THEN 4 ELSE 2 END) WHERE seq IN (2, 4)",
    )
    report = _verify(engine)
    assert report.problem is not None and report.problem.seq == 2


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            _write(engine, 10, Actor(ActorKind.USER, f"w{number}@example.com", Role.ENGINEER))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(engine)
    assert report.ok, report.problem
    assert report.checked == 60
    with Session(engine) as session:
        prevs = session.exec(select(AuditEvent.prev_hash)).all()
    assert len(set(prevs)) == 60  # no two events point back at the same one


def test_postgresql_refuses_update_and_delete_of_audit_events(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite has the hash chain only)")
    _write(engine, 2)
    for statement in (
        "UPDATE auditevent SET actor = 'x'",
        "DELETE FROM auditevent",
        "TRUNCATE auditevent",
        "DELETE FROM auditchainhead",
        "TRUNCATE auditchainhead",
        "UPDATE auditchainhead SET seq = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert _verify(engine).checked == 2
