"""`tracker snapshot verify` and `keygen` run offline: no TRACKER_* settings, no database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tracker.cli import main
from tracker.domain.snapshot import load_private_key, public_key_base64, seal


def run_tracker(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("TRACKER_")
    }
    return subprocess.run(
        [sys.executable, "-c", "from tracker.cli import main; main()", "snapshot", *args],
        env=environment,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_in_process(folder: Path, *args: str) -> tuple[int, str]:
    """Run the same command in this process (fast) for the many ways a file can be broken."""
    old_folder = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["snapshot", *args], catch_exceptions=False)
    finally:
        os.chdir(old_folder)
    return result.exit_code, result.stderr


def release(name: str) -> dict[str, Any]:
    return {
        "release": {"name": name},
        "obligations": [
            {"id": "GDPR-17.1", "status": "met"},
            {"id": "GDPR-30.1", "status": "failing"},
        ],
    }


def write(folder: Path, name: str, document: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "offline"
    path.mkdir()
    return path


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_verify_accepts_an_intact_unsigned_snapshot_without_any_tracker_setting(
    folder: Path,
) -> None:
    sealed = seal(release("2024.06"), previous_hash=None)
    write(folder, "snapshot.json", sealed)
    result = run_tracker(folder, "verify", "snapshot.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"Snapshot of release 2024.06 verified: hash {sealed['hash'][:16]}…, not signed."
    )
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["snapshot.json"]  # no DB, no files


def test_verify_checks_the_signature_against_a_given_public_key(
    folder: Path, signing_key: Ed25519PrivateKey
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None, signing_key=signing_key))
    public_text = public_key_base64(signing_key.public_key())
    result = run_tracker(folder, "verify", "s.json", "--public-key", public_text)
    assert result.returncode == 0, result.stderr
    assert "Snapshot of release 1.0 verified" in result.stdout
    assert "signed with the given public key" in result.stdout


def test_verify_reads_the_public_key_from_a_pem_file(
    folder: Path, signing_key: Ed25519PrivateKey
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None, signing_key=signing_key))
    (folder / "signer.pub").write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = run_tracker(folder, "verify", "s.json", "--public-key", "signer.pub")
    assert result.returncode == 0, result.stderr
    assert "signed with the given public key" in result.stdout


def test_verify_without_a_key_says_the_key_in_the_file_proves_integrity_only(
    folder: Path, signing_key: Ed25519PrivateKey
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None, signing_key=signing_key))
    result = run_tracker(folder, "verify", "s.json")
    assert result.returncode == 0
    assert "signed with the key in the file" in result.stdout
    assert public_key_base64(signing_key.public_key()) in result.stdout


def test_verify_rejects_a_changed_snapshot_with_exit_1(folder: Path) -> None:
    sealed = seal(release("1.0"), previous_hash=None)
    sealed["obligations"][1]["status"] = "met"
    write(folder, "s.json", sealed)
    result = run_tracker(folder, "verify", "s.json")
    assert result.returncode == 1
    assert "Snapshot NOT verified: s.json" in result.stderr
    assert "something in the file was changed after it was frozen" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_rejects_a_snapshot_signed_with_another_key(
    folder: Path, signing_key: Ed25519PrivateKey
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None, signing_key=signing_key))
    other = public_key_base64(Ed25519PrivateKey.generate().public_key())
    result = run_tracker(folder, "verify", "s.json", "--public-key", other)
    assert result.returncode == 1
    assert "the file is signed, but not with the given public key" in result.stderr


def test_verify_rejects_an_unsigned_snapshot_when_a_key_is_given(
    folder: Path, signing_key: Ed25519PrivateKey
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None))
    public_text = public_key_base64(signing_key.public_key())
    result = run_tracker(folder, "verify", "s.json", "--public-key", public_text)
    assert result.returncode == 1
    assert "a public key was given but the snapshot is not signed" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "privacy-tracker-snapshot/1", "hash": "ab', "truncated"),
        (b'{"format": "privacy-tracker-snapshot/1",\n  "release": {', "truncated"),
        (b"this is not json", "the file is not valid JSON"),
        (b'{"release": "caf\xe9"}', "the file is not UTF-8"),
        (b'{"format": 1, "format": "privacy-tracker-snapshot/1"}', "the key 'format' twice"),
        (b"[]", "the file is not a snapshot"),
        (b'{"hash": null}', "the file is not a snapshot (no format)"),
        (b"[" * 100_000, "nested too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"format": "x", "n": 1' + b"0" * 5000 + b"}", "cannot be read as JSON"),
        (b'{"format": "privacy-tracker-snapshot/1", "n": NaN}', "a float at n"),
    ],
)
def test_verify_reports_a_broken_file_clearly_with_exit_1(
    folder: Path, content: bytes, message: str
) -> None:
    (folder / "s.json").write_bytes(content)
    exit_code, errors = run_in_process(folder, "verify", "s.json")
    assert exit_code == 1, errors
    assert message in errors


def test_a_truncated_file_exits_1_naming_the_truncation(folder: Path) -> None:
    text = json.dumps(seal(release("1.0"), previous_hash=None), indent=2)
    (folder / "s.json").write_text(text[: len(text) // 2], encoding="utf-8")
    result = run_tracker(folder, "verify", "s.json")
    assert result.returncode == 1
    assert "the file ends too early, it is truncated or incomplete JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_escapes_control_characters_from_the_file(folder: Path) -> None:
    write(folder, "s.json", seal(release("1.0\x1b[2J"), previous_hash=None))
    result = run_tracker(folder, "verify", "s.json")
    assert result.returncode == 0
    assert "\x1b" not in result.stdout
    assert "release 1.0\\x1b[2J verified" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.json"], "no such file: missing.json"),
        (["."], "is a folder"),
        (["s.json", "--public-key", "not a key"], "and there is no file of that name"),
        (["s.json", "--public-key", "keys/missing.pem"], "--public-key: no such file"),
        (["s.json", "--public-key", "bad.pem"], "--public-key: the public key PEM cannot be read"),
        (["s.json", "--previous", "older.json"], "no such file: older.json"),
        ([], "Missing argument 'FILE'"),
    ],
)
def test_verify_usage_errors_exit_2_without_a_traceback(
    folder: Path, arguments: list[str], message: str
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None))
    (folder / "bad.pem").write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    exit_code, errors = run_in_process(folder, "verify", *arguments)
    assert exit_code == 2
    assert message in errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.json"], "Error: no such file: missing.json"),
        (["s.json", "--public-key", "AAAA"], "Error: --public-key: the public key is neither"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(
    folder: Path, arguments: list[str], message: str
) -> None:
    write(folder, "s.json", seal(release("1.0"), previous_hash=None))
    result = run_tracker(folder, "verify", *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_checks_the_chain_of_previous_snapshots_oldest_first(folder: Path) -> None:
    first = seal(release("1"), previous_hash=None)
    second = seal(release("2"), previous_hash=first["hash"])
    third = seal(release("3"), previous_hash=second["hash"])
    for name, document in (("1.json", first), ("2.json", second), ("3.json", third)):
        write(folder, name, document)
    result = run_tracker(folder, "verify", "3.json", "--previous", "1.json", "--previous", "2.json")
    assert result.returncode == 0, result.stderr
    assert "Snapshot of release 3 verified" in result.stdout
    assert "follows the 2 earlier snapshot(s) given" in result.stdout

    result = run_tracker(folder, "verify", "3.json", "--previous", "1.json")
    assert result.returncode == 1
    assert (
        "chain: snapshot 2 (release '3') does not follow snapshot 1 (release '1')" in result.stderr
    )
    assert "chain order given: 1 = 1.json, 2 = 3.json" in result.stderr


def test_verify_reports_a_changed_previous_snapshot_by_its_file(folder: Path) -> None:
    first = seal(release("1"), previous_hash=None)
    second = seal(release("2"), previous_hash=first["hash"])
    first["obligations"][0]["status"] = "failing"
    write(folder, "1.json", first)
    write(folder, "2.json", second)
    result = run_tracker(folder, "verify", "2.json", "--previous", "1.json")
    assert result.returncode == 1
    assert "1.json: the content does not match its hash" in result.stderr


def test_keygen_writes_a_private_key_only_its_owner_can_read(folder: Path) -> None:
    result = run_tracker(folder, "keygen", "--output", "signing.pem")
    assert result.returncode == 0, result.stderr
    key_path = folder / "signing.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    private_key = load_private_key(key_path.read_text())
    public_text = public_key_base64(private_key.public_key())
    assert public_text in result.stdout
    assert "TRACKER_SNAPSHOT_SIGNING_KEY" in result.stdout

    write(folder, "s.json", seal(release("1.0"), previous_hash=None, signing_key=private_key))
    verified = run_tracker(folder, "verify", "s.json", "--public-key", public_text)
    assert verified.returncode == 0, verified.stderr


def test_keygen_refuses_to_overwrite_an_existing_file(folder: Path) -> None:
    (folder / "signing.pem").write_text("precious")
    result = run_tracker(folder, "keygen", "--output", "signing.pem")
    assert result.returncode == 2
    assert "refusing to overwrite" in result.stderr
    assert (folder / "signing.pem").read_text() == "precious"


def test_keygen_into_a_missing_folder_is_a_usage_error(folder: Path) -> None:
    result = run_tracker(folder, "keygen", "--output", "nowhere/signing.pem")
    assert result.returncode == 2
    assert "cannot create nowhere/signing.pem" in result.stderr
    assert "Traceback" not in result.stderr
