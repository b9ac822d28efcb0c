"""Sealing and verifying release snapshots: hash, signature, chain and hostile input."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tracker.domain.canonical import canonical_json, sha256_hex
from tracker.domain.snapshot import (
    SNAPSHOT_FORMAT,
    SnapshotError,
    load_private_key,
    load_public_key,
    seal,
    verify,
    verify_chain,
)

CHANGED = (
    "the content does not match its hash: something in the file was changed after it was frozen"
)


def release_document() -> dict[str, Any]:
    return {
        "release": {"name": "2024.06", "frozen_at": "2024-06-01T12:00:00.000000Z"},
        "obligations": [
            {"id": "GDPR-17.1", "status": "met", "tests": ["a::b", "a::c"], "waived": False},
            {"id": "GDPR-30.1", "status": "failing", "tests": [], "waived": None},
            {"id": "CCPA-1798.100", "status": "met", "days": 45, "note": "Zürich ✓"},
        ],
    }


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_seal_adds_format_previous_hash_and_hash_without_changing_the_input() -> None:
    document = release_document()
    original = copy.deepcopy(document)
    sealed = seal(document, previous_hash=None)
    assert document == original
    assert set(sealed) == {*document, "format", "previous_hash", "hash"}
    assert sealed["format"] == SNAPSHOT_FORMAT
    assert sealed["previous_hash"] is None
    content = {key: value for key, value in sealed.items() if key != "hash"}
    assert sealed["hash"] == sha256_hex(canonical_json(content))


def test_sealed_copy_is_independent_of_the_input() -> None:
    document = release_document()
    sealed = seal(document, previous_hash=None)
    document["obligations"][0]["status"] = "failing"
    assert verify(sealed).ok


def test_a_sealed_unsigned_document_verifies() -> None:
    check = verify(seal(release_document(), previous_hash=None))
    assert check.ok
    assert check.problems == ()
    assert check.signed is False
    assert check.signature_checked_against == "no signature"


def test_verified_hash_is_the_hash_of_the_content() -> None:
    sealed = seal(release_document(), previous_hash="a" * 64)
    assert verify(sealed).hash == sealed["hash"]


def test_canonical_form_does_not_depend_on_dict_key_order() -> None:
    document = release_document()
    reordered = {key: document[key] for key in reversed(list(document))}
    reordered["obligations"] = [
        {key: entry[key] for key in reversed(list(entry))} for entry in document["obligations"]
    ]
    assert seal(reordered, previous_hash=None)["hash"] == seal(document, previous_hash=None)["hash"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["obligations"][0].update(status="failing"), id="value changed"),
        pytest.param(lambda d: d["obligations"][2].update(days=46), id="integer changed"),
        pytest.param(lambda d: d["obligations"][0].update(waived=0), id="bool to int"),
        pytest.param(lambda d: d["release"].update(name="2024.06 "), id="string changed"),
        pytest.param(lambda d: d["obligations"][1].pop("waived"), id="key removed"),
        pytest.param(lambda d: d["release"].update(extra=1), id="key added"),
        pytest.param(lambda d: d.update(comment="fine"), id="top-level key added"),
        pytest.param(lambda d: d["obligations"].reverse(), id="list reordered"),
        pytest.param(lambda d: d["obligations"][0]["tests"].reverse(), id="inner list reordered"),
        pytest.param(lambda d: d["obligations"].pop(), id="list truncated"),
        pytest.param(lambda d: d.pop("release"), id="section removed"),
        pytest.param(lambda d: d.update(previous_hash="b" * 64), id="previous hash changed"),
    ],
)
def test_any_change_after_sealing_breaks_the_hash(change: Any) -> None:
    sealed = seal(release_document(), previous_hash="a" * 64)
    change(sealed)
    check = verify(sealed)
    assert not check.ok
    assert check.problems == (CHANGED,)


def test_a_removed_hash_is_reported() -> None:
    sealed = seal(release_document(), previous_hash=None)
    del sealed["hash"]
    assert verify(sealed).problems == ("the snapshot has no hash",)


def test_a_changed_format_is_an_unknown_format() -> None:
    sealed = seal(release_document(), previous_hash=None)
    sealed["format"] = "x"
    assert verify(sealed).problems[0] == "unknown format 'x'"


def test_a_snapshot_signed_and_checked_with_the_right_public_key_verifies(
    signing_key: Ed25519PrivateKey,
) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    check = verify(sealed, public_key=signing_key.public_key())
    assert check.ok, check.problems
    assert check.signed
    assert check.signature_checked_against == "the given public key"


def test_signature_shape_is_algorithm_raw_public_key_and_value(
    signing_key: Ed25519PrivateKey,
) -> None:
    signature = seal(release_document(), previous_hash=None, signing_key=signing_key)["signature"]
    assert signature["algorithm"] == "ed25519"
    assert len(base64.b64decode(signature["public_key"], validate=True)) == 32
    assert len(base64.b64decode(signature["value"], validate=True)) == 64


def test_without_a_given_key_the_signature_is_checked_against_the_key_in_the_file(
    signing_key: Ed25519PrivateKey,
) -> None:
    check = verify(seal(release_document(), previous_hash=None, signing_key=signing_key))
    assert check.ok
    assert check.signature_checked_against == "the key in the file"


def test_a_snapshot_signed_with_another_key_fails_against_the_given_public_key(
    signing_key: Ed25519PrivateKey,
) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    other = Ed25519PrivateKey.generate().public_key()
    check = verify(sealed, public_key=other)
    assert not check.ok
    assert check.problems == ("the file is signed, but not with the given public key",)


def test_a_re_signed_tampered_snapshot_fails_against_the_trusted_key(
    signing_key: Ed25519PrivateKey,
) -> None:
    tampered = release_document()
    tampered["obligations"][1]["status"] = "met"
    forged = seal(tampered, previous_hash=None, signing_key=Ed25519PrivateKey.generate())
    assert verify(forged).ok  # consistent in itself: only a trusted key tells the forgery apart
    assert not verify(forged, public_key=signing_key.public_key()).ok


def test_a_changed_signature_value_does_not_match(signing_key: Ed25519PrivateKey) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    other = seal({"other": 1}, previous_hash=None, signing_key=signing_key)
    sealed["signature"]["value"] = other["signature"]["value"]
    for public_key in (None, signing_key.public_key()):
        assert verify(sealed, public_key=public_key).problems == ("the signature does not match",)


def test_content_changed_in_a_signed_snapshot_is_reported_as_changed(
    signing_key: Ed25519PrivateKey,
) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    sealed["obligations"][0]["status"] = "failing"
    check = verify(sealed, public_key=signing_key.public_key())
    assert check.problems == (CHANGED,)


def test_a_hash_recomputed_after_tampering_breaks_the_signature(
    signing_key: Ed25519PrivateKey,
) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    sealed["obligations"][0]["status"] = "failing"
    content = {key: value for key, value in sealed.items() if key not in ("hash", "signature")}
    sealed["hash"] = sha256_hex(canonical_json(content))
    assert verify(sealed).problems == ("the signature does not match",)


def test_a_replaced_public_key_in_the_file_is_reported(signing_key: Ed25519PrivateKey) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    other = seal({"x": 1}, previous_hash=None, signing_key=Ed25519PrivateKey.generate())
    sealed["signature"]["public_key"] = other["signature"]["public_key"]
    assert verify(sealed).problems == ("the signature does not match",)
    assert verify(sealed, public_key=signing_key.public_key()).problems == (
        "the signature is by the given public key, but the file names another key",
    )


def test_an_unsigned_snapshot_fails_when_a_public_key_is_given(
    signing_key: Ed25519PrivateKey,
) -> None:
    check = verify(
        seal(release_document(), previous_hash=None), public_key=signing_key.public_key()
    )
    assert not check.ok
    assert check.problems == ("a public key was given but the snapshot is not signed",)
    assert check.signed is False


def test_a_float_is_refused_when_sealing_and_named_by_its_path() -> None:
    document = release_document()
    document["obligations"][2]["duration"] = 1.5
    with pytest.raises(SnapshotError, match=r"a float at obligations\[2\]\.duration"):
        seal(document, previous_hash=None)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"ratio": float("nan")}, "a float at ratio"),
        ({"a": [[1, 2.0]]}, r"a float at a\[0\]\[1\]"),
        ({"odd key": {"x": 0.1}}, r"a float at \['odd key'\]\.x"),
        ({1: "x"}, "a key that is not a string at the top level"),
        ({"tags": ("a", "b")}, r"a value that is not JSON \(tuple\) at tags"),
        ({"when": {1, 2}}, r"a value that is not JSON \(set\) at when"),
    ],
)
def test_values_that_do_not_round_trip_are_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        seal(document, previous_hash=None)


def test_a_float_in_a_file_is_a_problem_with_its_path() -> None:
    sealed = seal(release_document(), previous_hash=None)
    sealed["obligations"][2]["x"] = 2.5
    check = verify(sealed)
    assert "a float at obligations[2].x" in check.problems


def test_a_document_that_already_carries_seal_keys_is_refused() -> None:
    with pytest.raises(SnapshotError, match="already has hash"):
        seal({"hash": "x"}, previous_hash=None)


def test_a_malformed_previous_hash_is_refused() -> None:
    with pytest.raises(SnapshotError, match="previous_hash"):
        seal({}, previous_hash="not a hash")


@pytest.mark.parametrize(
    "hostile",
    [
        [],
        "x",
        5,
        None,
        True,
        {},
        {"format": 5},
        {"format": [SNAPSHOT_FORMAT]},
        {"hash": None},
        {"format": SNAPSHOT_FORMAT},
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": None},
        {"format": SNAPSHOT_FORMAT, "previous_hash": 7, "hash": "ab"},
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": "é" * 64},
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": "0" * 64, "signature": None},
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": "0" * 64, "signature": []},
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": "0" * 64, "signature": {}},
        {"format": SNAPSHOT_FORMAT, "x": float("inf")},
        {"format": SNAPSHOT_FORMAT, 3: "x", None: "y"},
        {"format": SNAPSHOT_FORMAT, "x": object()},
    ],
)
def test_hostile_input_is_not_ok_and_never_raises(hostile: object) -> None:
    for public_key in (None, Ed25519PrivateKey.generate().public_key()):
        check = verify(hostile, public_key=public_key)
        assert not check.ok
        assert check.problems
        assert all(isinstance(problem, str) and problem for problem in check.problems)


def test_a_deeply_nested_document_is_a_problem_not_a_crash() -> None:
    nested: Any = "bottom"
    for _ in range(100_000):
        nested = [nested]
    check = verify(
        {"format": SNAPSHOT_FORMAT, "previous_hash": None, "hash": "0" * 64, "x": nested}
    )
    assert not check.ok


def test_non_json_values_do_not_hide_behind_a_sealed_hash() -> None:
    sealed = seal(release_document(), previous_hash=None)
    sealed["obligations"][0]["tests"] = ("a::b", "a::c")  # the same canonical JSON as the list
    assert verify(sealed).problems == ("a value that is not JSON (tuple) at obligations[0].tests",)


def test_a_document_without_format_is_not_a_snapshot() -> None:
    assert verify({"hash": None}).problems == ("the file is not a snapshot (no format)",)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("algorithm", "rsa", "unknown signature algorithm 'rsa'"),
        ("algorithm", None, "unknown signature algorithm None"),
        ("value", "***not base64***", "the signature value is not base64"),
        ("value", base64.b64encode(b"short").decode(), "the signature value is not base64"),
        ("value", 12, "the signature value is not base64"),
        ("value", "é", "the signature value is not base64"),
        ("public_key", "%%%", "the public key in the signature is not base64"),
        ("public_key", base64.b64encode(b"x" * 31).decode(), "the public key in the signature"),
        ("public_key", ["a"], "the public key in the signature is not base64"),
    ],
)
def test_a_malformed_signature_is_a_problem(
    signing_key: Ed25519PrivateKey, field: str, value: object, message: str
) -> None:
    sealed = seal(release_document(), previous_hash=None, signing_key=signing_key)
    sealed["signature"][field] = value
    check = verify(sealed)
    assert not check.ok
    assert check.signed
    assert check.problems[0].startswith(message)


def test_a_chain_of_snapshots_each_pointing_at_the_one_before_has_no_problem() -> None:
    first = seal({"release": {"name": "1"}}, previous_hash=None)
    second = seal({"release": {"name": "2"}}, previous_hash=first["hash"])
    third = seal({"release": {"name": "3"}}, previous_hash=second["hash"])
    assert verify_chain([first, second, third]) == ()
    assert verify_chain([first]) == ()
    assert verify_chain([]) == ()


def test_a_chain_with_a_snapshot_left_out_or_reordered_is_reported_in_chain_order() -> None:
    first = seal({"release": {"name": "1"}}, previous_hash=None)
    second = seal({"release": {"name": "2"}}, previous_hash=first["hash"])
    third = seal({"release": {"name": "3"}}, previous_hash=second["hash"])
    (problem,) = verify_chain([first, third])
    assert problem.startswith("snapshot 2 (release '3') does not follow snapshot 1 (release '1')")
    assert second["hash"][:16] in problem and first["hash"][:16] in problem
    problems = verify_chain([second, first, third])
    assert [problem.split(" does")[0] for problem in problems] == [
        "snapshot 2 (release '1')",
        "snapshot 3 (release '3')",
    ]


def test_a_chain_starting_anew_with_a_null_previous_hash_is_reported() -> None:
    first = seal({"n": 1}, previous_hash=None)
    restart = seal({"n": 2}, previous_hash=None)
    (problem,) = verify_chain([first, restart])
    assert "its previous_hash is null" in problem


def test_chain_check_tolerates_documents_without_hashes() -> None:
    problems = verify_chain([{}, {"previous_hash": 5}, "x"])  # type: ignore[list-item]
    assert len(problems) == 2


def test_keys_load_from_pem_and_from_base64_of_the_raw_bytes(
    signing_key: Ed25519PrivateKey,
) -> None:
    private_pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    private_raw = signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_pem = (
        signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    public_raw = signing_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    sealed = seal({"n": 1}, previous_hash=None, signing_key=load_private_key(private_pem))
    again = seal(
        {"n": 1},
        previous_hash=None,
        signing_key=load_private_key(base64.b64encode(private_raw).decode()),
    )
    assert sealed == again  # Ed25519 signatures are deterministic
    for public_text in (public_pem, f"  {base64.b64encode(public_raw).decode()}\n"):
        assert verify(sealed, public_key=load_public_key(public_text)).ok


@pytest.mark.parametrize(
    "text",
    ["", "not a key", "AAAA", base64.b64encode(b"x" * 33).decode(), "-----BEGIN garbage-----"],
)
def test_unreadable_keys_raise_a_snapshot_error(text: str) -> None:
    with pytest.raises(SnapshotError, match="key"):
        load_private_key(text)
    with pytest.raises(SnapshotError, match="key"):
        load_public_key(text)


def test_keys_of_another_algorithm_are_refused() -> None:
    other = generate_private_key(SECP256R1())
    private_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        other.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(SnapshotError, match="not Ed25519"):
        load_private_key(private_pem)
    with pytest.raises(SnapshotError, match="not Ed25519"):
        load_public_key(public_pem)


def test_an_encrypted_private_key_is_refused_with_a_clear_message(
    signing_key: Ed25519PrivateKey,
) -> None:
    encrypted = signing_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(SnapshotError, match="encrypted"):
        load_private_key(encrypted)
