"""The bytes of a JUnit report: a path, bytes or stream, gunzipped if need be, size-limited."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TypeAlias

from tracker.errors import ReportError, ReportTooLargeError

ReportSource: TypeAlias = "str | os.PathLike[str] | bytes | IO[bytes]"

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_SIZE = 256 * 1024


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
