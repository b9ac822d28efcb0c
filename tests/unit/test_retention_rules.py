"""Retention duties from the data map's rules: one per category and system, the longest period."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tracker.domain.data_map_schema import ActivitySpec
from tracker.domain.id_patterns import OBLIGATION_ID_PATTERN
from tracker.domain.retention import (
    MAX_ID_LENGTH,
    ActivitySource,
    assign_ids,
    derive_duties,
    duty_obligation,
    period_in_units,
    readable_id,
)
from tracker.pytest_plugin import OBLIGATION_ID_PATTERN as MARKER_PATTERN


def activity(activity_id: str, retention: list[dict[str, Any]], **fields: Any) -> ActivitySource:
    spec = {
        "id": activity_id,
        "name": f"Activity {activity_id}",
        "purpose": "A purpose long enough to be valid.",
        "data_categories": ["user.contact.email", "user.device.ip_address", "user.name"],
        "data_subjects": ["customer"],
        "systems": ["accounts-service", "backups"],
        "jurisdictions": ["EU"],
        "roles": ["controller"],
        "dpia": {"required": False, "reason": "Ordinary account data only."},
        "retention": retention,
    } | fields
    return ActivitySource(ActivitySpec.model_validate(spec), "data_map/activities.yaml", 7)


def by_key(duties: list[Any]) -> dict[tuple[str, str], Any]:
    return {(duty.data_category, duty.system_id): duty for duty in duties}


def test_a_rule_without_systems_covers_every_system_of_its_activity() -> None:
    duties = derive_duties(
        [
            activity(
                "sign-up",
                [
                    {
                        "data_categories": ["user.name"],
                        "period": "30 days",
                        "trigger": "account_closed",
                    }
                ],
            )
        ],
        {"accounts-service": "Accounts service"},
    )
    assert sorted(by_key(duties)) == [("user.name", "accounts-service"), ("user.name", "backups")]
    accounts = by_key(duties)[("user.name", "accounts-service")]
    assert accounts.system_name == "Accounts service"
    assert (accounts.period, accounts.period_days, accounts.trigger) == (
        "30 days",
        30,
        "account_closed",
    )
    # A system the names do not cover is shown by its id.
    assert by_key(duties)[("user.name", "backups")].system_name == "backups"


def test_the_longest_period_wins_and_every_activity_is_named() -> None:
    duties = derive_duties(
        [
            activity(
                "support",
                [
                    {
                        "data_categories": ["user.contact.email"],
                        "period": "2 years",
                        "trigger": "ticket_closed",
                        "systems": ["backups"],
                    }
                ],
            ),
            activity(
                "sign-up",
                [
                    {
                        "data_categories": ["user.contact.email"],
                        "period": "30 days",
                        "trigger": "account_closed",
                    }
                ],
            ),
            activity(
                "newsletter",
                [
                    {
                        "data_categories": ["user.contact.email"],
                        "period": "P1Y",
                        "trigger": "unsubscribed",
                        "systems": ["backups"],
                        "note": "Proof of consent.",
                    }
                ],
            ),
        ]
    )
    backups = by_key(duties)[("user.contact.email", "backups")]
    assert (backups.period, backups.trigger, backups.governing.activity_id) == (
        "2 years",
        "ticket_closed",
        "support",
    )
    assert backups.activities == ("newsletter", "sign-up", "support")
    assert [purpose.words() for purpose in backups.shorter] == [
        "P1Y after unsubscribed (newsletter)",
        "30 days after account_closed (sign-up)",
    ]
    assert backups.shorter[0].note == "Proof of consent."
    # Where only one activity keeps it, its own period applies.
    assert by_key(duties)[("user.contact.email", "accounts-service")].period == "30 days"


def test_equal_periods_are_settled_by_activity_id_and_retired_activities_keep_nothing() -> None:
    rule = {"data_categories": ["user.name"], "period": "90 days", "systems": ["backups"]}
    duties = derive_duties(
        [
            activity("zeta", [rule | {"trigger": "collected"}]),
            activity("alpha", [rule | {"trigger": "last_activity"}]),
            activity(
                "old", [rule | {"period": "10 years", "trigger": "collected"}], status="retired"
            ),
        ]
    )
    (duty,) = duties
    assert duty.governing.activity_id == "alpha" and duty.trigger == "last_activity"
    assert duty.activities == ("alpha", "zeta")


def test_ids_are_readable_fit_the_grammar_and_the_pytest_marker() -> None:
    assert readable_id("user.device.ip_address", "accounts-service") == (
        "RETENTION-accountsService.user.device.ipAddress"
    )
    assert (
        readable_id("user.sensor", "health-sync-service")
        == "RETENTION-healthSyncService.user.sensor"
    )
    for pattern in (OBLIGATION_ID_PATTERN, MARKER_PATTERN):
        assert re.fullmatch(pattern, readable_id("user.health_and_medical", "health-sync-2"))


def test_ids_that_would_read_the_same_get_a_hash_suffix_and_kept_ids_stay() -> None:
    # `ab-c` and `abc` both read abC / abc: the same to Jira, which ignores case.
    keys = [("user.name", "ab-c"), ("user.name", "abc"), ("user.name", "other")]
    ids = assign_ids(keys, {})
    assert ids[("user.name", "other")] == "RETENTION-other.user.name"
    clashing = [ids[("user.name", "ab-c")], ids[("user.name", "abc")]]
    assert len({value.casefold() for value in clashing}) == 2
    assert all(
        re.fullmatch(r"RETENTION-ab[cC]\.user\.name\.x[0-9a-f]{8}", value) for value in clashing
    )
    # A duty keeps the id it was given first; a newcomer that would clash gets the suffix.
    kept = assign_ids(keys, {("user.name", "abc"): "RETENTION-abc.user.name"})
    assert kept[("user.name", "abc")] == "RETENTION-abc.user.name"
    assert kept[("user.name", "ab-c")].startswith("RETENTION-abC.user.name.x")
    # The same input gives the same ids, whatever the order.
    assert assign_ids(list(reversed(keys)), {}) == ids


def test_a_long_id_is_cut_to_the_limit_with_a_hash() -> None:
    system = "a-very-long-system-name-that-goes-on-and-on-and-on-for-ever-and-ever"
    (value,) = assign_ids([("user.behavior.browsing_history", system)], {}).values()
    assert len(value) <= MAX_ID_LENGTH and re.fullmatch(OBLIGATION_ID_PATTERN, value)
    assert re.search(r"\.x[0-9a-f]{8}$", value)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("30 days", (30, "days")),
        ("2 weeks", (14, "days")),
        ("13 months", (13, "months")),
        ("1 year", (1, "years")),
        ("10 Years", (10, "years")),
        ("P2Y", (2, "years")),
        ("P1Y6M", (18, "months")),
        ("P90D", (90, "days")),
        ("P1Y10D", (375, "days")),
    ],
)
def test_periods_keep_the_unit_they_were_written_in(period: str, expected: tuple[int, str]) -> None:
    assert period_in_units(period) == expected


def test_a_duty_is_an_obligation_with_its_period_evidence_and_owner() -> None:
    (duty,) = derive_duties(
        [
            activity(
                "health",
                [
                    {
                        "data_categories": ["user.name"],
                        "period": "1 year",
                        "trigger": "collected",
                        "systems": ["backups"],
                    }
                ],
            )
        ],
        {"backups": "Encrypted backups"},
        system_owners={"backups": "engineer@demo.example"},
    )
    spec = duty_obligation(duty)
    assert spec.id == "RETENTION-backups.user.name"
    assert spec.title == "Delete user.name from Encrypted backups 1 year after collected"
    assert spec.citation == "1 year after collected"
    assert "activity health" in spec.summary and spec.severity == "high"
    assert [(p.name, p.value, p.unit) for p in spec.parameters] == [
        ("retention_period", 1, "years")
    ]
    assert [item.type for item in spec.evidence] == ["automated_test", "config_check"]
    assert (
        "removes user.name from Encrypted backups 1 year after collected"
        in spec.evidence[0].description
    )
    assert spec.freshness_days == 30 and spec.owner == "engineer@demo.example"
    assert spec.applicability.data_categories == ["user.name"]
