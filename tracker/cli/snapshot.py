"""`tracker snapshot`: verify a frozen release snapshot offline, and make a signing key."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask.cli import AppGroup

from tracker.cli.paths import FilePath
from tracker.domain.snapshot import (
    CHECKED_AGAINST_FILE_KEY,
    CHECKED_AGAINST_GIVEN_KEY,
    SnapshotCheck,
    SnapshotError,
    load_public_key,
    public_key_base64,
    verify,
    verify_chain,
)

MAX_SNAPSHOT_BYTES = 200 * 1024 * 1024
MAX_KEY_FILE_BYTES = 64 * 1024
SIGNING_KEY_VARIABLE = "TRACKER_SNAPSHOT_SIGNING_KEY"


class UsageProblem(click.ClickException):
    """The check could not be run as asked (missing file, unreadable key): exit 2, no traceback."""

    exit_code = 2


@click.group("snapshot", cls=AppGroup)
def snapshot() -> None:
    """Frozen release snapshots: verify one offline, make a signing key."""


@snapshot.command("verify", with_appcontext=False)
@click.argument("file", type=FilePath(path_type=Path))
@click.option(
    "--public-key",
    "public_key_source",
    metavar="FILE_OR_BASE64",
    help="The signer's Ed25519 public key (PEM file, or base64 of the 32 raw bytes) to trust.",
)
@click.option(
    "--previous",
    "previous_files",
    multiple=True,
    type=FilePath(path_type=Path),
    help="An earlier snapshot of the chain; repeat, oldest first, to check the hash chain.",
)
def snapshot_verify_command(
    file: Path, public_key_source: str | None, previous_files: tuple[Path, ...]
) -> None:
    """Check a snapshot's hash, signature and chain; exit 0 if intact, 1 if not, 2 on misuse."""
    # Everything is read up front so that misuse (exit 2) is reported before any verdict.
    public_key = _public_key(public_key_source) if public_key_source else None
    files = [*previous_files, file]
    parsed = [(path, _read_json(path)) for path in files]

    problems: list[str] = []
    documents: list[dict[str, Any]] = []
    check: SnapshotCheck | None = None
    for position, (path, (document, reading_problem)) in enumerate(parsed):
        is_target = position == len(parsed) - 1
        prefix = "" if is_target else f"{path}: "
        if reading_problem is not None:
            problems.append(prefix + reading_problem)
            continue
        result = verify(document, public_key=public_key if is_target else None)
        problems.extend(prefix + problem for problem in result.problems)
        if is_target:
            check = result
        if isinstance(document, dict):
            documents.append(document)
    if previous_files and len(documents) == len(files):
        chain_problems = verify_chain(documents)
        if chain_problems:
            order = ", ".join(f"{number} = {path}" for number, path in enumerate(files, start=1))
            problems.extend(f"chain: {problem}" for problem in chain_problems)
            problems.append(f"chain order given: {order}")

    if problems or check is None or not check.ok:
        click.echo(f"Snapshot NOT verified: {file}", err=True)
        for problem in problems:
            click.echo(f"  - {_printable(problem)}", err=True)
        raise SystemExit(1)
    target = parsed[-1][1][0]
    click.echo(_verified_message(target, check, len(previous_files)))


@snapshot.command("keygen", with_appcontext=False)
@click.option(
    "--output",
    required=True,
    type=FilePath(path_type=Path, dir_okay=False),
    metavar="PRIVATE.pem",
    help="Where to write the new private key (PEM); an existing file is never overwritten.",
)
def snapshot_keygen_command(output: Path) -> None:
    """Write a new Ed25519 signing key (PEM, mode 0600) and print its public key."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        # Exclusive creation: never replace a key that may already sign published snapshots.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _usage_problem(f"{output} already exists: refusing to overwrite a key, choose another file")
    except OSError as error:
        _usage_problem(f"cannot create {output}: {error.strerror}")
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # whatever the umask, only the owner may read it
        handle.write(pem)
    public_text = public_key_base64(private_key.public_key())
    click.echo(f"Wrote a new Ed25519 private key to {output} (readable by its owner only).")
    click.echo("Public key (base64 of the raw 32 bytes), for auditors to pass as --public-key:")
    click.echo(f"  {public_text}")
    click.echo(
        f"To have the tracker sign snapshots, set {SIGNING_KEY_VARIABLE} to the content "
        f"of {output} or to its path. Keep the private key secret."
    )


def _read_json(path: Path) -> tuple[object, str | None]:
    """Return the parsed JSON, or a problem with its content; raise UsageProblem if unreadable."""
    if not path.exists():
        _usage_problem(f"no such file: {path}")
    if path.is_dir():
        _usage_problem(f"{path} is a folder, not a snapshot file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as error:
        _usage_problem(f"cannot read {path}: {error.strerror}")
    if len(data) > MAX_SNAPSHOT_BYTES:
        _usage_problem(f"{path} is larger than the {MAX_SNAPSHOT_BYTES // 2**20} MB limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, f"the file is not UTF-8 text (invalid byte at offset {error.start})"
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys), None
    except _DuplicateKeyError as error:
        return None, str(error)
    except json.JSONDecodeError as error:
        where = f"{error.msg} (line {error.lineno}, column {error.colno})"
        if error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip()):
            return None, f"the file ends too early, it is truncated or incomplete JSON: {where}"
        return None, f"the file is not valid JSON: {where}"
    except RecursionError:
        return None, "the file is nested too deeply to be read"
    except ValueError as error:  # e.g. an integer longer than Python converts by default
        return None, f"the file cannot be read as JSON: {error}"


class _DuplicateKeyError(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key would let a text editor and the verifier see different values.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"the file has the key {key[:80]!r} twice in one object")
        result[key] = value
    return result


def _public_key(source: str) -> Ed25519PublicKey:
    text = source
    candidate = Path(source)
    try:
        is_file = not source.lstrip().startswith("-----BEGIN") and candidate.is_file()
    except (OSError, ValueError):  # a PEM or base64 text is rarely a valid path
        is_file = False
    if is_file:
        try:
            with candidate.open("rb") as handle:
                text = handle.read(MAX_KEY_FILE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            _usage_problem(f"--public-key: cannot read {source}: {error}")
    try:
        return load_public_key(text)
    except SnapshotError as error:
        if is_file or source.lstrip().startswith("-----BEGIN"):
            _usage_problem(f"--public-key: {error}")
        if source.endswith((".pem", ".pub", ".key", ".txt")):
            _usage_problem(f"--public-key: no such file: {source}")
        _usage_problem(f"--public-key: {error}, and there is no file of that name")


def _verified_message(document: object, check: SnapshotCheck, previous_count: int) -> str:
    release = document.get("release") if isinstance(document, dict) else None
    name = release.get("name") if isinstance(release, dict) else None
    subject = f"Snapshot of release {_printable(str(name))}" if name is not None else "Snapshot"
    if check.signature_checked_against == CHECKED_AGAINST_GIVEN_KEY:
        signer = "signed with the given public key"
    elif check.signature_checked_against == CHECKED_AGAINST_FILE_KEY:
        signature = document.get("signature") if isinstance(document, dict) else None
        key_text = signature.get("public_key") if isinstance(signature, dict) else None
        signer = (
            f"signed with the key in the file ({key_text}); that proves integrity only, "
            "pass --public-key to check who signed it"
        )
    else:
        signer = "not signed"
    chain = f"; it follows the {previous_count} earlier snapshot(s) given" if previous_count else ""
    return f"{subject} verified: hash {(check.hash or '')[:16]}…, {signer}{chain}."


def _printable(text: str, limit: int = 500) -> str:
    """Escape control characters: a snapshot's text must not drive the auditor's terminal."""
    shown = "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode()
        for character in text[:limit]
    )
    return shown if len(text) <= limit else f"{shown}…"


def _usage_problem(message: str) -> NoReturn:
    raise UsageProblem(message)
