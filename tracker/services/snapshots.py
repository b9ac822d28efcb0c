"""Freezing a release: its readiness as a sealed, hash-chained snapshot that never changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.domain.canonical import canonical_json, canonical_time, sha256_hex
from tracker.domain.snapshot import SnapshotError, load_private_key, seal
from tracker.errors import NotFoundError, TrackerError
from tracker.models import Obligation, ReleaseSnapshot, TestRun, WorkItem, utcnow
from tracker.services.audit import record_event
from tracker.services.release_readiness import Readiness, record_readiness, release_readiness
from tracker.services.releases import find_release


def freeze_release(
    *, session: Session, readiness: Readiness, actor: Actor, signing_key: str | None = None
) -> ReleaseSnapshot:
    """Record the release as it is now; the snapshot continues the chain of all snapshots."""
    key = _signing_key(signing_key)
    previous = session.exec(
        select(ReleaseSnapshot).order_by(col(ReleaseSnapshot.id).desc()).limit(1)
    ).first()
    document = snapshot_document(session, readiness, actor)
    try:
        sealed = seal(document, previous_hash=previous.hash if previous else None, signing_key=key)
    except SnapshotError as exc:
        raise TrackerError(f"The snapshot could not be sealed: {exc}") from exc
    snapshot = ReleaseSnapshot(
        release=readiness.release.name,
        hash=sealed["hash"],
        previous_hash=sealed["previous_hash"],
        document=canonical_json(sealed),
        ready=readiness.verdict.ready,
        frozen_by=actor.label,
    )
    session.add(snapshot)
    session.flush()
    record_readiness(session=session, readiness=readiness)
    record_event(
        session=session,
        actor=actor,
        action="release.frozen",
        entity_type="release",
        entity_id=readiness.release.name,
        after={"snapshot": snapshot.id, "hash": snapshot.hash, "ready": snapshot.ready},
    )
    return snapshot


def snapshot_document(session: Session, readiness: Readiness, actor: Actor) -> dict[str, Any]:
    """Return what a snapshot records (plain JSON values only: no floats, no dates)."""
    keys = sorted({cell.key for row in readiness.rows for cell in row.work_items})
    fix_versions = {
        key: list(versions or [])
        for key, versions in session.execute(
            select(WorkItem.key, WorkItem.fix_versions).where(col(WorkItem.key).in_(keys))
        ).all()
    }
    run_ids = {
        test.latest.run_id
        for facts in readiness.facts.values()
        for test in facts.tests
        if test.latest is not None
    }
    hashes = dict(
        session.execute(
            select(TestRun.id, TestRun.content_hash).where(col(TestRun.id).in_(run_ids))
        ).all()
    )
    verdicts = {item.id: item for item in readiness.verdict.obligations}
    obligations = []
    for row in readiness.rows:
        verdict = verdicts[row.id]
        version, fingerprint = readiness.versions[row.id]
        signoff = readiness.signoffs.get(row.id)
        obligations.append(
            {
                "id": row.id,
                "instrument": row.instrument,
                "citation": row.citation,
                "title": row.title,
                "severity": row.severity,
                "version": version,
                "fingerprint": fingerprint,
                "status": row.result.status.value,
                "implementation": row.result.implementation.value,
                "verification": row.result.verification.value,
                "signoff": verdict.signoff.value,
                "verdict": verdict.verdict,
                "blocking": verdict.blocking,
                "blocking_reasons": list(verdict.reasons),
                "explanation": list(row.result.reasons),
                "work_items": [
                    {
                        "key": cell.key,
                        "status": cell.status,
                        "status_category": cell.status_category,
                        "fix_versions": fix_versions.get(cell.key, []),
                        "url": cell.url,
                    }
                    for cell in row.work_items
                ],
                "tests": [
                    {
                        "test_id": test.test_id,
                        "outcome": test.latest.outcome if test.latest else None,
                        "run_id": test.latest.run_id if test.latest else None,
                        "commit": test.latest.commit if test.latest else None,
                        "content_hash": hashes.get(test.latest.run_id) if test.latest else None,
                    }
                    for test in readiness.facts[row.id].tests
                ],
                "signed_off_by": (
                    {
                        "name": signoff.signed_by,
                        "role": signoff.signed_role,
                        "at": canonical_time(signoff.signed_at),
                        "version": signoff.obligation_version,
                        "status": signoff.status,
                        "statement": signoff.statement,
                    }
                    if signoff
                    else None
                ),
                "exceptions": [
                    {
                        "id": item.id,
                        "justification": item.justification,
                        "compensating_control": item.compensating_control,
                        "risk_owner": item.risk_owner,
                        "expires_on": item.expires_on.isoformat(),
                        "requested_by": item.requested_by,
                        "approved_by": item.approved_by,
                        "withdrawn": item.withdrawn_at is not None,
                    }
                    for item in readiness.exceptions.get(row.id, [])
                ],
            }
        )
    counts: dict[str, int] = {}
    for item in readiness.verdict.obligations:
        counts[item.verdict] = counts.get(item.verdict, 0) + 1
    release = readiness.release
    return {
        "release": {
            "name": release.name,
            "release_date": release.release_date.isoformat() if release.release_date else None,
            "state": release.state,
        },
        "frozen_at": canonical_time(utcnow()),
        "frozen_by": {"name": actor.label, "ref": actor.reference, "role": _role(actor)},
        "catalog_fingerprint": catalog_fingerprint(session),
        "evidence": readiness.evidence,
        "policy": readiness.policy.model_dump(mode="json"),
        "verdict": "ready" if readiness.verdict.ready else "blocked",
        "signed_off": readiness.verdict.signed_off,
        "counts": dict(sorted(counts.items())),
        "obligations": obligations,
    }


def catalog_fingerprint(session: Session) -> str:
    """Return one hash over every current obligation's id, version and fingerprint."""
    rows = session.execute(
        select(Obligation.id, Obligation.version, Obligation.fingerprint).order_by(
            col(Obligation.id)
        )
    ).all()
    return sha256_hex(canonical_json([[ob_id, version, digest] for ob_id, version, digest in rows]))


def list_snapshots(*, session: Session, release: str | None = None) -> list[ReleaseSnapshot]:
    """Return the snapshots, newest first (of one release, when given)."""
    query = select(ReleaseSnapshot).order_by(col(ReleaseSnapshot.id).desc())
    if release is not None:
        query = query.where(col(ReleaseSnapshot.release) == release)
    return list(session.exec(query).all())


def get_snapshot(*, session: Session, snapshot_id: int) -> ReleaseSnapshot:
    """Return one snapshot, or raise NotFoundError."""
    found = session.get(ReleaseSnapshot, snapshot_id) if 0 < snapshot_id < 2**31 else None
    if found is None:
        raise NotFoundError(f"There is no snapshot #{snapshot_id}.")
    return found


def snapshot_json(snapshot: ReleaseSnapshot) -> dict[str, Any]:
    """Return the sealed document exactly as stored."""
    document: dict[str, Any] = json.loads(snapshot.document)
    return document


def _signing_key(setting: str | None) -> Ed25519PrivateKey | None:
    """Read TRACKER_SNAPSHOT_SIGNING_KEY: the PEM or base64 key itself, or a file holding it."""
    if not setting:
        return None
    text = setting
    if "BEGIN" not in setting and Path(setting).is_file():
        text = Path(setting).read_text(encoding="utf-8")
    try:
        return load_private_key(text)
    except SnapshotError as exc:
        raise TrackerError(f"TRACKER_SNAPSHOT_SIGNING_KEY cannot be used: {exc}") from exc


def _role(actor: Actor) -> str | None:
    return actor.role.value if actor.role else None


def release_document(
    *, session: Session, release: str, default_branch: str, actor: Actor
) -> dict[str, Any]:
    """Return the release's newest snapshot, or its record as it is now when never frozen."""
    found = find_release(session=session, name=release)
    frozen = list_snapshots(session=session, release=found.name)
    if frozen:
        return snapshot_json(frozen[0])
    readiness = release_readiness(
        session=session, release=found.name, default_branch=default_branch
    )
    return snapshot_document(session, readiness, actor)
