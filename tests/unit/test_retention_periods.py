"""Retention periods: what the data map accepts, how long each is, and in which unit."""

from __future__ import annotations

import pytest

from tracker.domain.data_map_schema import parse_period


@pytest.mark.parametrize(
    ("text", "days", "amount", "unit"),
    [
        ("30 days", 30, 30, "days"),
        ("2 weeks", 14, 14, "days"),
        ("13 months", 390, 13, "months"),
        ("2 years", 730, 2, "years"),
        ("P90D", 90, 90, "days"),
        ("P1Y6M", 545, 18, "months"),
        ("P10Y", 3650, 10, "years"),
        ("100 years", 36_500, 100, "years"),
    ],
)
def test_a_period_has_its_length_and_its_written_unit(
    text: str, days: int, amount: int, unit: str
) -> None:
    period = parse_period(text)
    assert (period.days, period.amount, period.unit) == (days, amount, unit)


@pytest.mark.parametrize("text", ["forever", "9999 years", "101 years", "P101Y", "P0D", "0 days"])
def test_a_period_that_does_not_parse_or_exceeds_a_century_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="at most 100 years"):
        parse_period(text)
