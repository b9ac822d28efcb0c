"""Search execution for the sandbox: ordered, cached results and Cloud page tokens."""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from tracker.sandbox.jql import CompiledQuery, Query, compile_query, parse_jql
from tracker.sandbox.state import Issue, SandboxState

TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000  # Atlassian: page tokens expire after 7 days


class PageTokenError(ValueError):
    """A nextPageToken that is malformed, stale or from another query."""


@dataclass
class OrderedResult:
    """All issues matching a query, in the query's order."""

    query: Query
    compiled: CompiledQuery
    issues: list[Issue]
    values: list[list[Any]]
    keys: list[Any]

    @property
    def warnings(self) -> list[str]:
        """Return validation warnings (lenient Data Center searches only)."""
        return self.compiled.warnings

    def position_after(self, values: list[Any]) -> int:
        """Return the index of the first issue sorting strictly after `values`.

        A cursor on sort values, not an offset, so issues changing between pages do not
        shift the rest of the walk (they may be seen twice, never skipped).
        """
        return bisect.bisect_right(self.keys, self.compiled.sort_key(values))


class SearchEngine:
    """Runs queries against a state, caching ordered results until the state changes."""

    def __init__(self, state: SandboxState, cache_size: int = 16) -> None:
        self.state = state
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, bool, int], OrderedResult] = OrderedDict()

    def run(self, jql: str, *, strict: bool = True) -> OrderedResult:
        """Parse, validate and run a query; raise JqlError as Jira would answer 400."""
        query = parse_jql(jql)
        with self.state.lock:
            cache_key = (jql, strict, self.state.revision)
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
            compiled = compile_query(query, self.state, strict=strict)
            matched = [issue for issue in self.state.issues() if compiled.predicate(issue)]
            decorated = [(compiled.sort_values(issue), issue) for issue in matched]
            decorated.sort(key=lambda pair: compiled.sort_key(pair[0]))
            values = [pair[0] for pair in decorated]
            result = OrderedResult(
                query=query,
                compiled=compiled,
                issues=[pair[1] for pair in decorated],
                values=values,
                keys=[compiled.sort_key(value) for value in values],
            )
            if not compiled.time_dependent:
                self._cache[cache_key] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            return result


def make_page_token(jql: str, after: list[Any], issued_ms: int) -> str:
    """Encode an opaque cursor: the query's fingerprint and the last issue's sort values."""
    payload = {"v": 1, "q": _fingerprint(jql), "a": after, "t": issued_ms}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_page_token(token: str, jql: str, now_ms: int) -> list[Any]:
    """Decode a cursor for this query, or raise PageTokenError."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, query, issued = payload["a"], payload["q"], int(payload["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise PageTokenError("The provided next page token is invalid.") from error
    if not isinstance(after, list) or query != _fingerprint(jql):
        raise PageTokenError("The provided next page token is invalid for this query.")
    if now_ms - issued > TOKEN_LIFETIME_MS:
        raise PageTokenError("The provided next page token has expired.")
    return after


def _fingerprint(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]
