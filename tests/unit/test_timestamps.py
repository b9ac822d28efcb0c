"""Every time the tracker writes into JSON or OSCAL is RFC 3339 in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tracker.domain.timestamps import rfc3339_utc


def test_an_aware_time_is_written_in_utc_with_a_z_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 12, 1, 16, 19, 59, 250000, tzinfo=paris)
    assert rfc3339_utc(moment) == "2026-12-01T15:19:59Z"
    assert datetime.fromisoformat(rfc3339_utc(moment)) == moment.replace(microsecond=0)


def test_a_naive_time_is_taken_as_utc() -> None:
    assert rfc3339_utc(datetime(2026, 12, 1, 15, 19, 59)) == "2026-12-01T15:19:59Z"


def test_a_fraction_of_a_second_is_kept_only_when_asked_for_and_present() -> None:
    with_fraction = datetime(2026, 12, 1, 15, 19, 59, 250000, tzinfo=UTC)
    assert rfc3339_utc(with_fraction, fraction=True) == "2026-12-01T15:19:59.250000Z"
    whole = datetime(2026, 12, 1, 15, 19, 59, tzinfo=UTC)
    assert rfc3339_utc(whole, fraction=True) == "2026-12-01T15:19:59Z"
