"""The applicability rules: each dimension, the category mapping, unknown, the sentences."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from tracker.domain.applicability import (
    ObligationTags,
    Proposal,
    RetentionFacts,
    proposal_fingerprint,
    propose,
)
from tracker.domain.applicability_decisions import (
    DecisionFacts,
    DecisionState,
    decision_state,
    review_note,
)
from tracker.domain.applicability_index import ActivityFacts, SystemFacts
from tracker.domain.applicability_vocabulary import CATEGORY_WORDS, ProposalKind
from tracker.domain.taxonomy import data_categories

CATALOG = Path(__file__).parents[2] / "requirements_catalog"

SYSTEMS = [
    SystemFacts("phone-app", ("mobile",)),
    SystemFacts("api", ("backend_services", "public_api")),
    SystemFacts("shop", ("web",)),
]
HEALTH = ActivityFacts(
    id="health-sync",
    roles=("controller", "covered_entity"),
    jurisdictions=("US",),
    data_categories=("user.health_and_medical", "user.device.device_id"),
    systems=("phone-app", "api"),
)
SIGN_UP = ActivityFacts(
    id="sign-up",
    roles=("controller", "business"),
    jurisdictions=("EU", "US-CA"),
    data_categories=("user.contact.email", "user.name"),
    systems=("shop",),
)


def one(
    applicability: Mapping[str, Sequence[str]],
    activities: Sequence[ActivityFacts] = (HEALTH, SIGN_UP),
    systems: Sequence[SystemFacts] = tuple(SYSTEMS),
    obligation_id: str = "LAW-1",
) -> Proposal:
    [proposal] = propose([ObligationTags(obligation_id, applicability)], activities, systems)
    return proposal


def test_the_sentence_names_activity_category_place_role_and_system() -> None:
    proposal = one(
        {
            "roles": ["covered_entity", "business_associate"],
            "jurisdictions": ["US"],
            "data_categories": ["ephi"],
            "surfaces": ["backend_services"],
        },
        obligation_id="HIPAA-164.312.a.1",
    )
    assert proposal.proposal is ProposalKind.APPLICABLE
    assert proposal.activities == ("health-sync",)
    assert proposal.reasons == (
        "HIPAA-164.312.a.1 applies: activity `health-sync` processes `user.health_and_medical` "
        "in US as covered entity on backend_services (system `api`)",
    )


def test_roles_match_by_equality_only() -> None:
    assert one({"roles": ["business"]}).activities == ("sign-up",)
    refused = one({"roles": ["processor"]})
    assert refused.proposal is ProposalKind.NOT_APPLICABLE
    assert refused.reasons == ("No activity acts as processor.",)


@pytest.mark.parametrize(
    ("catalog", "activity_places", "applies"),
    [
        (["US"], ("US-CA",), True),  # an activity in California is in the US
        (["US-CA"], ("US",), True),  # a nationwide activity includes California
        (["EEA"], ("EU",), True),  # the EU and the EEA are read as one
        (["EU"], ("EEA",), True),
        (["US-CA"], ("US-TX",), False),  # two states do not contain each other
        (["BR"], ("EU", "US"), False),
    ],
)
def test_jurisdictions_match_within_both_ways(
    catalog: list[str], activity_places: tuple[str, ...], applies: bool
) -> None:
    activity = ActivityFacts("a", ("controller",), activity_places, ("user.name",), ("shop",))
    proposal = one({"jurisdictions": catalog}, activities=[activity])
    expected = ProposalKind.APPLICABLE if applies else ProposalKind.NOT_APPLICABLE
    assert proposal.proposal is expected


def test_the_sentence_names_the_activitys_own_place_within_the_obligations() -> None:
    proposal = one({"jurisdictions": ["US"], "roles": ["business"]})
    assert proposal.reasons == ("LAW-1 applies: activity `sign-up` runs in US-CA as business",)


@pytest.mark.parametrize(
    ("word", "category", "applies"),
    [
        ("personal_data", "user.contact.email", True),
        ("personal_information", "user.device.cookie_id", True),
        ("personal_data", "system.operations", False),
        ("ephi", "user.health_and_medical.insurance_beneficiary_id", True),
        ("ephi", "user.biometric.health", True),
        ("ephi", "user.sensor", False),
        ("unsecured_phi", "user.health_and_medical", True),
        ("special_category_data", "user.demographic.religious_belief", True),
        ("special_category_data", "user.biometric.fingerprint", True),
        ("special_category_data", "user.criminal_history", True),
        ("special_category_data", "user.contact.email", False),
        ("sensitive_personal_data", "user.demographic.race_ethnicity", True),
        ("sensitive_personal_information", "user.government_id.passport_number", True),
        ("sensitive_personal_information", "user.financial.credit_card", True),
        ("sensitive_personal_information", "user.location.precise", True),
        ("sensitive_personal_information", "user.location.imprecise", False),
        ("sensitive_personal_information", "user.content.private", True),
        ("sensitive_personal_information", "user.authorization.credentials", True),
        ("sensitive_personal_information", "user.demographic.political_opinion", False),
        ("children_data", "user.childrens", True),
        ("minors_data", "user.childrens", True),
        ("children_data", "user.demographic.age_range", False),
    ],
)
def test_data_category_words_map_to_fides_categories_and_their_children(
    word: str, category: str, applies: bool
) -> None:
    activity = ActivityFacts("a", ("controller",), ("EU",), (category,), ("shop",))
    proposal = one({"data_categories": [word]}, activities=[activity])
    expected = ProposalKind.APPLICABLE if applies else ProposalKind.NOT_APPLICABLE
    assert proposal.proposal is expected, proposal.reasons


def test_the_mapping_names_only_real_fides_categories() -> None:
    known = data_categories()
    for word, mapped in CATEGORY_WORDS.items():
        assert mapped.fides_keys, word
        assert set(mapped.fides_keys) <= known, word


def test_every_data_category_word_of_the_bundled_catalog_is_mapped() -> None:
    used: set[str] = set()
    for path in CATALOG.glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in document["obligations"]:
            used |= set((entry.get("applicability") or {}).get("data_categories") or ())
    assert used
    assert used <= set(CATEGORY_WORDS)


def test_a_data_category_word_without_a_mapping_is_unknown() -> None:
    proposal = one({"data_categories": ["biometric_identifiers"], "roles": ["controller"]})
    assert proposal.proposal is ProposalKind.UNKNOWN
    assert proposal.reasons[0] == (
        "The catalog's data category `biometric_identifiers` is not mapped to Fides data "
        "categories, so the data map cannot tell whether it is processed."
    )
    assert proposal.activities == ("health-sync", "sign-up")  # they meet every other condition


def test_a_failing_decidable_dimension_beats_an_undecidable_one() -> None:
    proposal = one({"data_categories": ["biometric_identifiers"], "roles": ["processor"]})
    assert proposal.proposal is ProposalKind.NOT_APPLICABLE
    assert proposal.reasons == ("No activity acts as processor.",)


def test_surfaces_come_from_the_activitys_systems() -> None:
    assert one({"surfaces": ["mobile"]}).activities == ("health-sync",)
    assert one({"surfaces": ["web"]}).activities == ("sign-up",)
    proposal = one({"surfaces": ["public_api", "mobile"], "roles": ["covered_entity"]})
    assert proposal.reasons == (
        "LAW-1 applies: activity `health-sync` runs as covered entity on public_api (system "
        "`api`); mobile (system `phone-app`)",
    )


def test_a_surface_no_system_has_cannot_be_decided() -> None:
    proposal = one({"surfaces": ["incident_response"], "roles": ["controller"]})
    assert proposal.proposal is ProposalKind.UNKNOWN
    assert "No system in the data map is on the surface `incident_response`" in proposal.reasons[0]
    # Another surface that does match still makes it apply.
    assert one({"surfaces": ["incident_response", "web"]}).proposal is ProposalKind.APPLICABLE


def test_a_known_surface_no_activity_uses_is_a_reason_not_to_apply() -> None:
    systems = [*SYSTEMS, SystemFacts("warehouse", ("data_platform",))]
    proposal = one({"surfaces": ["data_platform"]}, systems=systems)
    assert proposal.proposal is ProposalKind.NOT_APPLICABLE
    assert proposal.reasons == ("No activity uses a system on the surface data_platform.",)


def test_every_dimension_must_match_in_the_same_activity() -> None:
    proposal = one({"roles": ["covered_entity"], "jurisdictions": ["EU"]})
    assert proposal.proposal is ProposalKind.NOT_APPLICABLE
    assert proposal.reasons == (
        "No activity meets every condition at once (acts as covered entity: `health-sync`; "
        "is in EU: `sign-up`).",
    )


def test_not_applicable_gives_one_reason_per_failing_dimension_in_catalog_order() -> None:
    proposal = one(
        {
            "surfaces": ["web"],
            "data_categories": ["ephi"],
            "roles": ["covered_entity"],
            "jurisdictions": ["BR"],
        },
        activities=[SIGN_UP],
    )
    assert proposal.reasons == (
        "No activity acts as covered entity.",
        "No activity is in BR.",
        "No activity processes ePHI (user.health_and_medical, user.biometric.health).",
    )


def test_no_tags_is_unknown() -> None:
    proposal = one({})
    assert proposal.proposal is ProposalKind.UNKNOWN
    assert "no applicability tags" in proposal.reasons[0]
    assert one({"roles": []}).proposal is ProposalKind.UNKNOWN


def test_without_a_data_map_nothing_is_decided() -> None:
    proposal = one({"roles": ["controller"]}, activities=[], systems=[])
    assert proposal.proposal is ProposalKind.UNKNOWN
    assert "`tracker datamap load`" in proposal.reasons[0]


def test_retired_activities_count_for_nothing() -> None:
    retired = ActivityFacts("old", ("processor",), ("EU",), ("user.name",), ("shop",), "retired")
    proposal = one({"roles": ["processor"]}, activities=[SIGN_UP, retired])
    assert proposal.proposal is ProposalKind.NOT_APPLICABLE


def test_an_obligation_only_planned_activities_trigger_is_unknown() -> None:
    planned = ActivityFacts("soon", ("processor",), ("EU",), ("user.name",), ("shop",), "planned")
    proposal = one({"roles": ["processor"]}, activities=[SIGN_UP, planned])
    assert proposal.proposal is ProposalKind.UNKNOWN
    assert proposal.activities == ("soon",)
    assert "Only planned activities would trigger it: `soon`" in proposal.reasons[0]
    # An active activity that triggers it wins.
    active = ActivityFacts("now", ("processor",), ("EU",), ("user.name",), ("shop",))
    assert one({"roles": ["processor"]}, activities=[planned, active]).activities == ("now",)


def test_a_retention_duty_always_applies_with_the_activities_that_set_it() -> None:
    duty = RetentionFacts("RETENTION-1", "user.contact.email", "shop", ("sign-up", "newsletter"))
    [proposal] = propose([ObligationTags("RETENTION-1", {})], [SIGN_UP], SYSTEMS, [duty])
    assert proposal.proposal is ProposalKind.APPLICABLE
    assert proposal.activities == ("newsletter", "sign-up")
    assert proposal.reasons == (
        "RETENTION-1 applies: it is the retention duty for `user.contact.email` in system "
        "`shop`, set by activity `newsletter`, `sign-up`.",
    )


def test_many_triggering_activities_are_counted_after_the_first_ten() -> None:
    activities = [
        ActivityFacts(f"a{number:02}", ("controller",), ("EU",), ("user.name",), ("shop",))
        for number in range(14)
    ]
    proposal = one({"roles": ["controller"]}, activities=list(reversed(activities)))
    assert len(proposal.activities) == 14
    assert proposal.activities[0] == "a00"  # by id, whatever the input order
    assert len(proposal.reasons) == 11
    assert proposal.reasons[-1] == "… and 4 more activities trigger it (listed with it)."


def test_proposals_and_fingerprints_are_deterministic() -> None:
    tags = {"roles": ["controller"], "jurisdictions": ["US", "EU"]}
    first = one(tags, activities=[HEALTH, SIGN_UP])
    second = one(tags, activities=[SIGN_UP, HEALTH])
    assert first == second
    assert first.fingerprint == proposal_fingerprint(
        first.proposal, reversed(first.reasons), first.activities
    )
    changed = one(tags, activities=[SIGN_UP])
    assert changed.fingerprint != first.fingerprint


def test_the_decision_state_compares_the_decision_with_the_current_proposal() -> None:
    print_ = "f1"
    na = ProposalKind.NOT_APPLICABLE
    assert decision_state(na, print_, None) is DecisionState.UNDECIDED
    assert decision_state(na, print_, DecisionFacts(True, "not_applicable", print_)) is (
        DecisionState.CONFIRMED
    )
    assert decision_state(na, print_, DecisionFacts(False, "not_applicable", print_)) is (
        DecisionState.OVERRIDDEN
    )
    # New reasons behind the same proposal (another fingerprint) leave the decision as it is;
    # a proposal that now says something else reopens it.
    assert decision_state(na, "f2", DecisionFacts(True, "not_applicable", print_)) is (
        DecisionState.CONFIRMED
    )
    assert decision_state(na, "f2", DecisionFacts(True, "applicable", print_)) is (
        DecisionState.NEEDS_REVIEW
    )
    # Made before any proposal: fine while it agrees, to review once it does not.
    assert decision_state(na, print_, DecisionFacts(True)) is DecisionState.CONFIRMED
    assert decision_state(ProposalKind.APPLICABLE, print_, DecisionFacts(True)) is (
        DecisionState.NEEDS_REVIEW
    )
    # Any decision settles what the data map cannot tell.
    assert decision_state(ProposalKind.UNKNOWN, print_, DecisionFacts(True, "unknown", print_)) is (
        DecisionState.CONFIRMED
    )


def test_the_review_note_says_what_changed() -> None:
    moved = review_note(ProposalKind.APPLICABLE, DecisionFacts(True, "not_applicable", "f1"))
    assert moved == (
        "Legal decided that it does not apply against the proposal “not applicable”; the data "
        "map now proposes “applicable”."
    )
    before_any = review_note(ProposalKind.APPLICABLE, DecisionFacts(True))
    assert before_any == (
        "Legal decided that it does not apply before the data map proposed anything; the data "
        "map now proposes “applicable”."
    )


def test_three_thousand_obligations_on_five_hundred_activities_take_well_under_a_second() -> None:
    roles = ["controller", "processor", "business", "service_provider", "covered_entity"]
    places = ["EU", "EEA", "US", "US-CA", "BR", "UK"]
    words = list(CATEGORY_WORDS)
    surfaces = ["web", "mobile", "backend_services", "data_platform", "support_tooling"]
    categories = ["user.contact.email", "user.name", "user.health_and_medical", "user.childrens"]
    systems = [SystemFacts(f"s{n}", (surfaces[n % 5], surfaces[(n + 2) % 5])) for n in range(50)]
    activities = [
        ActivityFacts(
            f"activity-{n}",
            (roles[n % 5], roles[(n + 1) % 5]),
            (places[n % 6], places[(n + 3) % 6]),
            (categories[n % 4], categories[(n + 1) % 4], "user.device.device_id"),
            (f"s{n % 50}", f"s{(n + 7) % 50}"),
        )
        for n in range(500)
    ]
    obligations = [
        ObligationTags(
            f"LAW-{n}",
            {
                "roles": [roles[n % 5], roles[(n + 2) % 5]],
                "jurisdictions": [places[n % 6], places[(n + 1) % 6]],
                "data_categories": [words[n % len(words)]],
                "surfaces": [surfaces[n % 5], surfaces[(n + 3) % 5]],
            },
        )
        for n in range(3000)
    ]
    start = time.perf_counter()
    proposals = propose(obligations, activities, systems)
    elapsed = time.perf_counter() - start
    assert len(proposals) == 3000
    assert {proposal.proposal for proposal in proposals} >= {ProposalKind.APPLICABLE}
    assert elapsed < 1.0, f"{elapsed:.2f} s"
