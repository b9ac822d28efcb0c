"""A release's verdict: per obligation its status, sign-off, exception and whether it blocks.

The third axis, sign-off, and approved exceptions join the status rule here:

| release verdict | when |
|---|---|
| `EXCEPTED` | an approved exception for the obligation in this release has not expired |
| the status | otherwise (see tracker.domain.status) |

An obligation blocks the release when its verdict is one the gate policy blocks (for its
severity and instrument), or when the policy requires sign-off and it has no valid sign-off
(EXCEPTED and NOT_APPLICABLE obligations need none). A release is *ready* when nothing
blocks, and *signed off* when every obligation in scope is signed off, excepted or not
applicable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from tracker.domain.status import Status

EXCEPTED = "EXCEPTED"

#: How good a status is for a sign-off: a sign-off lapses when the status falls below it.
STATUS_RANK: dict[Status, int] = {
    Status.GAP: 0,
    Status.FAILING: 0,
    Status.SUSPECT: 1,
    Status.PLANNED: 2,
    Status.IN_PROGRESS: 3,
    Status.IMPLEMENTED: 4,
    Status.VERIFIED: 5,
    Status.NOT_APPLICABLE: 5,
}
#: Statuses legal cannot sign off: fix them first, or accept the risk with an exception.
NOT_SIGNABLE = frozenset({Status.GAP, Status.FAILING, Status.SUSPECT})


class SignOffState(StrEnum):
    """Where an obligation's sign-off for a release stands."""

    SIGNED = "signed"
    LAPSED = "lapsed"
    MISSING = "missing"
    NOT_NEEDED = "not needed"  # not applicable, or excepted


@dataclass(frozen=True)
class SignOffFact:
    """The newest sign-off of an obligation for the release."""

    signed_by: str
    version: int
    status: Status
    statement: str


@dataclass(frozen=True)
class ExceptionFact:
    """An exception of an obligation for the release."""

    id: int
    expires_on: date
    approved: bool
    withdrawn: bool = False


@dataclass(frozen=True)
class Policy:
    """What blocks a release. Keys of by_severity and by_instrument replace `block` for them."""

    block: frozenset[Status]
    by_severity: Mapping[str, frozenset[Status]] = field(default_factory=dict)
    by_instrument: Mapping[str, frozenset[Status]] = field(default_factory=dict)
    require_signoff: bool = False

    def blocked_statuses(self, instrument: str, severity: str | None) -> frozenset[Status]:
        """Return the statuses that block for an obligation (instrument wins over severity)."""
        if instrument in self.by_instrument:
            return self.by_instrument[instrument]
        if severity is not None and severity in self.by_severity:
            return self.by_severity[severity]
        return self.block


#: Everything that is not verified or not applicable blocks; sign-off is not required.
DEFAULT_POLICY = Policy(
    block=frozenset(set(Status) - {Status.VERIFIED, Status.NOT_APPLICABLE}),
)


@dataclass(frozen=True)
class ObligationInRelease:
    """What the release verdict needs to know about one obligation."""

    id: str
    instrument: str
    severity: str | None
    status: Status
    version: int
    signoff: SignOffFact | None = None
    exceptions: Sequence[ExceptionFact] = ()


@dataclass(frozen=True)
class ObligationVerdict:
    """One obligation's verdict for the release, with why it blocks (if it does)."""

    id: str
    verdict: str  # a Status value, or EXCEPTED
    signoff: SignOffState
    signoff_note: str | None
    exception_id: int | None
    blocking: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseVerdict:
    """The release as a whole."""

    ready: bool
    signed_off: bool
    obligations: tuple[ObligationVerdict, ...]
    expired_exceptions: tuple[int, ...]

    @property
    def blocking(self) -> tuple[ObligationVerdict, ...]:
        """Return the obligations that block, in order."""
        return tuple(item for item in self.obligations if item.blocking)


def judge(
    obligations: Iterable[ObligationInRelease], policy: Policy, today: date
) -> ReleaseVerdict:
    """Return the release verdict under the policy."""
    verdicts = []
    expired: list[int] = []
    for item in obligations:
        active = [e for e in item.exceptions if e.approved and not e.withdrawn]
        valid = [e for e in active if e.expires_on >= today]
        expired.extend(e.id for e in active if e.expires_on < today)
        verdicts.append(_judge_one(item, policy, valid[0] if valid else None))
    signed_off = all(
        item.signoff in (SignOffState.SIGNED, SignOffState.NOT_NEEDED) for item in verdicts
    )
    return ReleaseVerdict(
        ready=not any(item.blocking for item in verdicts),
        signed_off=signed_off,
        obligations=tuple(verdicts),
        expired_exceptions=tuple(sorted(expired)),
    )


def signoff_state(item: ObligationInRelease) -> tuple[SignOffState, str | None]:
    """Return whether the newest sign-off still holds, and why it lapsed when it does not."""
    if item.status is Status.NOT_APPLICABLE:
        return SignOffState.NOT_NEEDED, None
    signoff = item.signoff
    if signoff is None:
        return SignOffState.MISSING, None
    if signoff.version != item.version:
        return SignOffState.LAPSED, (
            f"signed off on version {signoff.version}; the obligation is at version "
            f"{item.version} now"
        )
    if STATUS_RANK[item.status] < STATUS_RANK[signoff.status]:
        return SignOffState.LAPSED, (
            f"signed off when it was {signoff.status.value}; it is {item.status.value} now"
        )
    return SignOffState.SIGNED, None


def _judge_one(
    item: ObligationInRelease, policy: Policy, exception: ExceptionFact | None
) -> ObligationVerdict:
    state, note = signoff_state(item)
    if exception is not None:
        return ObligationVerdict(
            item.id,
            EXCEPTED,
            SignOffState.NOT_NEEDED,
            None,
            exception.id,
            False,
            (f"Accepted risk: exception #{exception.id}, until {exception.expires_on}.",),
        )
    reasons = []
    if item.status in policy.blocked_statuses(item.instrument, item.severity):
        reasons.append(f"{item.status.value} blocks the release under the policy.")
    if policy.require_signoff and state in (SignOffState.MISSING, SignOffState.LAPSED):
        reasons.append(
            "The sign-off lapsed: " + (note or "") + "."
            if state is SignOffState.LAPSED
            else "Legal has not signed it off for this release."
        )
    return ObligationVerdict(
        item.id, item.status.value, state, note, None, bool(reasons), tuple(reasons)
    )
