"""The OSCAL assessment-results export of a release snapshot, validated with trestle's models."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from trestle.oscal import OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import AssessmentResults

from tracker.integrations.oscal import (
    OSCAL_VERSION,
    assessment_results,
    obligation_token,
    oscal_datetime,
)

SNAPSHOT_HASH = "9f2c4e1b7a3d5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
# OSCAL's token (an XML NCName, ASCII part): what every control-id and target-id must match.
TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def make_snapshot() -> dict[str, Any]:
    return {
        "format": "privacy-tracker-snapshot/1",
        "hash": SNAPSHOT_HASH,
        "previous_hash": "1" * 64,
        "frozen_at": "2026-12-01T18:00:00.000000Z",
        "frozen_by": {"name": "cora@example.com", "role": "compliance"},
        "release": {"name": "2026.12", "release_date": "2026-12-15"},
        "catalog_fingerprint": "c" * 64,
        "verdict": "blocked",
        "gate": {"unknown": "keys are ignored"},
        "obligations": [
            {
                "id": "GDPR-17.1",
                "instrument": "GDPR",
                "citation": "Art. 17(1)",
                "title": "Right to erasure",
                "version": 2,
                "fingerprint": "a" * 64,
                "status": "VERIFIED",
                "implementation": "done",
                "verification": "passing",
                "signoff": "signed",
                "verdict": "VERIFIED",
                "blocking": False,
                "explanation": [
                    "PRIV-1 is Done in fix version 2026.12.",
                    "2 linked tests passed in run 3.",
                ],
                "work_items": [
                    {
                        "key": "PRIV-1",
                        "status": "Done",
                        "status_category": "done",
                        "fix_versions": ["2026.12"],
                        "url": "https://jira.example/browse/PRIV-1",
                    }
                ],
                "tests": [
                    {
                        "test_id": "erasure/TestErase/test_account_deleted",
                        "outcome": "passed",
                        "run_id": 3,
                        "commit": "abc1234",
                        "content_hash": "d" * 64,
                    },
                    {
                        "test_id": "erasure/TestErase/test_backups_expire",
                        "outcome": "passed",
                        "run_id": 3,
                        "commit": None,
                        "content_hash": "e" * 64,
                    },
                ],
            },
            {
                "id": "CCPA 1798.105(c)",
                "instrument": "CCPA",
                "citation": "Cal. Civ. Code § 1798.105(c)",
                "title": "Delete on verified request",
                "version": 1,
                "fingerprint": "b" * 64,
                "status": "GAP",
                "implementation": "none",
                "verification": "none",
                "signoff": "missing",
                "verdict": "GAP",
                "blocking": True,
                "explanation": ["No work item is linked.", "No test is linked."],
                "work_items": [],
                "tests": [],
            },
            {
                "id": "LGPD-18.IV",
                "instrument": "LGPD",
                "citation": "Art. 18(IV)",
                "title": "Anonymisation on request",
                "version": 1,
                "fingerprint": "f" * 64,
                "status": "PLANNED",
                "implementation": "planned",
                "verification": "none",
                "signoff": "not required",
                "verdict": "EXCEPTED",
                "blocking": False,
                "explanation": ["Exception EX-4 approved by dana@example.com until 2027-03-31."],
                "work_items": [
                    {
                        "key": "PRIV-9",
                        "status": "To Do",
                        "status_category": "new",
                        "fix_versions": [],
                        "url": None,
                    }
                ],
                "tests": [],
            },
        ],
    }


def validated(document: dict[str, Any]) -> AssessmentResults:
    return AssessmentResults.model_validate(document["assessment-results"])


def findings_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = document["assessment-results"]["results"][0]
    return {
        prop["value"]: finding
        for finding in result["findings"]
        for prop in finding["props"]
        if prop["name"] == "obligation-id"
    }


def test_export_is_valid_oscal_assessment_results() -> None:
    document = assessment_results(make_snapshot(), tracker_url="https://tracker.example")

    model = validated(document)

    assert re.match(OSCAL_VERSION_REGEX, OSCAL_VERSION)
    assert model.metadata.title == "Privacy obligations of release 2026.12"
    assert model.metadata.version == SNAPSHOT_HASH[:12]
    assert document["assessment-results"]["metadata"]["last-modified"] == "2026-12-01T18:00:00Z"
    assert model.import_ap.href == "https://tracker.example"
    assert len(model.results) == 1
    assert len(model.results[0].findings or []) == 3
    assert len(model.results[0].observations or []) == 3


def test_export_survives_a_json_round_trip_and_trestle_serialization() -> None:
    document = assessment_results(make_snapshot())

    reparsed = json.loads(json.dumps(document))
    model = validated(reparsed)

    assert reparsed == document
    assert (
        json.loads(model.oscal_serialize_json(wrapped=False))["uuid"]
        == (document["assessment-results"]["uuid"])
    )
    assert document["assessment-results"]["import-ap"]["href"] == "#"


def test_verified_and_excepted_obligations_are_satisfied_and_a_blocking_gap_is_not() -> None:
    findings = findings_by_id(assessment_results(make_snapshot()))

    states = {key: finding["target"]["status"]["state"] for key, finding in findings.items()}

    assert states == {
        "GDPR-17.1": "satisfied",
        "CCPA 1798.105(c)": "not-satisfied",
        "LGPD-18.IV": "satisfied",
    }


def test_blocking_obligation_is_not_satisfied_even_with_a_satisfying_verdict() -> None:
    snapshot = make_snapshot()
    snapshot["obligations"][2]["blocking"] = True

    finding = findings_by_id(assessment_results(snapshot))["LGPD-18.IV"]

    assert finding["target"]["status"]["state"] == "not-satisfied"


def test_finding_carries_title_explanation_and_status_axes() -> None:
    finding = findings_by_id(assessment_results(make_snapshot()))["GDPR-17.1"]

    props = {prop["name"]: prop["value"] for prop in finding["props"]}

    assert finding["title"] == "GDPR-17.1 Right to erasure"
    assert "PRIV-1 is Done" in finding["description"]
    assert "2 linked tests passed" in finding["description"]
    assert finding["target"]["type"] == "objective-id"
    assert finding["target"]["target-id"] == "gdpr-17.1"
    assert props == {
        "obligation-id": "GDPR-17.1",
        "instrument": "GDPR",
        "citation": "Art. 17(1)",
        "obligation-version": "2",
        "obligation-fingerprint": "a" * 64,
        "status": "VERIFIED",
        "implementation": "done",
        "verification": "passing",
        "sign-off": "signed",
        "verdict": "VERIFIED",
        "blocking": "false",
    }


def test_observations_name_their_evidence_and_method() -> None:
    document = assessment_results(make_snapshot())
    result = document["assessment-results"]["results"][0]
    observations: dict[str, dict[str, Any]] = {
        item["uuid"]: item for item in result["observations"]
    }
    findings = findings_by_id(document)

    def observation_of(key: str) -> dict[str, Any]:
        return observations[findings[key]["related-observations"][0]["observation-uuid"]]

    verified = observation_of("GDPR-17.1")
    gap = observation_of("CCPA 1798.105(c)")
    excepted = observation_of("LGPD-18.IV")

    assert verified["methods"] == ["TEST"]
    assert verified["collected"] == "2026-12-01T18:00:00Z"
    evidence = verified["relevant-evidence"]
    assert evidence[0]["href"] == "https://jira.example/browse/PRIV-1"
    assert "PRIV-1" in evidence[0]["description"]
    assert evidence[1]["description"] == (
        "Test erasure/TestErase/test_account_deleted: passed in run 3 at commit abc1234; "
        f"report content hash {'d' * 64}."
    )
    assert "at commit unknown" in evidence[2]["description"]
    assert gap["methods"] == ["EXAMINE"]
    assert "relevant-evidence" not in gap
    assert excepted["methods"] == ["EXAMINE"]
    assert "href" not in excepted["relevant-evidence"][0]


def test_export_is_deterministic() -> None:
    first = assessment_results(make_snapshot(), tracker_url="https://tracker.example")
    second = assessment_results(make_snapshot(), tracker_url="https://tracker.example")

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first == second


def test_identifiers_follow_the_snapshot_hash() -> None:
    snapshot = make_snapshot()
    other = copy.deepcopy(snapshot)
    other["hash"] = "0" * 64

    first = assessment_results(snapshot)["assessment-results"]
    second = assessment_results(other)["assessment-results"]

    assert first["uuid"] != second["uuid"]
    first_findings = [finding["uuid"] for finding in first["results"][0]["findings"]]
    second_findings = [finding["uuid"] for finding in second["results"][0]["findings"]]
    assert len(set(first_findings)) == 3
    assert set(first_findings).isdisjoint(second_findings)


def test_obligation_ids_are_made_valid_oscal_tokens() -> None:
    snapshot = make_snapshot()
    snapshot["obligations"][2]["id"] = "18 LGPD/IV"
    document = assessment_results(snapshot)
    validated(document)
    result = document["assessment-results"]["results"][0]

    control_ids = [
        item["control-id"]
        for item in result["reviewed-controls"]["control-selections"][0]["include-controls"]
    ]
    target_ids = [finding["target"]["target-id"] for finding in result["findings"]]

    assert control_ids == target_ids
    assert all(TOKEN.match(token) for token in control_ids)
    assert control_ids[0] == "gdpr-17.1"
    assert control_ids[1].startswith("ccpa_1798.105_c_-")
    assert control_ids[2].startswith("_18_lgpd_iv-")


def test_ids_differing_only_in_forbidden_characters_get_distinct_tokens() -> None:
    assert obligation_token("CCPA 1798(a)") != obligation_token("CCPA 1798_a_")
    assert obligation_token("CCPA-1798.a") == "ccpa-1798.a"


def test_ids_that_collide_as_tokens_are_rejected() -> None:
    snapshot = make_snapshot()
    snapshot["obligations"][1]["id"] = "gdpr-17.1"

    with pytest.raises(ValueError, match="share the OSCAL token"):
        assessment_results(snapshot)


def test_timestamps_become_utc_oscal_date_times() -> None:
    assert oscal_datetime("2026-12-01T18:00:00.000000Z") == "2026-12-01T18:00:00Z"
    assert oscal_datetime("2026-12-01T19:00:00.250000+01:00") == "2026-12-01T18:00:00.250000Z"
    with pytest.raises(ValueError, match="no time zone"):
        oscal_datetime("2026-12-01T18:00:00")


def test_snapshot_without_obligations_is_rejected() -> None:
    snapshot = make_snapshot()
    snapshot["obligations"] = []

    with pytest.raises(ValueError, match="no obligations"):
        assessment_results(snapshot)
