"""The audit trail's hash chain: each event's hash covers its content and the previous hash."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.domain.canonical import canonical_json, canonical_time, sha256_hex

#: The hash the first event of a trail points back to.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditContent:
    """What one audit event says, exactly as it is hashed."""

    seq: int
    at: datetime
    actor: str
    actor_ref: str
    actor_role: str | None
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        """Return the content as plain JSON values (the canonical form hashes this)."""
        return {
            "seq": self.seq,
            "at": canonical_time(self.at),
            "actor": self.actor,
            "actor_ref": self.actor_ref,
            "actor_role": self.actor_role,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class ChainedEvent:
    """An audit event as stored: its content, the previous event's hash and its own."""

    content: AuditContent
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the stored trail differs from what was written."""

    seq: int | None
    reason: str


def event_hash(content: AuditContent, prev_hash: str) -> str:
    """Return the SHA-256 over the canonical JSON of the content and the previous hash."""
    return sha256_hex(canonical_json({"prev_hash": prev_hash, **content.as_json()}))


def verify_chain(
    events: Iterable[ChainedEvent], head_seq: int | None = None, head_hash: str | None = None
) -> tuple[int, ChainBreak | None]:
    """Walk events in stored order; return how many were checked and the first break, if any.

    A changed event no longer matches its own hash; a removed or reordered one breaks the
    sequence numbers or the link to the previous hash; a removed tail no longer reaches the
    head the tracker recorded with the last append.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        seq = event.content.seq
        if seq != expected_seq:
            missing = "removed or reordered"
            return checked, ChainBreak(
                seq, f"event #{seq} follows #{expected_seq - 1}: events were {missing}"
            )
        if event.hash != event_hash(event.content, event.prev_hash):
            return checked, ChainBreak(seq, f"event #{seq} was changed after it was written")
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(
                seq, f"event #{seq} does not follow the event before it (removed or reordered)"
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    if head_seq is not None and head_seq > last_seq:
        return checked, ChainBreak(
            last_seq + 1,
            f"the trail ends at event #{last_seq} but #{head_seq} was written last "
            "(events at the end were removed)",
        )
    if head_seq is not None and head_seq < last_seq:
        return checked, ChainBreak(
            head_seq + 1, f"events after #{head_seq} were added outside the tracker"
        )
    if head_hash is not None and checked and head_hash != expected_prev:
        return checked, ChainBreak(last_seq, f"event #{last_seq} is not the last event written")
    return checked, None
