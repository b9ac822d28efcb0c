"""A report's test cases gathered per test id: attempts, links, and the result row each gives.

A report may name one test several times (re-running tools, browser projects): the attempts are
gathered here and decided by junit_attempts. Failure texts wait in a temporary file rather than
in memory until their rows are written, so the memory an ingest holds does not grow with the
text a report carries (each text is already cut to the limit by the reader).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from tracker.integrations.junit import ParsedCase
from tracker.integrations.junit_attempts import (
    StoredAttempt,
    attempts_json,
    decide_across_hosts,
    kept_numbers,
)

# Rows are written in groups whose texts add up to at most this many bytes.
TEXT_PER_INSERT = 8 * 1024 * 1024
_IN_MEMORY = 4 * 1024 * 1024


class TextStore:
    """Texts kept in a temporary file (in memory while small), each read back by its reference."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)
        self._end = 0

    def add(self, text: str | None) -> tuple[int, int] | None:
        """Keep a text; return its reference (None for no text)."""
        if text is None:
            return None
        data = text.encode("utf-8", "replace")
        self._file.seek(self._end)
        self._file.write(data)
        start, self._end = self._end, self._end + len(data)
        return start, len(data)

    def get(self, reference: tuple[int, int] | None) -> str | None:
        """Return the text a reference stands for."""
        if reference is None:
            return None
        start, length = reference
        self._file.seek(start)
        return self._file.read(length).decode("utf-8", "replace")

    def close(self) -> None:
        """Drop every text."""
        self._file.close()


class _Attempt(NamedTuple):
    outcome: str
    duration: float | None
    message: tuple[int, int] | None
    message_size: int | None
    host: str | None


@dataclass(slots=True)
class ReportCase:
    """Everything a report says about one test id; attempts when it ran more than once."""

    suite: str
    classname: str
    name: str
    outcome: str
    flaky: bool
    duration: float | None
    message: tuple[int, int] | None
    message_size: int | None
    host: str | None
    obligation_ids: tuple[str, ...]
    requirement_keys: tuple[str, ...]
    attempts: list[_Attempt] | None = None


def gather_cases(parsed: Iterable[ParsedCase], texts: TextStore) -> dict[str, ReportCase]:
    """Gather the cases per test id, in report order; every attempt and every link is kept."""
    cases: dict[str, ReportCase] = {}
    for case in parsed:
        keys = case.requirement_keys + ((case.test_key,) if case.test_key else ())
        known = cases.get(case.test_id)
        if known is None:
            cases[case.test_id] = gathered = ReportCase(
                case.suite,
                case.classname,
                case.name,
                case.outcome,
                case.flaky,
                case.duration,
                None,
                case.message_size,
                case.host,
                case.obligation_ids,
                keys,
            )
            if case.attempts:
                gathered.attempts = _attempts_of(case, texts)
            elif case.outcome != "passed":
                gathered.message = texts.add(case.message)
            continue
        if known.attempts is None:
            known.attempts = [
                _Attempt(
                    known.outcome, known.duration, known.message, known.message_size, known.host
                )
            ]
        if case.attempts:
            known.attempts.extend(_attempts_of(case, texts))
        else:
            message = texts.add(case.message) if case.outcome != "passed" else None
            known.attempts.append(
                _Attempt(case.outcome, case.duration, message, case.message_size, case.host)
            )
        known.obligation_ids = tuple(dict.fromkeys(known.obligation_ids + case.obligation_ids))
        known.requirement_keys = tuple(dict.fromkeys(known.requirement_keys + keys))
    return cases


def result_rows(
    run_id: int,
    test_ids: list[str],
    cases: dict[str, ReportCase],
    case_ids: dict[str, int],
    texts: TextStore,
    text_limit: int,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the result rows of these tests in groups of bounded text; decide retried ones.

    A retried test's outcome, flaky flag and message are decided here (and set on its case,
    for the run's counts). Its attempts share the text limit: each attempt's text is cut to an
    equal part of it, and the result's message is the deciding attempt's (kept once).
    """
    rows: list[dict[str, Any]] = []
    text_bytes = 0
    for test_id in test_ids:
        case = cases[test_id]
        attempts_text = None
        if case.attempts is None:
            message, size = texts.get(case.message), case.message_size
        else:
            message, size, attempts_text = _decide(case, texts, text_limit)
        rows.append(
            {
                "run_id": run_id,
                "test_case_id": case_ids[test_id],
                "outcome": case.outcome,
                "flaky": case.flaky,
                "duration": case.duration,
                "message": message,
                "message_size": size,
                "attempts": attempts_text,
            }
        )
        text_bytes += len(message or "") + len(attempts_text or "")
        if text_bytes > TEXT_PER_INSERT:
            yield rows
            rows, text_bytes = [], 0
    if rows:
        yield rows


def _attempts_of(case: ParsedCase, texts: TextStore) -> list[_Attempt]:
    return [
        _Attempt(
            attempt.outcome,
            attempt.duration,
            texts.add(attempt.message),
            attempt.message_size,
            case.host,
        )
        for attempt in case.attempts
    ]


def _decide(
    case: ReportCase, texts: TextStore, text_limit: int
) -> tuple[str | None, int | None, str]:
    """Set a retried case's outcome and flaky flag; return its message, size and attempts."""
    attempts = case.attempts or []
    decision = decide_across_hosts(attempts)
    case.outcome, case.flaky = decision.outcome, decision.flaky
    case.duration = next(
        (attempt.duration for attempt in reversed(attempts) if attempt.duration is not None), None
    )
    kept = kept_numbers(len(attempts))
    share = max(1, text_limit // len(kept))
    hosts = {attempt.host for attempt in attempts}
    stored = []
    message = size = None
    for index in kept:
        attempt = attempts[index]
        text, text_size = cut_text(texts.get(attempt.message), attempt.message_size, share)
        is_result = index == decision.message_index
        if is_result:
            message, size = text, text_size
        stored.append(
            StoredAttempt(
                number=index + 1,
                outcome=attempt.outcome,
                duration=attempt.duration,
                host=attempt.host if len(hosts) > 1 else None,
                message=None if is_result else text,
                message_size=text_size,
                is_result_message=is_result,
            )
        )
    if message is None and decision.message_index is not None:
        # The deciding attempt is one of those not kept: its text is still the result's.
        chosen = attempts[decision.message_index]
        message, size = cut_text(texts.get(chosen.message), chosen.message_size, share)
    return message, size, attempts_json(stored)


def cut_text(text: str | None, size: int | None, limit: int) -> tuple[str | None, int | None]:
    """Return text cut to limit UTF-8 bytes, and its full size when it is (or was) cut."""
    if text is None:
        return None, None
    if len(text) * 4 <= limit:
        return text, size
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return text, size
    return encoded[:limit].decode("utf-8", "ignore"), size or len(encoded)
