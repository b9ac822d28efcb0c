"""The OSCAL catalog and profile of the obligation catalog, validated with trestle's models."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile

from tracker.integrations.oscal import obligation_token
from tracker.integrations.oscal_catalog import oscal_catalog
from tracker.integrations.oscal_profile import decision_state, oscal_profile
from tracker.integrations.oscal_records import (
    CatalogRecords,
    DecisionRecord,
    EvidenceRecord,
    InstrumentRecord,
    MappingRecord,
    ObligationRecord,
    ParameterRecord,
    ProposalRecord,
    RetentionRecord,
    render_json,
)

# OSCAL's token (an XML NCName, ASCII part): what every id in the documents must match.
TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
LOADED = datetime(2026, 11, 30, 9, 15, 0, 250000, tzinfo=UTC)
DECIDED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GDPR = InstrumentRecord(
    id="GDPR",
    title="Regulation (EU) 2016/679 (General Data Protection Regulation)",
    short_name="GDPR",
    jurisdiction="EU",
    official_url="https://eur-lex.europa.eu/eli/reg/2016/679/oj",
    effective_date="2018-05-25",
    attribution="Source: EUR-Lex, © European Union.",
)
HIPAA = InstrumentRecord(
    id="HIPAA",
    title="HIPAA Security Rule",
    short_name="HIPAA",
    jurisdiction="US",
    official_url="https://www.ecfr.gov/current/title-45/part-164",
)
RETENTION = InstrumentRecord(
    id="RETENTION",
    title="Retention duties from the data map",
    short_name="Retention",
    jurisdiction="ORG",
    official_url="",
)


def obligation(identifier: str, **fields: Any) -> ObligationRecord:
    values: dict[str, Any] = {
        "id": identifier,
        "instrument_id": identifier.split("-")[0],
        "citation": f"Art. {identifier.split('-')[1]}",
        "title": f"Title of {identifier}",
        "summary": f"Our summary of {identifier}, in plain words for engineers.",
        "official_url": "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        "severity": "high",
        "evidence": (EvidenceRecord("automated_test", "A test erases the account."),),
        "fingerprint": "a" * 64,
    }
    values.update(fields)
    return ObligationRecord(**values)


def records() -> CatalogRecords:
    return CatalogRecords(
        instruments=(GDPR, HIPAA, RETENTION),
        obligations=(
            obligation(
                "GDPR-17",
                title="Right to erasure",
                assessable=False,
                severity=None,
                evidence=(),
            ),
            obligation(
                "GDPR-17.1",
                parent_id="GDPR-17",
                title="Right to erasure ('right to be forgotten')",
                tags=("dsr", "erasure"),
                applicability={"roles": ("controller",), "jurisdictions": ("EU", "EEA")},
                parameters=(
                    ParameterRecord("response_deadline", 30.0, "days", "One month, in days."),
                    ParameterRecord("extension_ratio", 1.5, "percent"),
                ),
                evidence=(
                    EvidenceRecord("automated_test", "A test erases the account everywhere."),
                    EvidenceRecord("document", "The erasure runbook names every store."),
                ),
                mappings=(
                    MappingRecord("HIPAA-164.312(a)(1)", "intersects-with", "Access, not erasure."),
                    MappingRecord("GDPR-99.9", "equivalent-to"),  # not in the catalog
                ),
                owner="legal@example.com",
                review_every_days=365,
                version=3,
            ),
            obligation("GDPR-17.2", parent_id="GDPR-17", title="Tell other controllers"),
            obligation(
                "GDPR-30.1",
                title="Records of processing activities",
                status="retired",  # left out, and its child moves up
            ),
            obligation("GDPR-30.1.a", parent_id="GDPR-30.1", title="Name of the controller"),
            obligation(
                "HIPAA-164.312(a)(1)",
                title="Access control",
                official_url="https://www.ecfr.gov/current/title-45/section-164.312",
            ),
            obligation(
                "RETENTION-user.contact.email.crm",
                title="Delete user.contact.email from crm after 2 years",
                official_url="",
                retention=RetentionRecord(
                    data_category="user.contact.email",
                    system_id="crm",
                    period="2 years",
                    period_days=730,
                    trigger="account closed",
                    activities=("sign-up", "support"),
                ),
            ),
        ),
        last_modified=LOADED,
    )


def catalog_document(source: CatalogRecords | None = None) -> dict[str, Any]:
    document = oscal_catalog(source or records())
    Catalog.model_validate(document["catalog"])
    return document["catalog"]


def controls(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from controls(item.get("controls", []))


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        control["id"]: control
        for group in document["groups"]
        for control in controls(group["controls"])
    }


def props(item: dict[str, Any], name: str) -> list[str]:
    return [prop["value"] for prop in item.get("props", []) if prop["name"] == name]


def decision(obligation_id: str, not_applicable: bool, **fields: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "obligation_id": obligation_id,
        "not_applicable": not_applicable,
        "justification": "We run no health feature in the US.",
        "decided_by": "lena@example.com",
        "decided_role": "legal",
        "decided_at": DECIDED,
    }
    values.update(fields)
    return DecisionRecord(**values)


# --- the catalog ------------------------------------------------------------------------------


def test_catalog_has_one_group_per_instrument_with_its_jurisdiction_and_official_text() -> None:
    document = catalog_document()
    groups = {group["id"]: group for group in document["groups"]}
    assert list(groups) == ["gdpr", "hipaa", "retention"]
    gdpr = groups["gdpr"]
    assert gdpr["title"] == GDPR.title
    assert props(gdpr, "jurisdiction") == ["EU"]
    assert props(gdpr, "label") == ["GDPR"]
    assert props(gdpr, "effective-date") == ["2018-05-25"]
    assert gdpr["links"] == [
        {"href": GDPR.official_url, "rel": "reference", "text": "Official text"}
    ]
    assert gdpr["parts"][0]["prose"] == GDPR.attribution
    assert document["metadata"]["oscal-version"] == "1.2.1"
    assert document["metadata"]["last-modified"] == "2026-11-30T09:15:00.250000Z"


def test_children_are_nested_under_their_parent_and_retired_entries_are_left_out() -> None:
    document = catalog_document()
    gdpr = document["groups"][0]
    assert [control["id"] for control in gdpr["controls"]] == ["gdpr-17", "gdpr-30.1.a"]
    parent = gdpr["controls"][0]
    assert parent["class"] == "grouping"
    assert [child["id"] for child in parent["controls"]] == ["gdpr-17.1", "gdpr-17.2"]
    assert "gdpr-30.1" not in by_id(document)
    assert props(by_id(document)["gdpr-17.1"], "assessable") == ["true"]


def test_every_id_is_an_oscal_token_and_matches_the_assessment_results_target_ids() -> None:
    document = catalog_document()
    found = by_id(document)
    hipaa = obligation_token("HIPAA-164.312(a)(1)")
    assert hipaa in found and hipaa.startswith("hipaa-164.312_a_1_-")
    assert props(found[hipaa], "label") == ["HIPAA-164.312(a)(1)"]
    ids = [group["id"] for group in document["groups"]]
    for control in found.values():
        ids.append(control["id"])
        ids += [part["id"] for part in control["parts"]]
        ids += [param["id"] for param in control.get("params", [])]
    assert all(TOKEN.match(identifier) for identifier in ids), ids
    assert len(ids) == len(set(ids))


def test_a_control_carries_the_obligations_props_params_statement_and_evidence() -> None:
    control = by_id(catalog_document())["gdpr-17.1"]
    assert control["title"] == "Right to erasure ('right to be forgotten')"
    assert props(control, "citation") == ["Art. 17.1"]
    assert props(control, "severity") == ["high"]
    assert props(control, "status") == ["active"]
    assert props(control, "tag") == ["dsr", "erasure"]
    assert props(control, "evidence-type") == ["automated_test", "document"]
    assert props(control, "applicability-role") == ["controller"]
    assert props(control, "applicability-jurisdiction") == ["EU", "EEA"]
    assert props(control, "owner") == ["legal@example.com"]
    assert props(control, "review-every-days") == ["365"]
    assert props(control, "obligation-version") == ["3"]
    assert control["params"] == [
        {
            "id": "gdpr-17.1_prm_response_deadline",
            "props": [
                {"name": "unit", "ns": "https://privacy-tracker.example/ns/oscal", "value": "days"}
            ],
            "label": "response deadline",
            "values": ["30"],
            "usage": "One month, in days.",
        },
        {
            "id": "gdpr-17.1_prm_extension_ratio",
            "props": [
                {
                    "name": "unit",
                    "ns": "https://privacy-tracker.example/ns/oscal",
                    "value": "percent",
                }
            ],
            "label": "extension ratio",
            "values": ["1.5"],
        },
    ]
    statement, *guidance = control["parts"]
    assert statement == {
        "id": "gdpr-17.1_smt",
        "name": "statement",
        "prose": "Our summary of GDPR-17.1, in plain words for engineers.",
    }
    assert [(part["name"], part["prose"]) for part in guidance] == [
        ("guidance", "A test erases the account everywhere."),
        ("guidance", "The erasure runbook names every store."),
    ]
    assert [props(part, "evidence-type") for part in guidance] == [["automated_test"], ["document"]]


def test_mappings_are_links_whose_rel_is_the_relationship_to_a_control_in_the_catalog() -> None:
    control = by_id(catalog_document())["gdpr-17.1"]
    assert control["links"] == [
        {
            "href": "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
            "rel": "reference",
            "text": "Official text",
        },
        {
            "href": "#" + obligation_token("HIPAA-164.312(a)(1)"),
            "rel": "intersects-with",
            "text": "Access, not erasure.",
        },
    ]


def test_retention_duties_are_their_own_group_with_what_and_where_they_keep() -> None:
    document = catalog_document()
    group = document["groups"][2]
    assert group["class"] == "retention-duties"
    assert props(group, "derived-from") == ["data map retention rules"]
    assert "links" not in group  # no official text for a duty the tracker made
    (control,) = group["controls"]
    assert props(control, "data-category") == ["user.contact.email"]
    assert props(control, "system") == ["crm"]
    assert props(control, "retention-period") == ["2 years"]
    assert props(control, "retention-period-days") == ["730"]
    assert props(control, "retention-trigger") == ["account closed"]
    assert props(control, "processing-activity") == ["sign-up", "support"]
    assert "links" not in control


def test_the_same_catalog_exports_the_same_bytes_and_a_change_makes_a_new_version() -> None:
    first = render_json(oscal_catalog(records()))
    assert render_json(oscal_catalog(records())) == first
    changed = records()
    changed = replace(
        changed,
        obligations=tuple(
            replace(ob, summary=ob.summary + " Now stricter.") if ob.id == "GDPR-17.2" else ob
            for ob in changed.obligations
        ),
    )
    before, after = json.loads(first)["catalog"], oscal_catalog(changed)["catalog"]
    assert after["uuid"] != before["uuid"]
    assert after["metadata"]["version"] != before["metadata"]["version"]
    # Loaded again at another time, the same content keeps its uuid and version.
    later = oscal_catalog(replace(records(), last_modified=DECIDED))["catalog"]
    assert (later["uuid"], later["metadata"]["version"]) == (
        before["uuid"],
        before["metadata"]["version"],
    )


def test_text_with_line_breaks_becomes_valid_one_line_titles_and_props() -> None:
    source = records()
    source = replace(
        source,
        obligations=(obligation("GDPR-5", title="Principles\nof processing", tags=("a  b\n",)),),
    )
    control = by_id(catalog_document(source))["gdpr-5"]
    assert control["title"] == "Principles of processing"
    assert props(control, "tag") == ["a b"]


def test_an_empty_catalog_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="tracker catalog load"):
        oscal_catalog(CatalogRecords(instruments=(GDPR,), obligations=(), last_modified=LOADED))


# --- the profile ------------------------------------------------------------------------------


def profile_document(**arguments: Any) -> dict[str, Any]:
    document = oscal_profile(records(), **arguments)
    Profile.model_validate(document["profile"])
    return document["profile"]


def selected(profile: dict[str, Any], key: str) -> list[str]:
    chosen = profile["imports"][0].get(key, [])
    return [identifier for selection in chosen for identifier in selection["with-ids"]]


def test_without_decisions_every_current_obligation_applies() -> None:
    profile = profile_document()
    assert profile["imports"][0]["href"] == "catalog.json"
    assert selected(profile, "include-controls") == list(by_id(catalog_document()))
    assert "exclude-controls" not in profile["imports"][0]
    assert "modify" not in profile
    assert profile["metadata"]["last-modified"] == "2026-11-30T09:15:00.250000Z"


def test_a_not_applicable_decision_excludes_the_control_with_its_reason() -> None:
    hipaa = obligation_token("HIPAA-164.312(a)(1)")
    profile = profile_document(
        decisions=[decision("HIPAA-164.312(a)(1)", True)], catalog_href="oscal/catalog.json"
    )
    assert profile["imports"][0]["href"] == "oscal/catalog.json"
    assert hipaa not in selected(profile, "include-controls")
    assert selected(profile, "exclude-controls") == [hipaa]
    (excluded,) = [p for p in profile["metadata"]["props"] if p["name"] == "excluded-control"]
    assert excluded["value"] == hipaa
    assert excluded["remarks"] == (
        "HIPAA-164.312(a)(1): decided not applicable by lena@example.com (legal) at "
        "2026-12-01T10:00:00Z. We run no health feature in the US."
    )
    assert props(profile["metadata"], "excluded-entries") == ["1"]
    assert profile["metadata"]["last-modified"] == "2026-12-01T10:00:00Z"


def test_a_grouping_entry_is_excluded_when_nothing_under_it_applies() -> None:
    profile = profile_document(decisions=[decision("GDPR-17.1", True), decision("GDPR-17.2", True)])
    assert selected(profile, "exclude-controls") == ["gdpr-17", "gdpr-17.1", "gdpr-17.2"]
    reasons = [p["remarks"] for p in profile["metadata"]["props"] if p["value"] == "gdpr-17"]
    assert reasons == ["GDPR-17: none of the obligations under it applies."]
    kept = profile_document(decisions=[decision("GDPR-17.1", True)])
    assert "gdpr-17" in selected(kept, "include-controls")


def test_the_newest_applicable_decision_brings_a_control_back() -> None:
    # The caller passes each obligation's current decision; "applies again" includes it.
    profile = profile_document(decisions=[decision("GDPR-17.2", False, justification="")])
    assert "gdpr-17.2" in selected(profile, "include-controls")
    (alter,) = profile["modify"]["alters"]
    assert alter["control-id"] == "gdpr-17.2"
    assert props(alter["adds"][0], "decision-state") == ["decided"]


def test_included_controls_carry_the_data_map_proposal_and_the_decision_state() -> None:
    proposal = ProposalRecord(
        obligation_id="GDPR-17.1",
        proposal="applicable",
        fingerprint="f" * 64,
        reasons=("Activity sign-up processes user.contact.email in EU as controller.",),
        activities=("sign-up",),
    )
    unknown = ProposalRecord("GDPR-17.2", "unknown", "e" * 64, ("Surfaces cannot be decided.",))
    profile = profile_document(
        decisions=[
            decision("GDPR-17.1", False, basis_proposal="applicable", basis_fingerprint="f" * 64)
        ],
        proposals=[proposal, unknown],
    )
    alters = {alter["control-id"]: alter["adds"][0] for alter in profile["modify"]["alters"]}
    assert set(alters) == {"gdpr-17.1", "gdpr-17.2"}
    confirmed = alters["gdpr-17.1"]
    assert confirmed["position"] == "ending"
    assert props(confirmed, "data-map-proposal") == ["applicable"]
    assert props(confirmed, "data-map-activity") == ["sign-up"]
    assert props(confirmed, "decision-state") == ["confirmed"]
    assert props(confirmed, "decided-by") == ["lena@example.com"]
    (proposal_prop,) = [p for p in confirmed["props"] if p["name"] == "data-map-proposal"]
    assert proposal_prop["remarks"] == proposal.reasons[0]
    assert props(alters["gdpr-17.2"], "data-map-proposal") == ["unknown"]
    assert props(alters["gdpr-17.2"], "decision-state") == ["undecided"]


def test_decision_states_compare_the_decision_with_the_proposal_it_was_made_on() -> None:
    proposed_out = ProposalRecord("HIPAA-1", "not_applicable", "1" * 64)
    current = {"basis_proposal": "not_applicable", "basis_fingerprint": "1" * 64}
    assert decision_state(None, proposed_out) == "undecided"
    assert decision_state(decision("HIPAA-1", True), None) == "decided"
    assert decision_state(decision("HIPAA-1", True, **current), proposed_out) == "confirmed"
    assert decision_state(decision("HIPAA-1", False, **current), proposed_out) == "overridden"
    stale = {"basis_proposal": "applicable", "basis_fingerprint": "0" * 64}
    assert decision_state(decision("HIPAA-1", True, **stale), proposed_out) == "needs-review"
    # Made before the data map proposed anything: fine while it agrees, to review otherwise.
    assert decision_state(decision("HIPAA-1", True), proposed_out) == "confirmed"
    assert decision_state(decision("HIPAA-1", False), proposed_out) == "needs-review"
    # Any decision settles an unknown proposal.
    unknown = ProposalRecord("HIPAA-1", "unknown", "2" * 64)
    settled = {"basis_proposal": "unknown", "basis_fingerprint": "2" * 64}
    assert decision_state(decision("HIPAA-1", False, **settled), unknown) == "confirmed"


def test_a_profile_where_nothing_applies_is_still_valid_and_excludes_everything() -> None:
    every = [decision(ob.id, True) for ob in records().obligations]
    profile = profile_document(decisions=every)
    assert profile["imports"][0]["include-all"] == {}
    assert set(selected(profile, "exclude-controls")) == set(by_id(catalog_document()))


def test_the_same_decisions_export_the_same_profile_bytes() -> None:
    arguments = {"decisions": [decision("GDPR-17.1", True)]}
    first = render_json(oscal_profile(records(), **arguments))
    assert render_json(oscal_profile(records(), **arguments)) == first
    other = oscal_profile(records(), decisions=[decision("GDPR-17.2", True)])
    assert other["profile"]["uuid"] != json.loads(first)["profile"]["uuid"]


@pytest.mark.parametrize("href", ["", "  ", "my catalog.json"])
def test_a_catalog_address_with_spaces_is_refused(href: str) -> None:
    with pytest.raises(ValueError, match="without spaces"):
        oscal_profile(records(), catalog_href=href)


def test_an_excluded_controls_reason_names_the_data_map_proposal_and_the_decision_state() -> None:
    proposal = ProposalRecord("GDPR-17.2", "not_applicable", "9" * 64, ("Nothing triggers it.",))
    profile = profile_document(
        decisions=[decision("GDPR-17.2", True, basis_fingerprint="9" * 64)], proposals=[proposal]
    )
    (excluded,) = [p for p in profile["metadata"]["props"] if p["name"] == "excluded-control"]
    assert excluded["remarks"].endswith(
        "The data map proposes: not applicable; decision state: confirmed."
    )
    assert "modify" not in profile  # nothing is added to a control the profile leaves out


def test_two_ids_that_differ_only_in_case_are_refused_by_name() -> None:
    source = replace(records(), obligations=(obligation("GDPR-5.a"), obligation("GDPR-5.A")))
    with pytest.raises(ValueError, match="GDPR-5.a and GDPR-5.A both become the OSCAL id"):
        oscal_catalog(source)
    with pytest.raises(ValueError, match="rename one of them"):
        oscal_profile(source)


def test_a_parent_loop_still_exports_each_entry_once() -> None:
    # Catalog validation refuses loops; the export must not hang on one all the same.
    looped = (
        obligation("GDPR-1", parent_id="GDPR-2"),
        obligation("GDPR-2", parent_id="GDPR-1"),
    )
    document = catalog_document(replace(records(), obligations=looped))
    assert sorted(by_id(document)) == ["gdpr-1", "gdpr-2"]
