"""The bytes of a JUnit report: a path, bytes or stream, gunzipped, as UTF-8, size-limited.

Whatever the report's encoding (UTF-8, UTF-16, US-ASCII or ISO-8859-1), the chunks given to the
XML parser are UTF-8, so that the parser can be told to read UTF-8 and the markup guard below
can look for "<" and ">" as plain bytes.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TypeAlias

from tracker.errors import ReportError, ReportTooLargeError

ReportSource: TypeAlias = "str | os.PathLike[str] | bytes | IO[bytes]"

PARSER_ENCODING = "UTF-8"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_SIZE = 256 * 1024
_HEAD_SIZE = 1024  # enough for any XML declaration
# Encodings every XML parser must (or commonly does) read, by Python's canonical codec names.
_ALLOWED_ENCODINGS = frozenset(("utf-8", "utf-16", "ascii", "iso8859-1"))
_DECLARED_ENCODING = re.compile(
    rb"<\?xml\s+version\s*=\s*[\"'][^\"']*[\"']\s+encoding\s*=\s*[\"']([^\"']{0,64})[\"']"
)
# A tag, closed: no ">" may occur outside a quoted attribute value, and no "<" at all.
_CLOSED_TAG = re.compile(rb"<[^<>\"']*(?:(?:\"[^<\"]*\"|'[^<']*')[^<>\"']*)*>")
# What ends each kind of markup that may hold "<" and ">": comments, CDATA sections, PIs.
_SPECIAL_ENDS = ((b"<![CDATA[", b"]]>"), (b"<!--", b"-->"), (b"<?", b"?>"))


@contextmanager
def open_source(source: ReportSource) -> Iterator[IO[bytes]]:
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


def xml_chunks(stream: IO[bytes], max_bytes: int | None) -> Iterator[bytes]:
    """Yield the report's XML as UTF-8 chunks, gunzipping when it starts with the gzip magic.

    max_bytes bounds the report's size after decompression; ReportTooLargeError past it.
    """
    first = stream.read(_CHUNK_SIZE)
    while 0 < len(first) < 2:
        more = stream.read(_CHUNK_SIZE)
        if not more:
            break
        first += more
    if first[:2] == _GZIP_MAGIC:
        raw = _gunzip_chunks(gzip.GzipFile(fileobj=_Prefixed(first, stream), mode="rb"))
    else:
        raw = _plain_chunks(first, stream)
    yield from _as_utf8(_limited(raw, max_bytes))


class MarkupGuard:
    """Refuse a tag, comment or processing instruction longer than a limit, before parsing it.

    The XML parser holds a whole tag (with all its attributes) in memory before it reports it,
    and scans it again each time more bytes arrive, so one huge attribute costs memory and
    quadratic time. Text and CDATA sections are reported in pieces and are not limited here.
    check() looks at each chunk before the parser gets it; it runs a few bytes searches per
    chunk, and per comment, CDATA section or processing instruction, never per tag.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._carry = b""  # the unfinished markup at the end of the last chunk
        self._in_cdata = False
        self._line = 1  # the line the carried bytes (or the next chunk) start on

    def check(self, chunk: bytes) -> None:
        """Raise ReportError if the markup open at the end of chunk is already too long."""
        data = self._carry + chunk if self._carry else chunk
        start = self._scan(data)
        if start is None:
            self._line += data.count(b"\n")
            self._carry = b""
            return
        self._line += data.count(b"\n", 0, start)
        if len(data) - start > self._limit and not self._in_cdata:
            raise ReportError(
                f"A tag on line {self._line} of the report is longer than "
                f"{_size(self._limit)} (an attribute or comment that large is not a test "
                "result); fix the tool that wrote the report, or keep long output in the text "
                "of <system-out> or <failure>",
                self._line,
            )
        self._carry = data[start:] if not self._in_cdata else data[-2:]
        if self._in_cdata:
            self._line += data.count(b"\n", start, len(data) - 2)

    def _scan(self, data: bytes) -> int | None:
        """Return where the markup still open at the end of data starts (None: none is)."""
        position = 0
        if self._in_cdata:
            end = data.find(b"]]>")
            if end < 0:
                return 0
            self._in_cdata = False
            position = end + 3
        bang = data.find(b"<!", position)
        question = data.find(b"<?", position)
        while True:
            # Search again only past a hit already used: each search then reads data once.
            if 0 <= bang < position:
                bang = data.find(b"<!", position)
            if 0 <= question < position:
                question = data.find(b"<?", position)
            opener = min(bang, question) if bang >= 0 and question >= 0 else max(bang, question)
            if opener < 0:
                break
            for begin, finish in _SPECIAL_ENDS:
                if data.startswith(begin, opener):
                    end = data.find(finish, opener + len(begin))
                    if end < 0:
                        self._in_cdata = begin == b"<![CDATA["
                        return opener
                    position = end + len(finish)
                    break
            else:
                if len(data) - opener < len(b"<![CDATA["):
                    return opener  # the start of something cut by the chunk's end
                position = opener + 2  # a declaration (<!DOCTYPE ...): the parser refuses it
        last = data.rfind(b"<", position)
        if last < 0 or _CLOSED_TAG.match(data, last):
            return None
        return last


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


def _limited(chunks: Iterator[bytes], max_bytes: int | None) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise ReportTooLargeError(
                f"The report is larger than the {max_bytes:,} bytes allowed (after decompression); "
                "split it per test job or raise the limit deliberately"
            )
        yield chunk


def _as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass UTF-8 through; decode the other allowed encodings and yield them as UTF-8."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= _HEAD_SIZE:
            break
    encoding = _encoding(head)
    if encoding == "utf-8":
        if head:
            yield head
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    try:
        for chunk in _rest(head, chunks):
            yield decoder.decode(chunk).encode("utf-8")
            done += len(chunk)
        yield decoder.decode(b"", True).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(
            f"The report is not valid {_ENCODING_NAMES[encoding]}: byte {done + exc.start + 1:,} "
            "cannot be decoded; check which encoding the tool writes, or write the report "
            "as UTF-8"
        ) from exc


_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "ascii": "US-ASCII",
    "iso8859-1": "ISO-8859-1",
}


def _rest(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from chunks


def _encoding(head: bytes) -> str:
    """Return the codec of the report from its first bytes (byte order mark, declaration)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _unsupported("UTF-32")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    match = _DECLARED_ENCODING.match(head)
    if match is None:
        return "utf-8"
    declared = match.group(1).decode("ascii", "replace")
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise _unsupported(declared) from None
    if name.startswith("utf-16"):
        raise ReportError(
            f'The report declares encoding="{declared}" but is not written in UTF-16; declare '
            "the encoding it is written in (UTF-8 if unsure)"
        )
    if name not in _ALLOWED_ENCODINGS:
        raise _unsupported(declared)
    return name


def _unsupported(declared: str) -> ReportError:
    shown = "".join(char if char.isprintable() else "?" for char in declared)
    return ReportError(
        f'The report declares encoding="{shown}", which the tracker does not read; write the '
        "report as UTF-8 (or UTF-16, US-ASCII or ISO-8859-1)"
    )


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
