"""The computed matrix, cached per data generation, time bucket and scope.

An entry is found only under the generation it was computed at (tracker.generation moves it
on with every committed write that can change a status), within one time bucket, and before
the first moment a status in it would read otherwise with no write at all (evidence ageing;
tracker.domain.status_expiry). The bucket bounds anything time-dependent beyond that.

An entry holds the rows, not the facts behind them: no reader of the cache needs the facts
(pages that do, such as release readiness, compute their own matrix), and at 3,000 obligations
they are nine tenths of the entry and most of the time it takes to decode it (decoding the
rows takes a tenth of computing them). After a write, one worker computes the new entry while
the others wait for it briefly (a short lock in Redis), instead of every worker computing it.

Reads cost what changed: when the data generation's change log (tracker.generation) tells
which obligations changed since the newest entry this process holds for the same time bucket
and scope (a test report changes only the rows of the obligations linked to its tests), only
those rows are computed again and the rest are kept. Entries so made stay in this process:
each worker brings its own up to date for the price of those rows, which is less than reading
a whole matrix back from Redis. A release scope is always computed in full (a report can name
a release, which changes how every row's work items count).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from tracker.domain.status_expiry import next_status_change
from tracker.generation import changes_since, current_generation, pending
from tracker.models import utcnow
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import MatrixData, build_matrix
from tracker.services.matrix_stores import MatrixCache

DEFAULT_BUCKET_SECONDS = 60


@dataclass(frozen=True)
class MatrixKey:
    """What a cached matrix was computed for."""

    generation: str
    bucket: int
    scope: EvidenceScope
    include_retired: bool = False
    max_evidence_age_days: int | None = None

    def text(self) -> str:
        """Return the key as a short, fixed-length string (release names may be long)."""
        scope = self.scope
        parts = (
            self.generation,
            str(self.bucket),
            scope.release or "",
            scope.branch or "",
            scope.environment or "",
            scope.default_branch,
            "retired" if self.include_retired else "",
            str(self.max_evidence_age_days or ""),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]

    def scope_text(self) -> str:
        """Return the key without its generation: what entries that follow one another share."""
        return replace(self, generation="").text()


def time_bucket(now: datetime, seconds: int) -> int:
    """Return the number of the time bucket that now falls in."""
    return int(now.timestamp()) // seconds


def _outside_writes(session: Session) -> bool:
    """Whether the session holds no write of its own (committed data: the cache may serve it)."""
    return not (pending(session.connection()) or session.new or session.dirty or session.deleted)


def cached_statuses(
    *,
    session: Session,
    cache: MatrixCache | None,
    scope: EvidenceScope,
    obligation_ids: Collection[str],
    generation: str | None = None,
    bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
    now: datetime | None = None,
) -> MatrixData:
    """Return rows holding at least these obligations' statuses in the scope.

    The whole matrix when the cache holds it (another request computed it); otherwise only
    these rows, computed here and not stored: a page that shows a few statuses does not pay
    for the whole catalog's.
    """
    now = now or utcnow()
    if cache is not None and _outside_writes(session):
        generation = generation or current_generation(session.connection())
        key = MatrixKey(generation, time_bucket(now, bucket_seconds), scope)
        found = cache.get(key.text(), now)
        if found is not None:
            return found
    data = build_matrix(
        session=session, scope=scope, obligation_ids=sorted(obligation_ids), now=now
    )
    return replace(data, valid_until=next_status_change(data.facts.values(), now))


def cached_matrix(
    *,
    session: Session,
    cache: MatrixCache | None,
    scope: EvidenceScope | None = None,
    generation: str | None = None,
    bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
    now: datetime | None = None,
    include_retired: bool = False,
    max_evidence_age_days: int | None = None,
) -> MatrixData:
    """Return the matrix for the scope from the cache, computing and storing it on a miss.

    With a cache, the matrix comes without its facts (an empty dict), whether it was found or
    computed here, so a reader that needs them fails in its tests, not only after a cache hit.

    generation, when the caller read it already (for an ETag), must have been read in this
    session's transaction before any of the matrix's data. A session holding changes not
    yet committed gets a matrix computed afresh and stores nothing: what it would store may
    be rolled back.
    """
    scope = scope or EvidenceScope()
    now = now or utcnow()
    if cache is None or not _outside_writes(session):
        return build_matrix(
            session=session,
            scope=scope,
            now=now,
            include_retired=include_retired,
            max_evidence_age_days=max_evidence_age_days,
        )
    # Read first: data read after it is at least as new, so an entry is never older than its key.
    generation = generation or current_generation(session.connection())
    bucket = time_bucket(now, bucket_seconds)
    matrix_key = MatrixKey(generation, bucket, scope, include_retired, max_evidence_age_days)
    key = matrix_key.text()
    found = cache.get(key, now)
    if found is not None:
        if found.generation != generation:
            scope_text = matrix_key.scope_text()  # read back from Redis: follow it from here on
            found = replace(found, generation=generation)
            cache.put(key, found, found.valid_until or now, newest_of=scope_text, share=False)
        return found
    bucket_end = datetime.fromtimestamp((bucket + 1) * bucket_seconds, UTC)
    scope_text = matrix_key.scope_text()
    updated = _updated(session, cache.newest(scope_text, now), matrix_key, now, bucket_end, key)
    if updated is not None:
        if updated.valid_until and updated.valid_until > now + timedelta(milliseconds=1):
            cache.put(key, updated, updated.valid_until, newest_of=scope_text, share=False)
        return updated
    claimed = cache.claim(key)
    if not claimed:
        found = cache.wait(key, now)
        if found is not None:
            return found
    try:
        data = build_matrix(
            session=session,
            scope=scope,
            now=now,
            include_retired=include_retired,
            max_evidence_age_days=max_evidence_age_days,
        )
        expires = _earliest(bucket_end, next_status_change(data.facts.values(), now))
        entry = MatrixData(
            rows=data.rows,
            facts={},
            generated_at=data.generated_at,
            notes=data.notes,
            cache_key=key,
            valid_until=expires,
            generation=generation,
        )
        if expires > now + timedelta(milliseconds=1):
            cache.put(key, entry, expires, newest_of=scope_text)
    finally:
        if claimed:
            cache.release(key)
    return entry


def _updated(
    session: Session,
    base: MatrixData | None,
    key: MatrixKey,
    now: datetime,
    bucket_end: datetime,
    key_text: str,
) -> MatrixData | None:
    """Return the base entry with the rows changed since it computed again (None: compute all).

    Only when the change log names what changed, and those are at most half the rows.
    """
    if base is None or base.generation is None or key.scope.release:
        return None
    changed = changes_since(session.connection(), base.generation, key.generation)
    if changed is None or len(changed) > len(base.rows) // 2:
        return None
    fresh = build_matrix(
        session=session,
        scope=key.scope,
        obligation_ids=sorted(changed),
        now=now,
        include_retired=key.include_retired,
        max_evidence_age_days=key.max_evidence_age_days,
    )
    if fresh.notes != base.notes:  # the scope's first run: every row with tests reads otherwise
        return None
    by_id = {row.id: row for row in fresh.rows}
    kept = {row.id for row in base.rows}
    if not by_id.keys() <= kept or len(by_id) != len(changed & kept):
        return None  # an obligation came or went: not something a report does
    expires = _earliest(bucket_end, next_status_change(fresh.facts.values(), now))
    if base.valid_until is not None:
        expires = min(expires, base.valid_until)
    return MatrixData(
        rows=[by_id.get(row.id, row) for row in base.rows],
        facts={},
        generated_at=now,
        notes=base.notes,
        cache_key=key_text,
        valid_until=expires,
        generation=key.generation,
        local=True,
    )


def _earliest(end: datetime, change: datetime | None) -> datetime:
    return change if change is not None and change < end else end
