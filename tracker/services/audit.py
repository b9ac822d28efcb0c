"""The audit trail: append hash-chained events (one writer at a time), verify, search, export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.domain.audit_chain import (
    GENESIS_HASH,
    AuditContent,
    ChainBreak,
    ChainedEvent,
    event_hash,
    verify_chain,
)
from tracker.errors import TrackerError
from tracker.models import AuditChainHead, AuditEvent, utcnow

VERIFY_BATCH = 2000


def record_event(
    *,
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit event to the chain in the caller's transaction (see record_events)."""
    spec = EventSpec(action, entity_type, entity_id, before=before, after=after)
    record_events(session=session, actor=actor, events=[spec])


@dataclass(frozen=True)
class EventSpec:
    """One event of a bulk append: what was done to which thing."""

    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record_events(*, session: Session, actor: Actor, events: Sequence[EventSpec]) -> None:
    """Append events by one actor with a constant number of statements, however many.

    The head row is updated first: on PostgreSQL that takes its row lock, on SQLite the
    database's write lock, so concurrent writers append one after the other and never fork
    the chain; both are held until the caller's transaction ends.
    """
    if not events:
        return
    first, prev_hash = _advance_head(session, len(events))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for offset, spec in enumerate(events):
        content = AuditContent(
            seq=first + offset,
            at=now,
            actor=actor.label,
            actor_ref=actor.reference,
            actor_role=actor.role.value if actor.role else None,
            action=spec.action,
            entity_type=spec.entity_type,
            entity_id=spec.entity_id[:1000],
            before=spec.before,
            after=spec.after,
        )
        digest = event_hash(content, prev_hash)
        rows.append({**_columns(content), "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    session.execute(insert(AuditEvent), rows)
    session.execute(
        update(AuditChainHead).where(col(AuditChainHead.id) == 1).values(hash=prev_hash)
    )


def _columns(content: AuditContent) -> dict[str, Any]:
    return {
        "seq": content.seq,
        "at": content.at,
        "actor": content.actor,
        "actor_ref": content.actor_ref,
        "actor_role": content.actor_role,
        "action": content.action,
        "entity_type": content.entity_type,
        "entity_id": content.entity_id,
        "before": content.before,
        "after": content.after,
    }


def _advance_head(session: Session, count: int = 1) -> tuple[int, str]:
    """Reserve `count` sequence numbers; return the first one and the previous hash."""
    session.flush()  # earlier events of this transaction must be in the head already
    bump = (
        update(AuditChainHead)
        .where(col(AuditChainHead.id) == 1)
        .values(seq=AuditChainHead.seq + count)
        .returning(col(AuditChainHead.seq), col(AuditChainHead.hash))
    )
    row = session.execute(bump).first()
    if row is None:
        _create_head(session)
        row = session.execute(bump).one()
    first = int(row[0]) - count + 1
    head_hash = str(row[1])
    return first, head_hash if first > 1 else GENESIS_HASH


def _create_head(session: Session) -> None:
    """Create the head row of an empty trail; refuse to append to a trail that lost its head."""
    values = {"id": 1, "seq": 0, "hash": GENESIS_HASH}
    # Each dialect's insert is imported here: the engine has loaded its own dialect already.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement: Any = postgresql_insert(AuditChainHead).values(values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(AuditChainHead).values(values)
    # Another writer may create it at the same moment (it waits for theirs): then theirs is used.
    created = session.execute(
        statement.on_conflict_do_nothing(index_elements=["id"]).returning(col(AuditChainHead.id))
    ).first()
    if created is not None and session.execute(select(AuditEvent.seq).limit(1)).first():
        raise TrackerError(
            "The audit trail's head record is missing, so nothing can be recorded: run "
            "`tracker audit verify` and restore the database from a backup."
        )


@dataclass(frozen=True)
class VerifyReport:
    """What `tracker audit verify` found."""

    checked: int
    head_seq: int
    problem: ChainBreak | None

    @property
    def ok(self) -> bool:
        """Return whether the whole trail is as it was written."""
        return self.problem is None


def verify_audit_trail(*, session: Session) -> VerifyReport:
    """Walk the whole chain in order; report the first event changed, removed or reordered.

    The tracker may keep writing meanwhile: the walk goes up to the head read first (every
    event commits together with its head), and events past the head as it is at the end were
    not written by the tracker.
    """
    head = _read_head(session)
    if head is None:
        if session.execute(select(AuditEvent.seq).limit(1)).first() is None:
            return VerifyReport(checked=0, head_seq=0, problem=None)
        missing = "the record of the last event written (the chain's head) was deleted"
        return VerifyReport(checked=0, head_seq=0, problem=ChainBreak(None, missing))
    head_seq, head_hash = head
    checked, problem = verify_chain(
        _stored_events(session, head_seq), head_seq, head_hash if head_seq else None
    )
    if problem is None:
        newest = session.execute(select(func.max(AuditEvent.seq))).scalar()
        now = _read_head(session)
        if newest is not None and now is not None and int(newest) > now[0]:
            problem = ChainBreak(
                now[0] + 1, f"events after #{now[0]} were added outside the tracker"
            )
    return VerifyReport(checked=checked, head_seq=head_seq, problem=problem)


def _read_head(session: Session) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(col(AuditChainHead.id) == 1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def _stored_events(session: Session, upto: int) -> Iterator[ChainedEvent]:
    after = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) > after, col(AuditEvent.seq) <= upto)
            .order_by(col(AuditEvent.seq))
            .limit(VERIFY_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            yield chained(row)
        after = rows[-1].seq


def chained(event: AuditEvent) -> ChainedEvent:
    """Return a stored event in the form the chain is checked in."""
    return ChainedEvent(
        content=AuditContent(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            actor_ref=event.actor_ref,
            actor_role=event.actor_role,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            before=event.before,
            after=event.after,
        ),
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page and its export are narrowed to."""

    actor: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_events(
    *, session: Session, audit_filter: AuditFilter, offset: int = 0, limit: int | None = 100
) -> tuple[list[AuditEvent], int]:
    """Return the matching events, newest first, and how many match in all."""
    query = select(AuditEvent)
    counted = select(func.count()).select_from(AuditEvent)
    for condition in _conditions(audit_filter):
        query = query.where(condition)
        counted = counted.where(condition)
    query = query.order_by(col(AuditEvent.seq).desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    total = int(session.execute(counted).scalar_one())
    return list(session.exec(query).all()), total


def _conditions(audit_filter: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if audit_filter.actor:
        pattern = f"%{_escape_like(audit_filter.actor)}%"
        conditions.append(
            col(AuditEvent.actor).ilike(pattern, escape="\\")
            | (col(AuditEvent.actor_ref) == audit_filter.actor)
        )
    if audit_filter.entity_type:
        conditions.append(col(AuditEvent.entity_type) == audit_filter.entity_type)
    if audit_filter.entity_id:
        conditions.append(col(AuditEvent.entity_id) == audit_filter.entity_id)
    if audit_filter.action:
        conditions.append(col(AuditEvent.action).startswith(audit_filter.action, autoescape=True))
    if audit_filter.since:
        conditions.append(col(AuditEvent.at) >= audit_filter.since)
    if audit_filter.until:
        conditions.append(col(AuditEvent.at) < audit_filter.until)
    return conditions


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def event_json(event: AuditEvent) -> dict[str, Any]:
    """Return an event as one JSON Lines record (with its hashes, so a reader can re-check)."""
    return {**chained(event).content.as_json(), "prev_hash": event.prev_hash, "hash": event.hash}


def iter_events(
    *, session: Session, audit_filter: AuditFilter, batch: int = 1000
) -> Iterator[AuditEvent]:
    """Yield every matching event, oldest first, a batch at a time (for exports)."""
    after = 0
    while True:
        query = select(AuditEvent).where(col(AuditEvent.seq) > after)
        for condition in _conditions(audit_filter):
            query = query.where(condition)
        rows = session.exec(query.order_by(col(AuditEvent.seq)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
