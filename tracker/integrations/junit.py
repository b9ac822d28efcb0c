"""Streaming, hardened reader of JUnit XML test reports into plain case records."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from tracker.errors import ReportError
from tracker.integrations.junit_collector import CaseCollector, is_obligation_id
from tracker.integrations.junit_input import (
    PARSER_ENCODING,
    MarkupGuard,
    ReportSource,
    open_source,
    xml_chunks,
)
from tracker.integrations.junit_records import (
    DEFAULT_TEXT_LIMIT,
    INVALID_ID_LIMIT,
    MARKUP_LIMIT,
    OBLIGATIONS_PROPERTY,
    OUTCOME_ERROR,
    OUTCOME_FAILED,
    OUTCOME_PASSED,
    OUTCOME_SKIPPED,
    XRAY_REQUIREMENTS_PROPERTY,
    XRAY_TEST_KEY_PROPERTY,
    Attempt,
    ParsedCase,
    ReportSummary,
)

# The records, constants and ReportSource live in junit_records and junit_input; this module
# is where callers import them from.
__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TEXT_LIMIT",
    "INVALID_ID_LIMIT",
    "MARKUP_LIMIT",
    "OBLIGATIONS_PROPERTY",
    "OUTCOME_ERROR",
    "OUTCOME_FAILED",
    "OUTCOME_PASSED",
    "OUTCOME_SKIPPED",
    "XRAY_REQUIREMENTS_PROPERTY",
    "XRAY_TEST_KEY_PROPERTY",
    "Attempt",
    "JUnitReader",
    "ParsedCase",
    "ReportSource",
    "ReportSummary",
    "content_sha256",
    "is_obligation_id",
    "parse_report",
    "read_report",
]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class JUnitReader:
    """Read one JUnit XML report (plain or gzip) as a stream of cases, then its summary.

    Parsing uses defusedxml's DefusedXMLParser (the parser behind defusedxml's iterparse)
    with DTDs, entity declarations and external references forbidden; its guards stay
    installed on the expat parser. Instead of building Element objects for iterparse,
    element events go straight to a small collector: no tree exists, so memory stays flat
    whatever the number of test cases, and the per-element work is a few string
    comparisons. (defusedxml's iterparse runs ElementTree's pure-Python parser shim and
    alone takes about 1.6 times a bare stdlib iterparse loop, before any JUnit logic.)

    What a report may make the reader hold or do is bounded: max_bytes after decompression,
    text_limit bytes of failure text per result, MARKUP_LIMIT bytes per tag (refused before
    the parser buffers it), DEPTH_LIMIT levels of nesting, and, with max_seconds, the time
    spent reading (so a web worker answers with an error instead of being killed).
    """

    def __init__(
        self,
        source: ReportSource,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        text_limit: int = DEFAULT_TEXT_LIMIT,
        max_seconds: float | None = None,
    ) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._text_limit = text_limit
        self._max_seconds = max_seconds
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
        collector = CaseCollector(self._text_limit)
        # Chunks arrive as UTF-8 whatever the report's declared encoding (see junit_input).
        parser = DefusedXMLParser(
            target=collector,
            encoding=PARSER_ENCODING,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        collector.attach(parser.parser)
        guard = MarkupGuard(MARKUP_LIMIT)
        deadline = None if self._max_seconds is None else time.monotonic() + self._max_seconds
        ready = collector.ready
        failure: ReportError | None = None
        try:
            with open_source(self._source) as stream:
                for chunk in xml_chunks(stream, self._max_bytes):
                    guard.check(chunk)
                    _run(parser, parser.feed, chunk)
                    collector.trim()
                    if ready:
                        yield from ready
                        ready.clear()
                    if deadline is not None and time.monotonic() > deadline:
                        raise _too_slow(self._max_seconds or 0)
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
    source: ReportSource,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    text_limit: int = DEFAULT_TEXT_LIMIT,
) -> tuple[list[ParsedCase], ReportSummary]:
    """Read a whole report into a list of cases plus its summary (for small reports)."""
    reader = JUnitReader(source, max_bytes=max_bytes, text_limit=text_limit)
    cases = list(reader.cases())
    return cases, reader.summary


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
    except (ValueError, LookupError) as exc:  # after the DTD errors, which are ValueErrors
        # The parser's own encoding handling; the reader decodes reports itself, so this is a
        # report it could not even start on.
        raise ReportError(
            f"The report cannot be read ({exc}); write it as UTF-8 and upload it again"
        ) from exc


def _too_slow(seconds: float) -> ReportError:
    return ReportError(
        f"Reading the report took longer than the {seconds:g} seconds an upload may take; "
        "nothing was stored. Split the report per test job, or ingest it with the command "
        "line (tracker results ingest), which has no time limit"
    )


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
    elif code == expat.errors.codes[expat.errors.XML_ERROR_BAD_CHAR_REF]:
        hint = " (control characters such as &#0; are not allowed in XML, even escaped)"
    return (
        f"The report is not well-formed XML: {reason} at line {line}, column {column}{hint}; "
        "fix the tool that wrote it or upload the complete file"
    )
