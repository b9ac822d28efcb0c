"""Streaming, hardened reader of JUnit XML test reports into plain case records."""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, TypeAlias
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from tracker.domain.catalog_schema import OBLIGATION_ID_PATTERN
from tracker.errors import ReportError, ReportTooLargeError

ReportSource: TypeAlias = "str | os.PathLike[str] | bytes | IO[bytes]"

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MESSAGE_LIMIT = 2000
INVALID_ID_LIMIT = 1000

OUTCOME_PASSED = "passed"
OUTCOME_FAILED = "failed"
OUTCOME_ERROR = "error"
OUTCOME_SKIPPED = "skipped"

OBLIGATIONS_PROPERTY = "obligations"
XRAY_REQUIREMENTS_PROPERTY = "requirements"
XRAY_TEST_KEY_PROPERTY = "test_key"

_OBLIGATION_ID = re.compile(OBLIGATION_ID_PATTERN)
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_SIZE = 256 * 1024
_CACHE_LIMIT = 4096


class ParsedCase(NamedTuple):
    """One <testcase> of a report, reduced to what traceability needs.

    A named tuple: a report can hold a hundred thousand cases, and a tuple is several times
    cheaper to create than a frozen dataclass while just as immutable.

    test_id is "suite/classname/name" and is stable across runs: it never contains times,
    timestamps, hostnames or file paths. "suite" is the name of the innermost enclosing
    <testsuite> that has a non-empty name (a joined path would change whenever a tool's
    grouping or configuration changes); absolute-path suite names keep only their last part.
    What that gives per producer:

    - pytest (xunit1/xunit2): "pytest/<dotted module>[.<Class>]/<test>[<params>]";
      the suite is always "pytest" unless junit_suite_name is set.
    - Maven Surefire, Gradle: "<fq class>/<fq class>/<method>" (suite = test class).
    - jest-junit: "<describe title or file>/<classname template>/<title template>".
    - mocha-junit-reporter, Cypress: "<describe title>/<test title>/<full title>";
      the empty "Root Suite" holds no cases.
    - go-junit-report, gotestsum: "<package path>/<package path>/<TestName[/subtest]>".
    - JunitXml.TestLogger (.NET): "<assembly>.dll/<namespace.Class>/<Method(args)>".
    - Catch2: "<binary>/<binary>.global/<test case name>".
    - cargo-nextest: "<crate or binary id>/<crate>/<module::test>".
    - PHPUnit: "<Class>/<Namespace.Class>/<method>"; data-provider cases sit in a
      "<Class>::<method>" suite, which then is the suite part.
    - Playwright: "<spec file>/<spec file>/<describe › title>"; the browser project is
      only in the hostname attribute, so one test run in several projects yields
      several cases with the same test_id (aggregate them when storing).

    Missing attributes become empty strings, so the parts stay positional. Re-run tools
    that repeat a <testcase> (gotestsum --rerun-fails, Gradle without mergeReruns) also
    yield repeated test_ids; deciding the final result is the ingest layer's job.
    """

    suite: str
    classname: str
    name: str
    test_id: str
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None
    obligation_ids: tuple[str, ...]
    requirement_keys: tuple[str, ...]
    test_key: str | None
    file: str | None
    line: int | None


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """Report-level facts, counted from the cases actually read (never from suite attributes)."""

    suites: tuple[str, ...]
    timestamp: str | None
    hostname: str | None
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    invalid_ids: tuple[str, ...]
    warnings: tuple[str, ...] = ()


class JUnitReader:
    """Read one JUnit XML report (plain or gzip) as a stream of cases, then its summary.

    Parsing uses defusedxml's DefusedXMLParser (the parser behind defusedxml's iterparse)
    with DTDs, entity declarations and external references forbidden; its guards stay
    installed on the expat parser. Instead of building Element objects for iterparse,
    element events go straight to a small collector: no tree exists, so memory stays flat
    whatever the number of test cases, and the per-element work is a few string
    comparisons. (defusedxml's iterparse runs ElementTree's pure-Python parser shim and
    alone takes about 1.6 times a bare stdlib iterparse loop, before any JUnit logic.)
    """

    def __init__(self, source: ReportSource, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._started = False
        self._summary: ReportSummary | None = None

    @property
    def summary(self) -> ReportSummary:
        """Return the report summary; available once cases() has been read to the end."""
        if self._summary is None:
            raise RuntimeError("The summary is known only after cases() has been read to the end")
        return self._summary

    def cases(self) -> Iterator[ParsedCase]:
        """Yield each test case in document order; raise ReportError on unreadable input.

        Cases closed before a syntax or safety error are yielded before the error is raised,
        whatever the chunk size, so a consumer sees the same prefix of cases every time.
        """
        if self._started:
            raise RuntimeError("A JUnitReader can be read only once")
        self._started = True
        collector = _CaseCollector()
        parser = DefusedXMLParser(
            target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        collector.attach(parser.parser)
        ready = collector.ready
        failure: ReportError | None = None
        try:
            with _open_source(self._source) as stream:
                for chunk in _xml_chunks(stream, self._max_bytes):
                    _run(parser, parser.feed, chunk)
                    if ready:
                        yield from ready
                        ready.clear()
            _run(parser, parser.close)
        except ReportError as exc:
            failure = exc
        yield from ready
        ready.clear()
        if failure is not None:
            raise failure
        self._summary = collector.summary()


def parse_report(
    source: ReportSource, *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> Iterator[ParsedCase]:
    """Yield the test cases of a JUnit XML report (use JUnitReader to get the summary too)."""
    return JUnitReader(source, max_bytes=max_bytes).cases()


def read_report(
    source: ReportSource, *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> tuple[list[ParsedCase], ReportSummary]:
    """Read a whole report into a list of cases plus its summary (for small reports)."""
    reader = JUnitReader(source, max_bytes=max_bytes)
    cases = list(reader.cases())
    return cases, reader.summary


def is_obligation_id(value: str) -> bool:
    """Return True when value has the shape of a catalog obligation id."""
    return _OBLIGATION_ID.fullmatch(value) is not None


def content_sha256(source: ReportSource) -> str:
    """Return the hex SHA-256 of a report's raw bytes (as uploaded), to spot duplicate uploads.

    A stream must be seekable: it is hashed from its current position and put back there,
    ready for JUnitReader.
    """
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            _hash_stream(handle, digest)
        return digest.hexdigest()
    if not source.seekable():
        raise ValueError("content_sha256 needs a seekable stream, a path or bytes")
    start = source.tell()
    _hash_stream(source, digest)
    source.seek(start)
    return digest.hexdigest()


def _hash_stream(stream: IO[bytes], digest: Any) -> None:
    while block := stream.read(1024 * 1024):
        digest.update(block)


# --- input plumbing -------------------------------------------------------------------------


@contextmanager
def _open_source(source: ReportSource) -> Iterator[IO[bytes]]:
    """Open a path or bytes (closing what we opened) or pass a caller's stream through."""
    if isinstance(source, bytes):
        yield io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        try:
            handle = open(source, "rb")
        except OSError as exc:
            raise ReportError(f"The report file cannot be opened: {exc.strerror}") from exc
        with handle:
            yield handle
    else:
        yield source


class _Prefixed:
    """A read-only stream that replays bytes already read before continuing with the rest."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                data, self._prefix = self._prefix, b""
                if size < 0:
                    return data + self._rest.read()
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._rest.read(size)

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("a report stream is read once, front to back")


def _xml_chunks(stream: IO[bytes], max_bytes: int | None) -> Iterator[bytes]:
    """Yield the report's XML bytes in chunks, gunzipping when it starts with the gzip magic."""
    first = stream.read(_CHUNK_SIZE)
    while 0 < len(first) < 2:
        more = stream.read(_CHUNK_SIZE)
        if not more:
            break
        first += more
    if first[:2] == _GZIP_MAGIC:
        chunks = _gunzip_chunks(gzip.GzipFile(fileobj=_Prefixed(first, stream), mode="rb"))
    else:
        chunks = _plain_chunks(first, stream)
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise ReportTooLargeError(
                f"The report is larger than the {max_bytes:,} bytes allowed (after decompression); "
                "split it per test job or raise the limit deliberately"
            )
        yield chunk


def _plain_chunks(first: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := stream.read(_CHUNK_SIZE):
        yield chunk


def _gunzip_chunks(archive: gzip.GzipFile) -> Iterator[bytes]:
    try:
        while chunk := archive.read(_CHUNK_SIZE):
            yield chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ReportError(
            f"The report starts like gzip data but cannot be decompressed ({exc}); "
            "the upload is probably truncated or corrupt"
        ) from exc


def _run(parser: DefusedXMLParser, step: Callable[..., object], *args: bytes) -> None:
    """Run one parser step, turning parser and safety errors into ReportError with a position."""
    try:
        step(*args)
    except ParseError as exc:
        line, offset = exc.position
        raise ReportError(_syntax_message(exc, line, offset + 1), line, offset + 1) from exc
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        line, column = _position(parser)
        raise ReportError(
            "The report contains a DTD/entity declaration, which is not allowed in test "
            f"reports (line {line}, column {column}); JUnit producers never write one, so "
            "remove the <!DOCTYPE ...> block or check where the file came from",
            line,
            column,
        ) from exc


def _position(parser: DefusedXMLParser) -> tuple[int, int]:
    expat_parser = parser.parser
    return expat_parser.CurrentLineNumber, expat_parser.CurrentColumnNumber + 1


def _syntax_message(exc: ParseError, line: int, column: int) -> str:
    code = getattr(exc, "code", None)
    reason = expat.ErrorString(code) if isinstance(code, int) else str(exc)
    if code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
        return (
            f"The report ends before its XML is complete (line {line}, column {column}); "
            "the file is empty or was truncated, so upload it again in full"
        )
    hint = ""
    if code == expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]:
        hint = " (raw control characters such as terminal colour codes are not allowed in XML)"
    return (
        f"The report is not well-formed XML: {reason} at line {line}, column {column}{hint}; "
        "fix the tool that wrote it or upload the complete file"
    )


# --- the parser target ------------------------------------------------------------------------

_RESULT_TAGS = frozenset(
    ("failure", "error", "skipped", "flakyFailure", "flakyError", "rerunFailure", "rerunError")
)
# The outcome each result element stands for; a flaky rerun leaves the outcome alone.
_RESULT_KIND = {
    "failure": OUTCOME_FAILED,
    "rerunFailure": OUTCOME_FAILED,
    "error": OUTCOME_ERROR,
    "rerunError": OUTCOME_ERROR,
    "skipped": OUTCOME_SKIPPED,
    "flakyFailure": "flaky",
    "flakyError": "flaky",
}
_ROOT_TAGS = frozenset(("testsuites", "testsuite"))
_LINK_PROPERTIES = frozenset(
    (OBLIGATIONS_PROPERTY, XRAY_REQUIREMENTS_PROPERTY, XRAY_TEST_KEY_PROPERTY)
)


class _Frame:
    """An open <testsuite>/<testsuites>: its name and the links it gives its cases."""

    __slots__ = ("suite", "file", "obligations", "requirements", "cases")

    def __init__(
        self,
        suite: str,
        file: str | None,
        obligations: tuple[str, ...],
        requirements: tuple[str, ...],
    ) -> None:
        self.suite = suite
        self.file = file
        self.obligations = obligations
        self.requirements = requirements
        self.cases = 0


class _CaseCollector:
    """Receives expat's element and text events and turns them into ParsedCase records."""

    def __init__(self) -> None:
        self.ready: list[ParsedCase] = []
        self.root: str | None = None
        self._expat: Any = None
        text: list[str] = []
        self._text = text
        # The parser calls this for every run of character data; a bound C method is cheapest.
        self.data = text.append
        self._text_mark = 0
        # The bottom frame stands for "outside any suite" and is never popped.
        self._frames = [_Frame("", None, (), ())]
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
        self._results: dict[str, str | None] = {}
        self._result_tag: str | None = None
        self._result_message: str | None = None
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
        if tag == "testcase":
            if self._case is not None:
                self._case_depth += 1
                return
            self._case = attrib
            self._case_depth = 1
            self._text.clear()
        elif tag == "property":
            self._property = (attrib.get("name", ""), attrib.get("value"))
            self._text.clear()
        elif tag in _RESULT_TAGS:
            if self._case is not None and self._result_tag is None:
                self._result_tag = tag
                self._result_message = attrib.get("message")
                self._text.clear()
        elif tag == "system-out" or tag == "system-err":
            self._text_mark = len(self._text)
        elif tag == "testsuite" or tag == "testsuites":
            self._open_suite(tag, attrib)

    def end(self, tag: str) -> None:
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
            del self._text[self._text_mark :]
            self._text_mark = 0
        elif tag == "testsuite" or tag == "testsuites":
            if len(self._frames) > 1:
                self._frames.pop()
            self._text.clear()

    def close(self) -> None:
        """Finish parsing (part of the parser target protocol; nothing is pending)."""

    def summary(self) -> ReportSummary:
        """Return the summary of everything read so far."""
        counts = self._counts
        warnings = list(self._warnings)
        if self._invalid_overflow:
            warnings.append(
                f"{self._invalid_overflow} further invalid obligation ids are not listed"
            )
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
            self._suites[name] = None
        else:
            name = parent.suite
        if self._timestamp is None:
            self._timestamp = attrib.get("timestamp") or None
        if self._hostname is None:
            self._hostname = attrib.get("hostname") or None
        file = attrib.get("file") or parent.file
        self._frames.append(_Frame(name, file, parent.obligations, parent.requirements))
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
        if frame.cases:
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
            if _OBLIGATION_ID.fullmatch(token):
                valid.append(token)
            else:
                all_valid = False
                self._record_invalid(token)
        result = _unique(valid)
        # Only clean values are cached, so an invalid token is recorded wherever it appears.
        if all_valid and len(self._id_cache) < _CACHE_LIMIT:
            self._id_cache[value] = result
        return result

    def _record_invalid(self, token: str) -> None:
        if token in self._invalid:
            return
        if len(self._invalid) < INVALID_ID_LIMIT:
            self._invalid[token] = None
        else:
            self._invalid_overflow += 1

    # --- results and cases

    def _close_result(self, tag: str) -> None:
        kind = _RESULT_KIND[tag]
        if kind not in self._results:
            self._results[kind] = _message(self._result_message, self._text)
        self._result_tag = None
        self._result_message = None
        self._text.clear()

    def _close_case(self, attrib: dict[str, str]) -> None:
        frame = self._frames[-1]
        frame.cases += 1
        suite = frame.suite
        results = self._results
        flaky = False
        message = None
        if not results:
            outcome = OUTCOME_PASSED
        else:
            flaky = "flaky" in results
            for outcome in _OUTCOME_PRECEDENCE:
                if outcome in results:
                    message = results[outcome]
                    break
            else:
                outcome = OUTCOME_PASSED
                message = results["flaky"]
            self._results = {}
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
        line = attrib.get("line")
        time = attrib.get("time")
        try:
            duration = float(time) if time else None  # the common case, inline for speed
        except ValueError:
            duration = _lenient_duration(time)
        if duration is not None and not 0 <= duration < math.inf:
            duration = None
        self.ready.append(
            ParsedCase(
                suite,
                classname,
                name,
                f"{suite}/{classname}/{name}",
                outcome,
                flaky,
                duration,
                message,
                obligations,
                requirements,
                self._case_test_key,
                attrib.get("file") or frame.file,
                int(line) if line and line.isascii() and line.isdigit() else None,
            )
        )
        self._counts[outcome] += 1
        self._case = None
        self._case_test_key = None
        self._result_tag = None
        self._text.clear()


_OUTCOME_PRECEDENCE = (OUTCOME_FAILED, OUTCOME_ERROR, OUTCOME_SKIPPED)


def _unique(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _split_keys(value: str) -> tuple[str, ...]:
    return tuple(key for key in (part.strip() for part in value.split(",")) if key)


def _message(attribute: str | None, text: list[str]) -> str | None:
    body = "".join(text).strip() if text else ""
    if attribute and body:
        combined = f"{attribute}\n{body}"
    else:
        combined = attribute or body
    return combined[:MESSAGE_LIMIT] if combined else None


def _lenient_duration(value: str | None) -> float | None:
    """Parse durations float() refuses, such as Surefire's "1,234.5" for long runs."""
    try:
        return float(value.replace(",", "")) if value else None
    except ValueError:
        return None


def _stable_suite_name(name: str) -> str:
    """Keep the last part of absolute-path suite names (machine-specific checkouts)."""
    if name[0] == "/" or (len(name) > 2 and name[1] == ":" and name[2] in "\\/"):
        return re.split(r"[\\/]", name.rstrip("\\/"))[-1] or name
    return name
