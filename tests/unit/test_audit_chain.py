"""The audit hash chain: any change, removal, reordering or cut tail is found, and where."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from tracker.domain.audit_chain import (
    GENESIS_HASH,
    AuditContent,
    ChainedEvent,
    event_hash,
    verify_chain,
)
from tracker.domain.canonical import canonical_json, canonical_time


def _chain(count: int) -> list[ChainedEvent]:
    events, prev = [], GENESIS_HASH
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for seq in range(1, count + 1):
        content = AuditContent(
            seq=seq,
            at=start + timedelta(minutes=seq),
            actor="ana@example.com",
            actor_ref="user:1",
            actor_role="legal",
            action="applicability.decided",
            entity_type="obligation",
            entity_id=f"GDPR-{seq}",
            before=None,
            after={"not_applicable": True, "justification": "Kein Fall – ç"},
        )
        digest = event_hash(content, prev)
        events.append(ChainedEvent(content, prev, digest))
        prev = digest
    return events


def test_an_intact_chain_verifies() -> None:
    events = _chain(5)
    checked, problem = verify_chain(events, head_seq=5, head_hash=events[-1].hash)
    assert (checked, problem) == (5, None)


def test_an_empty_trail_verifies() -> None:
    assert verify_chain([], head_seq=0) == (0, None)


def test_a_changed_event_is_named() -> None:
    events = _chain(5)
    events[2] = replace(events[2], content=replace(events[2].content, actor="mallory"))
    checked, problem = verify_chain(events, head_seq=5)
    assert checked == 2
    assert problem is not None and problem.seq == 3 and "changed" in problem.reason


def test_a_changed_event_with_a_recomputed_hash_breaks_the_next_link() -> None:
    events = _chain(5)
    forged = replace(events[1].content, after={"not_applicable": False})
    events[1] = ChainedEvent(forged, events[1].prev_hash, event_hash(forged, events[1].prev_hash))
    _, problem = verify_chain(events, head_seq=5)
    assert problem is not None and problem.seq == 3


def test_a_removed_event_is_found() -> None:
    events = _chain(5)
    del events[1]
    _, problem = verify_chain(events, head_seq=5)
    assert problem is not None and problem.seq == 3 and "removed" in problem.reason


def test_swapped_events_are_found() -> None:
    events = _chain(5)
    events[1], events[2] = events[2], events[1]
    _, problem = verify_chain(events, head_seq=5)
    assert problem is not None and problem.seq == 3


def test_swapped_contents_under_kept_numbers_are_found() -> None:
    events = _chain(5)
    one, two = events[1], events[2]
    events[1] = ChainedEvent(replace(two.content, seq=2), two.prev_hash, two.hash)
    events[2] = ChainedEvent(replace(one.content, seq=3), one.prev_hash, one.hash)
    _, problem = verify_chain(events, head_seq=5)
    assert problem is not None and problem.seq == 2


def test_a_removed_tail_is_found_through_the_head() -> None:
    events = _chain(5)
    _, problem = verify_chain(events[:3], head_seq=5, head_hash=events[-1].hash)
    assert problem is not None and problem.seq == 4 and "end" in problem.reason


def test_events_appended_outside_the_tracker_are_found() -> None:
    events = _chain(5)
    _, problem = verify_chain(events, head_seq=4, head_hash=events[3].hash)
    assert problem is not None and problem.seq == 5


def test_canonical_form_is_independent_of_key_order_and_timezone() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"\\u00e9"],"b":1}'
    berlin = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_time(berlin) == "2026-12-01T09:00:00.000000Z"
    assert canonical_time(datetime(2026, 12, 1, 9, 0)) == "2026-12-01T09:00:00.000000Z"
