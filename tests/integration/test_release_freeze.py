"""Freezing a release: a sealed, chained snapshot that verifies offline and exports as OSCAL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from tests.release_helpers import RELEASE, release_world
from tracker.models import AuditEvent, ReleaseSnapshot


def _verify(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `tracker snapshot verify` as an auditor would: no database, no tracker settings."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(path.parent)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from tracker.cli import main; main()",
            "snapshot",
            "verify",
            str(path),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=60,
        check=False,
    )


def test_a_frozen_snapshot_verifies_offline_and_fails_after_any_edit(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    release_world(session)
    output, oscal = tmp_path / "2026.12.json", tmp_path / "2026.12-oscal.json"
    frozen = runner.invoke(
        args=["releases", "freeze", RELEASE, "--output", str(output), "--oscal", str(oscal)]
    )
    assert frozen.exit_code == 0, frozen.output
    assert "(blocked) frozen: hash" in frozen.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["release"]["name"] == RELEASE and document["verdict"] == "blocked"
    assert document["previous_hash"] is None
    alpha = next(item for item in document["obligations"] if item["id"] == "ALPHA-1.1")
    assert alpha["status"] == "VERIFIED" and alpha["work_items"][0]["fix_versions"] == [RELEASE]
    assert alpha["tests"][0]["outcome"] == "passed" and len(alpha["tests"][0]["content_hash"]) == 64
    assert _verify(output).returncode == 0
    edited = tmp_path / "edited.json"
    edited.write_text(
        output.read_text(encoding="utf-8").replace('"status":"VERIFIED"', '"status":"FAILING"', 1),
        encoding="utf-8",
    )
    failed = _verify(edited)
    assert failed.returncode == 1 and "changed" in failed.stdout + failed.stderr
    # The OSCAL export validates against the OSCAL models.
    from trestle.oscal.assessment_results import AssessmentResults

    AssessmentResults.model_validate(
        json.loads(oscal.read_text(encoding="utf-8"))["assessment-results"]
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "release.frozen")).one()
    assert event.entity_id == RELEASE and event.after["hash"] == document["hash"]


def test_freezing_again_makes_a_new_snapshot_in_the_chain(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    release_world(session)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    runner.invoke(args=["releases", "freeze", RELEASE, "--output", str(first)])
    runner.invoke(args=["releases", "freeze", RELEASE, "--output", str(second)])
    stored = session.exec(select(ReleaseSnapshot).order_by(ReleaseSnapshot.id)).all()
    assert len(stored) == 2 and stored[1].previous_hash == stored[0].hash
    assert _verify(second, "--previous", str(first)).returncode == 0
    assert _verify(first, "--previous", str(second)).returncode == 1


def test_a_signed_snapshot_verifies_only_against_its_public_key(
    runner: Any, app: Any, session: Session, tmp_path: Path
) -> None:
    release_world(session)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    app.config["SNAPSHOT_SIGNING_KEY"] = pem
    output = tmp_path / "signed.json"
    assert (
        runner.invoke(args=["releases", "freeze", RELEASE, "--output", str(output)]).exit_code == 0
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_file = tmp_path / "public.pem"
    public_file.write_bytes(public)
    assert _verify(output, "--public-key", str(public_file)).returncode == 0
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    other_file = tmp_path / "other.pem"
    other_file.write_bytes(other)
    assert _verify(output, "--public-key", str(other_file)).returncode == 1


def test_freezing_an_unknown_release_is_an_error_and_writes_nothing(
    runner: Any, session: Session
) -> None:
    release_world(session)
    result = runner.invoke(args=["releases", "freeze", "2099.01"])
    assert result.exit_code == 1 and "There is no release '2099.01'" in result.output
    assert session.exec(select(ReleaseSnapshot)).all() == []
