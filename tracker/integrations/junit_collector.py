"""Expat's element events turned into ParsedCase records and the report's summary."""

from __future__ import annotations

import math
import re
from typing import Any

from tracker.domain.id_patterns import OBLIGATION_ID_PATTERN
from tracker.errors import ReportError
from tracker.integrations.junit_attempts import decide
from tracker.integrations.junit_records import (
    DEFAULT_TEXT_LIMIT,
    DEPTH_LIMIT,
    INVALID_ID_LIMIT,
    INVALID_ID_SHOWN,
    LINKS_PER_CASE_LIMIT,
    OBLIGATION_ID_LIMIT,
    OBLIGATIONS_PROPERTY,
    OUTCOME_ERROR,
    OUTCOME_FAILED,
    OUTCOME_PASSED,
    OUTCOME_SKIPPED,
    SUITE_LIMIT,
    TEST_ID_LIMIT,
    XRAY_REQUIREMENTS_PROPERTY,
    XRAY_TEST_KEY_PROPERTY,
    Attempt,
    ParsedCase,
    ReportSummary,
)

_OBLIGATION_ID = re.compile(OBLIGATION_ID_PATTERN)


def is_obligation_id(value: str) -> bool:
    """Return True when value has the shape of a catalog obligation id and fits its column."""
    return len(value) <= OBLIGATION_ID_LIMIT and _OBLIGATION_ID.fullmatch(value) is not None


_CACHE_LIMIT = 4096
_CACHED_VALUE_LIMIT = 200
_WARNING_LIMIT = 50
_RESULT_TAGS = frozenset(
    ("failure", "error", "skipped", "flakyFailure", "flakyError", "rerunFailure", "rerunError")
)
# The outcome of the test case's own result elements.
_RESULT_KIND = {
    "failure": OUTCOME_FAILED,
    "error": OUTCOME_ERROR,
    "skipped": OUTCOME_SKIPPED,
}
# Attempts written inside the test case: failed runs before the one the case reports (flaky)
# and failed reruns after it; True marks the ones before.
_ATTEMPT_KIND = {
    "flakyFailure": (OUTCOME_FAILED, True),
    "flakyError": (OUTCOME_ERROR, True),
    "rerunFailure": (OUTCOME_FAILED, False),
    "rerunError": (OUTCOME_ERROR, False),
}
# Which result decides a case's outcome when it holds several: an error (the test could not
# run to its end, e.g. a failing teardown) wins over a failure, a failure over a skip.
_OUTCOME_PRECEDENCE = (OUTCOME_ERROR, OUTCOME_FAILED, OUTCOME_SKIPPED)
_ROOT_TAGS = frozenset(("testsuites", "testsuite"))
_LINK_PROPERTIES = frozenset(
    (OBLIGATIONS_PROPERTY, XRAY_REQUIREMENTS_PROPERTY, XRAY_TEST_KEY_PROPERTY)
)


class CaseCollector:
    """Receives expat's element and text events and turns them into ParsedCase records.

    Text is gathered per element as the parser delivers it, and trim() (called after each
    chunk the parser reads) cuts it to text_limit bytes, so no text held grows past the limit
    by more than one chunk. Captured output (<system-out>, <system-err>) is not kept.
    """

    def __init__(self, text_limit: int = DEFAULT_TEXT_LIMIT) -> None:
        self.ready: list[ParsedCase] = []
        self.root: str | None = None
        self._expat: Any = None
        self._text_limit = text_limit
        text: list[str] = []
        self._text = text
        # The parser calls this for every run of character data; a bound C method is cheapest.
        self.data = text.append
        self._quiet = 0  # how many <system-out>/<system-err> are open
        self._depth = 0
        # The bottom frame stands for "outside any suite" and is never popped.
        self._frames = [_Frame("", None, (), (), None)]
        self._suites: dict[str, None] = {}
        self._timestamp: str | None = None
        self._hostname: str | None = None
        self._counts = {OUTCOME_PASSED: 0, OUTCOME_FAILED: 0, OUTCOME_ERROR: 0, OUTCOME_SKIPPED: 0}
        self._flaky_count = 0
        self._invalid: dict[str, None] = {}
        self._invalid_overflow = 0
        self._warnings: list[str] = []
        self._id_cache: dict[str, tuple[str, ...]] = {}
        # State of the open test case; _case holds its attributes and is None outside a case.
        self._case: dict[str, str] | None = None
        self._case_depth = 0
        self._case_obligations: tuple[str, ...] | None = None
        self._case_requirements: tuple[str, ...] | None = None
        self._case_test_key: str | None = None
        self._case_line = 0
        self._results: dict[str, tuple[str | None, int | None]] = {}
        self._attempts: list[tuple[Attempt, bool]] = []
        self._result_tag: str | None = None
        self._result_message: str | None = None
        self._result_time: str | None = None
        self._property: tuple[str, str | None] | None = None

    def attach(self, expat_parser: Any) -> None:
        """Take element events straight from expat, skipping ElementTree's name-fixing shim."""
        self._expat = expat_parser
        expat_parser.ordered_attributes = False
        expat_parser.StartElementHandler = self._start_root
        expat_parser.EndElementHandler = self.end

    def _start_root(self, tag: str, attrib: dict[str, str]) -> None:
        """Check the root element once, then hand every later start tag to start()."""
        local = tag.rpartition("}")[2]
        if local not in _ROOT_TAGS:
            line = self._expat.CurrentLineNumber
            column = self._expat.CurrentColumnNumber + 1
            raise ReportError(
                f"The report's root element is <{local}> (line {line}, column {column}), but a "
                "JUnit report starts with <testsuites> or <testsuite>; check that the right file "
                "was uploaded",
                line,
                column,
            )
        self.root = local
        if local == tag:
            self._expat.StartElementHandler = self.start
        else:
            # Namespaced reports are rare; only they pay for stripping "uri}" off every name.
            self._expat.StartElementHandler = self._start_namespaced
            self._expat.EndElementHandler = self._end_namespaced
        self._expat.StartElementHandler(tag, attrib)

    def _start_namespaced(self, tag: str, attrib: dict[str, str]) -> None:
        self.start(tag.rpartition("}")[2], attrib)

    def _end_namespaced(self, tag: str) -> None:
        self.end(tag.rpartition("}")[2])

    # Branches below are ordered by how often each element occurs in real reports.
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._depth += 1
        if self._depth > DEPTH_LIMIT:
            self._too_deep()
        if tag == "testcase":
            if self._case is not None:
                self._case_depth += 1
                return
            self._case = attrib
            self._case_depth = 1
            self._case_line = self._expat.CurrentLineNumber
            self._text.clear()
        elif tag == "property":
            self._property = (attrib.get("name", ""), attrib.get("value"))
            self._text.clear()
        elif tag in _RESULT_TAGS:
            if self._case is not None and self._result_tag is None:
                self._result_tag = tag
                self._result_message = attrib.get("message")
                self._result_time = attrib.get("time")
                self._text.clear()
        elif tag == "system-out" or tag == "system-err":
            self._quiet += 1
            self._expat.CharacterDataHandler = None
        elif tag == "testsuite" or tag == "testsuites":
            self._open_suite(tag, attrib)

    def end(self, tag: str) -> None:
        self._depth -= 1
        if tag == "testcase":
            self._case_depth -= 1
            if self._case_depth == 0 and self._case is not None:
                self._close_case(self._case)
        elif tag == "property":
            if self._property is not None:
                self._close_property(*self._property)
        elif tag == self._result_tag:
            self._close_result(tag)
        elif tag == "system-out" or tag == "system-err":
            self._quiet -= 1
            if self._quiet == 0:
                self._expat.CharacterDataHandler = self.data
        elif tag == "testsuite" or tag == "testsuites":
            if len(self._frames) > 1:
                self._frames.pop()
            self._text.clear()

    def close(self) -> None:
        """Finish parsing (part of the parser target protocol; nothing is pending)."""

    def trim(self) -> None:
        """Cut the text gathered so far to the text limit, remembering how much was cut."""
        text = self._text
        if len(text) < 2 and (not text or len(text[0]) <= self._text_limit):
            return
        if sum(map(len, text)) <= self._text_limit:
            return
        first = text[0]
        cut = first.cut if isinstance(first, _CutText) else 0
        encoded = "".join(text).encode("utf-8", "replace")
        kept = encoded[: self._text_limit].decode("utf-8", "ignore")
        text[:] = [_CutText(kept, cut + len(encoded) - len(kept.encode("utf-8", "replace")))]

    def _too_deep(self) -> None:
        line = self._expat.CurrentLineNumber
        raise ReportError(
            f"The report nests elements more than {DEPTH_LIMIT} levels deep (line {line}); "
            "a JUnit report nests a few levels, so check the tool that wrote it",
            line,
        )

    def _refuse(self, what: str, line: int) -> None:
        raise ReportError(f"{what} (line {line}); nothing was stored", line)

    def summary(self) -> ReportSummary:
        """Return the summary of everything read so far."""
        counts = self._counts
        warnings = list(self._warnings)
        if self._invalid_overflow:
            warnings.append(
                f"{self._invalid_overflow} further invalid obligation ids are not listed"
            )
        if len(warnings) > _WARNING_LIMIT:
            more = len(warnings) - _WARNING_LIMIT
            warnings = [*warnings[:_WARNING_LIMIT], f"{more} further warnings are not listed"]
        return ReportSummary(
            suites=tuple(self._suites),
            timestamp=self._timestamp,
            hostname=self._hostname,
            total=sum(counts.values()),
            passed=counts[OUTCOME_PASSED],
            failed=counts[OUTCOME_FAILED],
            errors=counts[OUTCOME_ERROR],
            skipped=counts[OUTCOME_SKIPPED],
            flaky=self._flaky_count,
            invalid_ids=tuple(self._invalid),
            warnings=tuple(warnings),
        )

    # --- suites

    def _open_suite(self, tag: str, attrib: dict[str, str]) -> None:
        parent = self._frames[-1]
        name = attrib.get("name", "") if tag == "testsuite" else ""
        if name:
            name = _stable_suite_name(name)
            if len(name) > SUITE_LIMIT:
                self._refuse(
                    f"A test suite's name is {len(name):,} characters long, longer than the "
                    f"{SUITE_LIMIT} the tracker keeps; shorten it (suite names identify runs)",
                    self._expat.CurrentLineNumber,
                )
            self._suites[name] = None
        else:
            name = parent.suite
        host = attrib.get("hostname") or None
        if self._timestamp is None:
            self._timestamp = attrib.get("timestamp") or None
        if self._hostname is None:
            self._hostname = host
        file = attrib.get("file") or parent.file
        self._frames.append(
            _Frame(name, file, parent.obligations, parent.requirements, host or parent.host)
        )
        self._text.clear()

    # --- properties

    def _close_property(self, name: str, value: str | None) -> None:
        self._property = None
        if name not in _LINK_PROPERTIES:
            return
        if value is None:
            value = "".join(self._text)
        self._text.clear()
        if self._case is not None:
            self._case_property(name, value)
        else:
            self._suite_property(self._frames[-1], name, value)

    def _case_property(self, name: str, value: str) -> None:
        if name == OBLIGATIONS_PROPERTY:
            ids = self._obligation_ids(value)
            if ids:
                known = self._case_obligations
                self._case_obligations = ids if known is None else _unique(known + ids)
        elif name == XRAY_REQUIREMENTS_PROPERTY:
            keys = _split_keys(value)
            if keys:
                known = self._case_requirements
                self._case_requirements = keys if known is None else _unique(known + keys)
        elif self._case_test_key is None:
            self._case_test_key = value.strip() or None

    def _suite_property(self, frame: _Frame, name: str, value: str) -> None:
        if name == OBLIGATIONS_PROPERTY:
            ids = self._obligation_ids(value)
            if ids:
                frame.obligations = _unique(frame.obligations + ids)
        elif name == XRAY_REQUIREMENTS_PROPERTY:
            keys = _split_keys(value)
            if keys:
                frame.requirements = _unique(frame.requirements + keys)
        else:
            return
        if frame.cases and len(self._warnings) <= _WARNING_LIMIT:
            self._warnings.append(
                f"Suite {frame.suite!r} declares {name} {value.strip()!r} after {frame.cases} "
                "test cases; they apply only to the cases that follow the property"
            )

    def _obligation_ids(self, value: str) -> tuple[str, ...]:
        """Split a property value into valid ids, recording the invalid ones; cached per value."""
        cached = self._id_cache.get(value)
        if cached is not None:
            return cached
        valid: list[str] = []
        all_valid = True
        for token in value.replace(",", " ").split():
            if is_obligation_id(token):
                valid.append(token)
            else:
                all_valid = False
                self._record_invalid(token)
        result = _unique(valid)
        # Only clean values are cached, so an invalid token is recorded wherever it appears.
        if all_valid and len(self._id_cache) < _CACHE_LIMIT and len(value) < _CACHED_VALUE_LIMIT:
            self._id_cache[value] = result
        return result

    def _record_invalid(self, token: str) -> None:
        if len(token) > INVALID_ID_SHOWN:
            token = token[: INVALID_ID_SHOWN - 1] + "…"
        if token in self._invalid:
            return
        if len(self._invalid) < INVALID_ID_LIMIT:
            self._invalid[token] = None
        else:
            self._invalid_overflow += 1

    # --- results and cases

    def _close_result(self, tag: str) -> None:
        kind = _RESULT_KIND.get(tag)
        if kind is None:
            outcome, before = _ATTEMPT_KIND[tag]
            message, size = self._message()
            attempt = Attempt(outcome, _duration(self._result_time), message, size)
            self._attempts.append((attempt, before))
        elif kind not in self._results:
            self._results[kind] = self._message()
        self._result_tag = None
        self._result_message = None
        self._result_time = None
        self._text.clear()

    def _message(self) -> tuple[str | None, int | None]:
        """Return the open result's message (attribute, then text) cut to the text limit."""
        text = self._text
        cut = text[0].cut if text and isinstance(text[0], _CutText) else 0
        body = "".join(text).strip() if text else ""
        attribute = self._result_message
        if attribute and body:
            combined = f"{attribute}\n{body}"
        else:
            combined = attribute or body
        if not combined:
            return None, None
        limit = self._text_limit
        if not cut and len(combined) * 4 <= limit:  # no UTF-8 character takes more than 4 bytes
            return combined, None
        encoded = combined.encode("utf-8", "replace")
        size = len(encoded) + cut
        if size <= limit:
            return combined, None
        return encoded[:limit].decode("utf-8", "ignore"), size

    def _close_case(self, attrib: dict[str, str]) -> None:
        frame = self._frames[-1]
        frame.cases += 1
        suite = frame.suite
        results = self._results
        flaky = False
        message = size = None
        attempts: tuple[Attempt, ...] = ()
        outcome = OUTCOME_PASSED
        if results:
            for outcome in _OUTCOME_PRECEDENCE:
                if outcome in results:
                    message, size = results[outcome]
                    break
            self._results = {}
        time = attrib.get("time")
        try:
            duration = float(time) if time else None  # the common case, inline for speed
        except ValueError:
            duration = _lenient_duration(time)
        if duration is not None and not 0 <= duration < math.inf:
            duration = None
        if self._attempts:
            attempts = self._case_attempts(Attempt(outcome, duration, message, size))
            decision = decide(attempts)
            outcome, flaky = decision.outcome, decision.flaky
            message = size = None
            if decision.message_index is not None:
                chosen = attempts[decision.message_index]
                message, size = chosen.message, chosen.message_size
            if flaky:
                self._flaky_count += 1
        obligations = frame.obligations
        if self._case_obligations is not None:
            case_ids = self._case_obligations
            obligations = _unique(obligations + case_ids) if obligations else case_ids
            self._case_obligations = None
        requirements = frame.requirements
        if self._case_requirements is not None or "requirement" in attrib:
            case_keys = self._case_requirements or ()
            # Older Xray examples put the Jira key in a requirement="KEY-1" attribute.
            case_keys += _split_keys(attrib.get("requirement", ""))
            requirements = _unique(requirements + case_keys)
            self._case_requirements = None
        classname = attrib.get("classname", "")
        name = attrib.get("name", "")
        line: str | None = attrib.get("line")
        test_id = f"{suite}/{classname}/{name}"
        if len(test_id) > TEST_ID_LIMIT:
            self._refuse(
                f"A test case's id (suite/classname/name) is {len(test_id):,} characters long, "
                f"longer than the {TEST_ID_LIMIT:,} the tracker keeps; shorten the test's name "
                "or class name (ids are never cut: two tests could end up with the same id)",
                self._case_line,
            )
        if len(obligations) > LINKS_PER_CASE_LIMIT or len(requirements) > LINKS_PER_CASE_LIMIT:
            self._refuse(
                f"A test case names {max(len(obligations), len(requirements)):,} obligation ids "
                f"or Jira keys; the tracker takes at most {LINKS_PER_CASE_LIMIT} per test, so "
                "check the obligations and requirements properties",
                self._case_line,
            )
        self.ready.append(
            ParsedCase(
                suite,
                classname,
                name,
                test_id,
                outcome,
                flaky,
                duration,
                message,
                obligations,
                requirements,
                self._case_test_key,
                attrib.get("file") or frame.file,
                int(line) if line and line.isascii() and line.isdigit() and len(line) < 9 else None,
                size,
                attempts,
                frame.host,
            )
        )
        self._counts[outcome] += 1
        self._case = None
        self._case_test_key = None
        self._result_tag = None
        self._text.clear()

    def _case_attempts(self, own: Attempt) -> tuple[Attempt, ...]:
        """Put the case's own result among its flaky runs (before it) and reruns (after it)."""
        before = [attempt for attempt, earlier in self._attempts if earlier]
        after = [attempt for attempt, earlier in self._attempts if not earlier]
        self._attempts = []
        return (*before, own, *after)


class _CutText(str):
    """Text cut to the limit; cut counts the UTF-8 bytes left out."""

    cut: int

    def __new__(cls, value: str, cut: int) -> _CutText:
        text = super().__new__(cls, value)
        text.cut = cut
        return text


class _Frame:
    """An open <testsuite>/<testsuites>: its name and the links it gives its cases."""

    __slots__ = ("suite", "file", "obligations", "requirements", "host", "cases")

    def __init__(
        self,
        suite: str,
        file: str | None,
        obligations: tuple[str, ...],
        requirements: tuple[str, ...],
        host: str | None,
    ) -> None:
        self.suite = suite
        self.file = file
        self.obligations = obligations
        self.requirements = requirements
        self.host = host
        self.cases = 0


def _unique(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _split_keys(value: str) -> tuple[str, ...]:
    return tuple(key for key in (part.strip() for part in value.split(",")) if key)


def _duration(value: str | None) -> float | None:
    duration = _lenient_duration(value)
    return duration if duration is not None and 0 <= duration < math.inf else None


def _lenient_duration(value: str | None) -> float | None:
    """Parse durations float() refuses, such as Surefire's "1,234.5" for long runs."""
    try:
        return float(value.replace(",", "")) if value else None
    except (ValueError, OverflowError):
        return None


def _stable_suite_name(name: str) -> str:
    """Keep the last part of absolute-path suite names (machine-specific checkouts)."""
    if name[0] == "/" or (len(name) > 2 and name[1] == ":" and name[2] in "\\/"):
        return re.split(r"[\\/]", name.rstrip("\\/"))[-1] or name
    return name
