"""Sealing a release snapshot (canonical hash, Ed25519 signature) and checking it offline."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tracker.domain.canonical import canonical_json, sha256_hex

SNAPSHOT_FORMAT = "privacy-tracker-snapshot/1"

#: Keys that seal() adds; a document to be sealed may not carry them already.
SEAL_KEYS = ("format", "previous_hash", "hash", "signature")

CHECKED_AGAINST_GIVEN_KEY = "the given public key"
CHECKED_AGAINST_FILE_KEY = "the key in the file"
NO_SIGNATURE = "no signature"

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A hostile file could hold millions of floats; naming the first few is enough to act on.
_MAX_VALUE_PROBLEMS = 20
_RAW_KEY_BYTES = 32
_SIGNATURE_BYTES = 64


class SnapshotError(Exception):
    """A snapshot cannot be sealed, or a key cannot be read; the message is meant for a person."""


@dataclass(frozen=True)
class SnapshotCheck:
    """The verdict on one snapshot: ok only when there is no problem at all."""

    ok: bool
    problems: tuple[str, ...]
    hash: str | None
    signed: bool
    signature_checked_against: str


def seal(
    document: dict[str, Any],
    *,
    previous_hash: str | None,
    signing_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    """Return a new dict: the document with its format, previous hash, hash and signature."""
    if not isinstance(document, dict):
        raise SnapshotError("a snapshot must be a JSON object (a dict)")
    present = [key for key in SEAL_KEYS if key in document]
    if present:
        raise SnapshotError(
            f"the document already has {', '.join(present)}: give the content only, "
            "seal() adds these keys"
        )
    if previous_hash is not None and not _is_hex_sha256(previous_hash):
        raise SnapshotError("previous_hash must be the 64-character hex hash of a snapshot or None")
    value_problems = _value_problems(document)
    if value_problems:
        raise SnapshotError("; ".join(value_problems))
    content = {**document, "format": SNAPSHOT_FORMAT, "previous_hash": previous_hash}
    try:
        text = canonical_json(content)
    except (ValueError, TypeError, RecursionError) as error:
        raise SnapshotError(f"the document cannot be written as canonical JSON: {error}") from None
    sealed: dict[str, Any] = _loads_canonical(text)  # a deep copy of exactly what was hashed
    sealed["hash"] = sha256_hex(text)
    if signing_key is not None:
        sealed["signature"] = {
            "algorithm": "ed25519",
            "public_key": public_key_base64(signing_key.public_key()),
            "value": _b64(signing_key.sign(sealed["hash"].encode("utf-8"))),
        }
    return sealed


def verify(document: object, *, public_key: Ed25519PublicKey | None = None) -> SnapshotCheck:
    """Check a snapshot's format, content hash and signature; never raise on any input."""
    if not isinstance(document, dict):
        kind = _json_kind(document)
        return _check((f"the file is not a snapshot (it is {kind}, not a JSON object)",))
    if "format" not in document:
        return _check(("the file is not a snapshot (no format)",))
    problems: list[str] = []
    if document["format"] != SNAPSHOT_FORMAT:
        problems.append(f"unknown format {_shown(document['format'])}")
    problems.extend(_value_problems(document))
    if "previous_hash" not in document:
        problems.append("the snapshot has no previous_hash (null for the first of a chain)")
    elif document["previous_hash"] is not None and not _is_hex_sha256(document["previous_hash"]):
        problems.append("the previous_hash is neither null nor a 64-character hex hash")
    computed = _content_hash(document, problems)
    stored = document.get("hash")
    if "hash" not in document:
        problems.append("the snapshot has no hash")
    elif not _is_hex_sha256(stored):
        problems.append("the hash is not a 64-character hex SHA-256")
    elif computed is not None and stored != computed:
        problems.append(
            "the content does not match its hash: something in the file was changed "
            "after it was frozen"
        )
    signed_hash = stored if _is_hex_sha256(stored) else computed
    signed = "signature" in document
    if not signed:
        if public_key is not None:
            problems.append("a public key was given but the snapshot is not signed")
        return _check(tuple(problems), computed, signed=False, against=NO_SIGNATURE)
    against = CHECKED_AGAINST_GIVEN_KEY if public_key is not None else CHECKED_AGAINST_FILE_KEY
    problems.extend(_signature_problems(document["signature"], signed_hash, public_key))
    return _check(tuple(problems), computed, signed=True, against=against)


def verify_chain(documents: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """Return a problem for each snapshot whose previous_hash is not the hash of the one before."""
    problems: list[str] = []
    for position in range(1, len(documents)):
        before, current = documents[position - 1], documents[position]
        expected = before.get("hash") if isinstance(before, dict) else None
        found = current.get("previous_hash") if isinstance(current, dict) else None
        if found is None or found != expected:
            problems.append(
                f"{_describe(current, position + 1)} does not follow "
                f"{_describe(before, position)}: its previous_hash is {_short(found)} "
                f"but the one before has hash {_short(expected)}"
            )
    return tuple(problems)


def load_private_key(text: str) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from PKCS8 PEM or from base64 of its 32 raw bytes."""
    stripped = text.strip() if isinstance(text, str) else ""
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(stripped.encode("utf-8"), password=None)
        except TypeError:
            raise SnapshotError(
                "the private key is encrypted: give an unencrypted PKCS8 PEM key"
            ) from None
        except (ValueError, UnsupportedAlgorithm):
            raise SnapshotError("the private key PEM cannot be read (not PKCS8 PEM?)") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SnapshotError(f"the private key is {_key_kind(key)}, not Ed25519")
        return key
    raw = _raw_key_bytes(stripped)
    if raw is None:
        raise SnapshotError(
            "the private key is neither PKCS8 PEM nor base64 of 32 raw Ed25519 key bytes"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(text: str) -> Ed25519PublicKey:
    """Read an Ed25519 public key from SubjectPublicKeyInfo PEM or base64 of its 32 raw bytes."""
    stripped = text.strip() if isinstance(text, str) else ""
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped.encode("utf-8"))
        except (ValueError, UnsupportedAlgorithm):
            raise SnapshotError(
                "the public key PEM cannot be read (not a SubjectPublicKeyInfo PEM?)"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise SnapshotError(f"the public key is {_key_kind(key)}, not Ed25519")
        return key
    raw = _raw_key_bytes(stripped)
    if raw is None:
        raise SnapshotError(
            "the public key is neither a PEM public key nor base64 of 32 raw Ed25519 key bytes"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise SnapshotError("the public key bytes are not a valid Ed25519 key") from None


def public_key_base64(public_key: Ed25519PublicKey) -> str:
    """Return the base64 of the key's 32 raw bytes, as written in a snapshot's signature."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def _check(
    problems: tuple[str, ...],
    computed_hash: str | None = None,
    *,
    signed: bool = False,
    against: str = NO_SIGNATURE,
) -> SnapshotCheck:
    return SnapshotCheck(
        ok=not problems,
        problems=problems,
        hash=computed_hash,
        signed=signed,
        signature_checked_against=against,
    )


def _content_hash(document: dict[Any, Any], problems: list[str]) -> str | None:
    content = {key: value for key, value in document.items() if key not in ("hash", "signature")}
    try:
        return sha256_hex(canonical_json(content))
    except RecursionError:
        problems.append("the content is nested too deeply to be checked")
    except (ValueError, TypeError):
        if not problems:  # the value problems found already say why; otherwise say something
            problems.append("the content cannot be written as canonical JSON")
    return None


def _signature_problems(
    signature: object, signed_hash: str | None, given_key: Ed25519PublicKey | None
) -> list[str]:
    if not isinstance(signature, dict):
        return ["the signature is not an object with algorithm, public_key and value"]
    if signature.get("algorithm") != "ed25519":
        return [f"unknown signature algorithm {_shown(signature.get('algorithm'))}"]
    value = _decoded(signature.get("value"), _SIGNATURE_BYTES)
    if value is None:
        return ["the signature value is not base64 of a 64-byte Ed25519 signature"]
    file_key = _file_public_key(signature.get("public_key"))
    checking_key = given_key if given_key is not None else file_key
    if checking_key is None:
        return ["the public key in the signature is not base64 of a 32-byte Ed25519 key"]
    if signed_hash is None:
        return ["the signature cannot be checked because the content has no hash"]
    matches = _signature_matches(checking_key, value, signed_hash)
    if given_key is None:
        return [] if matches else ["the signature does not match"]
    same_key = file_key is not None and _raw(file_key) == _raw(given_key)
    if matches and not same_key:
        return ["the signature is by the given public key, but the file names another key"]
    if not matches and not same_key:
        return ["the file is signed, but not with the given public key"]
    return [] if matches else ["the signature does not match"]


def _signature_matches(key: Ed25519PublicKey, value: bytes, signed_hash: str) -> bool:
    try:
        key.verify(value, signed_hash.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def _file_public_key(text: object) -> Ed25519PublicKey | None:
    raw = _decoded(text, _RAW_KEY_BYTES)
    if raw is None:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def _value_problems(document: dict[Any, Any]) -> list[str]:
    """Name every value canonical JSON cannot carry faithfully (walked without recursion)."""
    problems: list[str] = []
    extra = 0
    stack: list[tuple[object, str]] = [(document, "")]
    while stack:
        value, path = stack.pop()
        problem: str | None = None
        if isinstance(value, dict):
            keys = list(value)
            if all(isinstance(key, str) for key in keys):
                keys.sort()
                stack.extend((value[key], _child(path, key)) for key in reversed(keys))
            else:
                problem = f"a key that is not a string at {path or 'the top level'}"
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value)))
            )
        elif isinstance(value, float):
            problem = f"a float at {path}"
        elif not (value is None or isinstance(value, str | int)):
            problem = f"a value that is not JSON ({type(value).__name__}) at {path}"
        if problem is not None:
            if len(problems) < _MAX_VALUE_PROBLEMS:
                problems.append(problem)
            else:
                extra += 1
    if extra:
        problems.append(f"and {extra} more value(s) like these")
    return problems


def _child(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{_shown(key)}]"


def _raw_key_bytes(text: str) -> bytes | None:
    return _decoded(text, _RAW_KEY_BYTES)


def _decoded(text: object, length: int) -> bytes | None:
    if not isinstance(text, str) or len(text) > 4 * length:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == length else None


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _loads_canonical(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _is_hex_sha256(value: object) -> bool:
    return isinstance(value, str) and _HEX_SHA256.fullmatch(value) is not None


def _describe(document: object, position: int) -> str:
    name = None
    if isinstance(document, dict) and isinstance(document.get("release"), dict):
        name = document["release"].get("name")
    if isinstance(name, str):
        return f"snapshot {position} (release {_shown(name)})"
    return f"snapshot {position}"


def _short(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str) and _is_hex_sha256(value):
        return f"{value[:16]}…"
    return _shown(value)


def _shown(value: object, limit: int = 80) -> str:
    """Return repr() of a value from the file, cut short: it is untrusted and may be huge."""
    if isinstance(value, dict | list):
        return _json_kind(value)
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _key_kind(key: object) -> str:
    return f"an {type(key).__name__.removesuffix('PrivateKey').removesuffix('PublicKey')} key"
