"""Tests a report ran more than once: which attempt decides, flakiness, and how they are kept.

Re-running tools write attempts in two ways: inside one <testcase> (Surefire and Gradle's
<flakyFailure>/<rerunFailure>, cargo-nextest), or as the same <testcase> repeated
(gotestsum --rerun-fails, Gradle without mergeReruns, pytest-rerunfailures). Both are treated
alike: the attempts in the order they ran, the last one deciding the outcome. Attempts on
different hosts (Playwright writes each browser project as a suite with its own hostname) are
separate runs of the test, not retries: each host's last attempt counts, and the worst of those
decides (error over failure over a pass over a skip).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tracker.integrations.junit_records import (
    OUTCOME_ERROR,
    OUTCOME_FAILED,
    OUTCOME_PASSED,
    OUTCOME_SKIPPED,
)

#: Attempts kept per result: the first ones and the last (reruns beyond are counted, not kept).
KEPT_ATTEMPTS = 10

_FAILING = frozenset((OUTCOME_FAILED, OUTCOME_ERROR))
_SEVERITY = {OUTCOME_ERROR: 4, OUTCOME_FAILED: 3, OUTCOME_PASSED: 2, OUTCOME_SKIPPED: 1}


class _Ran(Protocol):
    @property
    def outcome(self) -> str: ...

    @property
    def message(self) -> object: ...


class _RanOnHost(_Ran, Protocol):
    @property
    def host(self) -> str | None: ...


AttemptT = TypeVar("AttemptT", bound=_Ran)
HostAttemptT = TypeVar("HostAttemptT", bound=_RanOnHost)


@dataclass(frozen=True)
class Decision:
    """The outcome of a test that ran several times, and which attempt's message it shows."""

    outcome: str
    flaky: bool
    message_index: int | None  # the attempt whose message the result shows, if any has one


def decide(attempts: Sequence[AttemptT]) -> Decision:
    """Decide one host's attempts: the last one's outcome; flaky when a pass and a failure mix.

    The message shown is the last attempt's, or else the latest an attempt has (a flaky pass
    keeps the failure it recovered from).
    """
    outcomes = {attempt.outcome for attempt in attempts}
    flaky = OUTCOME_PASSED in outcomes and not outcomes.isdisjoint(_FAILING)
    return Decision(attempts[-1].outcome, flaky, _latest_message(attempts, range(len(attempts))))


def decide_across_hosts(attempts: Sequence[HostAttemptT]) -> Decision:
    """Decide attempts that may come from several hosts: the worst host's decision counts."""
    by_host: dict[str | None, list[int]] = {}
    for index, attempt in enumerate(attempts):
        by_host.setdefault(attempt.host, []).append(index)
    if len(by_host) == 1:
        return decide(attempts)
    worst: list[int] = []
    flaky = False
    for indexes in by_host.values():
        outcomes = {attempts[index].outcome for index in indexes}
        flaky = flaky or (OUTCOME_PASSED in outcomes and not outcomes.isdisjoint(_FAILING))
        final = attempts[indexes[-1]].outcome
        if not worst or _SEVERITY.get(final, 0) > _SEVERITY.get(attempts[worst[-1]].outcome, 0):
            worst = indexes
    return Decision(attempts[worst[-1]].outcome, flaky, _latest_message(attempts, worst))


def kept_numbers(count: int) -> list[int]:
    """Return the 0-based positions of the attempts kept out of count: the first and the last."""
    if count <= KEPT_ATTEMPTS:
        return list(range(count))
    return [*range(KEPT_ATTEMPTS - 1), count - 1]


@dataclass(frozen=True)
class StoredAttempt:
    """One attempt as a result keeps it; message is None for the one the result's message is."""

    number: int  # 1-based, in the order the report lists them
    outcome: str
    duration: float | None
    host: str | None
    message: str | None
    message_size: int | None
    is_result_message: bool


def attempts_json(attempts: Sequence[StoredAttempt]) -> str:
    """Return attempts as the JSON a result stores."""
    return json.dumps(
        [
            {
                key: value
                for key, value in (
                    ("number", attempt.number),
                    ("outcome", attempt.outcome),
                    ("duration", attempt.duration),
                    ("host", attempt.host),
                    ("message", attempt.message),
                    ("message_size", attempt.message_size),
                    ("result_message", attempt.is_result_message or None),
                )
                if value is not None
            }
            for attempt in attempts
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def read_attempts(text: str | None) -> list[StoredAttempt]:
    """Return the attempts a result stored (none for a test that ran once)."""
    if not text:
        return []
    try:
        items: Any = json.loads(text)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        StoredAttempt(
            number=int(item.get("number", 0)),
            outcome=str(item.get("outcome", "")),
            duration=item.get("duration"),
            host=item.get("host"),
            message=item.get("message"),
            message_size=item.get("message_size"),
            is_result_message=bool(item.get("result_message")),
        )
        for item in items
        if isinstance(item, dict)
    ]


def _latest_message(attempts: Sequence[_Ran], indexes: Sequence[int]) -> int | None:
    for index in reversed(indexes):
        if attempts[index].message is not None:
            return index
    return None
