"""Export of a frozen release snapshot as an OSCAL assessment-results document for GRC tools."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tracker.domain.timestamps import rfc3339_utc

# The version that the OSCAL models used to validate the export (compliance-trestle 5.x) accept.
OSCAL_VERSION = "1.2.1"
NAMESPACE = "https://privacy-tracker.example/ns/oscal"
SATISFIED_VERDICTS = frozenset({"VERIFIED", "EXCEPTED", "NOT_APPLICABLE"})
PLACEHOLDER_PLAN_HREF = "#"

# Every identifier is a name-based UUID under this namespace, so one snapshot always exports
# one document, byte for byte.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)
_TOKEN_START = re.compile(r"[A-Za-z_]")
_TOKEN_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.\-]+")
_OBLIGATION_PROPS = (
    ("instrument", "instrument"),
    ("citation", "citation"),
    ("version", "obligation-version"),
    ("fingerprint", "obligation-fingerprint"),
    ("status", "status"),
    ("implementation", "implementation"),
    ("verification", "verification"),
    ("signoff", "sign-off"),
    ("verdict", "verdict"),
)


def assessment_results(
    snapshot: Mapping[str, Any], *, tracker_url: str | None = None
) -> dict[str, Any]:
    """Return the snapshot as an OSCAL assessment-results document (a JSON-ready dict)."""
    snapshot_hash = _required_text(snapshot, "hash")
    frozen_at = oscal_datetime(_required_text(snapshot, "frozen_at"))
    release = _mapping(snapshot.get("release"))
    release_name = _required_text(release, "name", where="release")
    obligations = [_mapping(item) for item in _sequence(snapshot.get("obligations"))]
    if not obligations:
        raise ValueError("the snapshot lists no obligations; OSCAL results need a reviewed control")
    tokens = _obligation_tokens(obligations)

    findings: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    for obligation, token in zip(obligations, tokens, strict=True):
        observation = _observation(obligation, snapshot_hash=snapshot_hash, collected=frozen_at)
        observations.append(observation)
        findings.append(
            _finding(
                obligation,
                token=token,
                snapshot_hash=snapshot_hash,
                observation_uuid=observation["uuid"],
            )
        )

    document: dict[str, Any] = {
        "uuid": _uuid(snapshot_hash),
        "metadata": _metadata(snapshot, release_name=release_name, last_modified=frozen_at),
        "import-ap": {
            "href": tracker_url or PLACEHOLDER_PLAN_HREF,
            "remarks": "The tracker publishes no OSCAL assessment plan; the obligation catalog "
            "and the release gate stand in for it.",
        },
        "results": [
            {
                "uuid": _uuid(snapshot_hash, "result"),
                "title": f"Release {release_name} frozen snapshot {snapshot_hash[:12]}",
                "description": _result_description(snapshot, release_name=release_name),
                "start": frozen_at,
                "end": frozen_at,
                "props": _props(
                    [
                        ("release-verdict", snapshot.get("verdict")),
                        ("snapshot-hash", snapshot_hash),
                    ]
                ),
                "reviewed-controls": {
                    "description": "The privacy obligations in scope for the release.",
                    "control-selections": [
                        {"include-controls": [{"control-id": token} for token in tokens]}
                    ],
                },
                "observations": observations,
                "findings": findings,
            }
        ],
    }
    if tracker_url:
        document["metadata"]["links"] = [{"href": tracker_url, "rel": "related"}]
    return {"assessment-results": document}


def obligation_token(obligation_id: str) -> str:
    """Return the obligation id as an OSCAL token: lowercased, with forbidden characters replaced.

    An id that needs more than lowercasing gets a short hash of the original id as a suffix, so
    two ids that differ only in forbidden characters stay two tokens.
    """
    lowered = obligation_id.strip().lower()
    token = _TOKEN_FORBIDDEN.sub("_", lowered)
    if not token or not _TOKEN_START.match(token):
        token = f"_{token}"
    if token != lowered:
        digest = hashlib.sha256(obligation_id.encode("utf-8")).hexdigest()[:8]
        token = f"{token}-{digest}"
    return token


def oscal_datetime(value: str) -> str:
    """Return an ISO 8601 timestamp as OSCAL's date-time-with-timezone form, in UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from error
    if moment.tzinfo is None:
        raise ValueError(f"timestamp has no time zone: {value!r}")
    return rfc3339_utc(moment, fraction=True)


def _metadata(
    snapshot: Mapping[str, Any], *, release_name: str, last_modified: str
) -> dict[str, Any]:
    frozen_by = _mapping(snapshot.get("frozen_by"))
    release = _mapping(snapshot.get("release"))
    metadata: dict[str, Any] = {
        "title": _one_line(f"Privacy obligations of release {release_name}"),
        "last-modified": last_modified,
        "version": _required_text(snapshot, "hash")[:12],
        "oscal-version": OSCAL_VERSION,
    }
    props = _props(
        [
            ("snapshot-format", snapshot.get("format")),
            ("snapshot-hash", snapshot.get("hash")),
            ("previous-snapshot-hash", snapshot.get("previous_hash")),
            ("catalog-fingerprint", snapshot.get("catalog_fingerprint")),
            ("release-date", release.get("release_date")),
            ("release-verdict", snapshot.get("verdict")),
            ("frozen-by", frozen_by.get("name")),
            ("frozen-by-role", frozen_by.get("role")),
        ]
    )
    if props:
        metadata["props"] = props
    return metadata


def _result_description(snapshot: Mapping[str, Any], *, release_name: str) -> str:
    frozen_by = _mapping(snapshot.get("frozen_by"))
    who = _text(frozen_by.get("name")) or "an unknown person"
    role = _text(frozen_by.get("role"))
    if role:
        who = f"{who} ({role})"
    verdict = _text(snapshot.get("verdict")) or "unknown"
    lines = [
        f"Release {release_name} was frozen by {who}; the release verdict was {verdict}.",
        f"Snapshot hash: {_text(snapshot.get('hash'))}.",
    ]
    previous = _text(snapshot.get("previous_hash"))
    if previous:
        lines.append(f"Previous snapshot hash: {previous}.")
    fingerprint = _text(snapshot.get("catalog_fingerprint"))
    if fingerprint:
        lines.append(f"Obligation catalog fingerprint: {fingerprint}.")
    return "\n\n".join(lines)


def _finding(
    obligation: Mapping[str, Any], *, token: str, snapshot_hash: str, observation_uuid: str
) -> dict[str, Any]:
    obligation_id = _required_text(obligation, "id", where="obligation")
    verdict = _text(obligation.get("verdict"))
    blocking = obligation.get("blocking") is True
    satisfied = verdict in SATISFIED_VERDICTS and not blocking
    explanation = [_text(line) for line in _sequence(obligation.get("explanation"))]
    description = "\n\n".join(line for line in explanation if line)
    title = _text(obligation.get("title"))
    props = _props(
        [("obligation-id", obligation_id)]
        + [(name, obligation.get(key)) for key, name in _OBLIGATION_PROPS]
        + [("blocking", "true" if blocking else "false")]
    )
    return {
        "uuid": _uuid(snapshot_hash, "finding", obligation_id),
        "title": _one_line(f"{obligation_id} {title}" if title else obligation_id),
        "description": description or f"Verdict: {verdict or 'unknown'}.",
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": token,
            "status": {
                "state": "satisfied" if satisfied else "not-satisfied",
                "reason": "pass" if satisfied else "fail",
            },
        },
        "related-observations": [{"observation-uuid": observation_uuid}],
    }


def _observation(
    obligation: Mapping[str, Any], *, snapshot_hash: str, collected: str
) -> dict[str, Any]:
    obligation_id = _required_text(obligation, "id", where="obligation")
    work_items = [_mapping(item) for item in _sequence(obligation.get("work_items"))]
    tests = [_mapping(item) for item in _sequence(obligation.get("tests"))]
    evidence = [_work_item_evidence(item) for item in work_items]
    evidence += [_test_evidence(test) for test in tests]
    if evidence:
        description = (
            f"Evidence linked to {obligation_id} when the release was frozen: "
            f"{len(work_items)} work item(s) and {len(tests)} test result(s)."
        )
    else:
        description = (
            f"No work item or test result was linked to {obligation_id} "
            "when the release was frozen."
        )
    observation: dict[str, Any] = {
        "uuid": _uuid(snapshot_hash, "observation", obligation_id),
        "title": _one_line(f"Evidence for {obligation_id}"),
        "description": description,
        "methods": ["TEST"] if tests else ["EXAMINE"],
        "collected": collected,
    }
    if evidence:
        observation["relevant-evidence"] = evidence
    return observation


def _work_item_evidence(item: Mapping[str, Any]) -> dict[str, Any]:
    key = _text(item.get("key")) or "unknown"
    status = _text(item.get("status")) or "unknown status"
    category = _text(item.get("status_category"))
    fix_versions = ", ".join(_text(version) for version in _sequence(item.get("fix_versions")))
    description = f"Work item {key}: {status}"
    if category:
        description += f" (category {category})"
    description += f"; fix versions: {fix_versions or 'none'}."
    evidence: dict[str, Any] = {"description": description}
    url = _text(item.get("url"))
    if url:
        evidence["href"] = url
    return evidence


def _test_evidence(test: Mapping[str, Any]) -> dict[str, Any]:
    test_id = _text(test.get("test_id")) or "unknown test"
    outcome = _text(test.get("outcome")) or "unknown"
    run = _text(test.get("run_id")) or "unknown"
    commit = _text(test.get("commit")) or "unknown"
    content_hash = _text(test.get("content_hash")) or "unknown"
    return {
        "description": (
            f"Test {test_id}: {outcome} in run {run} at commit {commit}; "
            f"report content hash {content_hash}."
        )
    }


def _obligation_tokens(obligations: Sequence[Mapping[str, Any]]) -> list[str]:
    tokens = [
        obligation_token(_required_text(item, "id", where="obligation")) for item in obligations
    ]
    seen: dict[str, int] = {}
    for position, token in enumerate(tokens):
        if token in seen:
            raise ValueError(
                f"obligations {seen[token] + 1} and {position + 1} share the OSCAL token {token!r}"
            )
        seen[token] = position
    return tokens


def _props(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, str]]:
    props = []
    for name, raw in pairs:
        value = _text(raw)
        if value:
            props.append({"name": name, "ns": NAMESPACE, "value": value})
    return props


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join(parts)))


def _text(value: Any) -> str:
    """Return a scalar as stripped text; None and containers become the empty string."""
    if value is None or isinstance(value, Mapping | list | tuple | set):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise ValueError(f"floats have no exact export: {value!r}")
    return str(value).strip()


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _required_text(record: Mapping[str, Any], key: str, *, where: str = "snapshot") -> str:
    value = _text(record.get(key))
    if not value:
        raise ValueError(f"{where} has no {key!r}")
    return value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()
