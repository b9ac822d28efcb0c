"""The review rules: cadence defaults, due dates (a DPIA's sign-off too), states, owners."""

from __future__ import annotations

from datetime import date

from tracker.domain.data_map_vocabulary import DEFAULT_REVIEW_EVERY_DAYS
from tracker.domain.release_verdict import (
    ObligationVerdict,
    ReleaseVerdict,
    SignOffState,
)
from tracker.domain.reviews import (
    NO_OWNER,
    ReviewFacts,
    ReviewState,
    assess,
    block_overdue,
    by_owner,
    cadence,
    due_date,
    review_state,
)

TODAY = date(2026, 6, 1)


def facts(**overrides: object) -> ReviewFacts:
    values: dict[str, object] = {
        "kind": "activity",
        "id": "sign-up",
        "title": "Account sign-up",
        "owner": "legal@demo.example",
        "review_every_days": None,
        "created_on": date(2026, 1, 1),
    }
    values.update(overrides)
    return ReviewFacts(**values)  # type: ignore[arg-type]


def test_an_item_without_its_own_cadence_takes_the_default_of_its_kind() -> None:
    for kind in ("obligation", "activity", "dpia"):
        assert cadence(kind, None) == DEFAULT_REVIEW_EVERY_DAYS[kind]
    assert cadence("activity", 180) == 180


def test_a_never_reviewed_item_is_due_one_cadence_after_it_was_created() -> None:
    assert due_date(facts(review_every_days=180)) == date(2026, 6, 30)
    assert due_date(facts()) == date(2027, 1, 1)


def test_the_last_review_conforming_or_not_starts_the_next_cadence() -> None:
    reviewed = facts(review_every_days=30, last_reviewed_on=date(2026, 5, 10))
    assert due_date(reviewed) == date(2026, 6, 9)
    not_conforming = facts(
        review_every_days=30, last_reviewed_on=date(2026, 5, 10), last_outcome="not_conforming"
    )
    assert due_date(not_conforming) == date(2026, 6, 9)


def test_a_dpia_sign_off_newer_than_the_last_review_sets_the_due_date() -> None:
    signed = facts(
        kind="dpia",
        last_reviewed_on=date(2026, 1, 5),
        signed_on=date(2026, 3, 1),
        next_review_on=date(2026, 9, 1),
    )
    assert due_date(signed) == date(2026, 9, 1)
    assert assess(signed, TODAY).last_reviewed_on == date(2026, 3, 1)


def test_a_review_newer_than_the_dpia_sign_off_counts_instead() -> None:
    reviewed_since = facts(
        kind="dpia",
        review_every_days=100,
        last_reviewed_on=date(2026, 4, 1),
        signed_on=date(2026, 3, 1),
        next_review_on=date(2027, 3, 1),
    )
    assert due_date(reviewed_since) == date(2026, 7, 10)


def test_states_overdue_due_soon_within_30_days_and_fine() -> None:
    assert review_state(date(2026, 5, 31), TODAY) is ReviewState.OVERDUE
    assert review_state(TODAY, TODAY) is ReviewState.DUE_SOON
    assert review_state(date(2026, 7, 1), TODAY) is ReviewState.DUE_SOON
    assert review_state(date(2026, 7, 2), TODAY) is ReviewState.FINE


def test_an_assessed_item_says_how_many_days_are_left_or_overdue() -> None:
    item = assess(facts(review_every_days=100), TODAY)  # due 2026-04-11
    assert item.state is ReviewState.OVERDUE
    assert item.days_left == -51
    assert item.cadence_days == 100


def test_reviews_are_grouped_per_owner_most_overdue_first_soonest_first() -> None:
    items = [
        assess(facts(id="a", owner="team-b", review_every_days=200), TODAY),  # fine
        assess(facts(id="b", owner="team-a", review_every_days=10), TODAY),  # overdue
        assess(facts(id="c", owner="team-b", review_every_days=50), TODAY),  # overdue
        assess(facts(id="d", owner="team-b", review_every_days=20), TODAY),  # overdue, earlier
        assess(facts(id="e", owner=None, review_every_days=5), TODAY),
    ]
    groups = by_owner(items)
    assert [group.owner for group in groups] == ["team-b", "team-a", NO_OWNER]
    assert [item.id for item in groups[0].items] == ["d", "c", "a"]
    assert groups[0].overdue == 2


def verdict(*items: ObligationVerdict) -> ReleaseVerdict:
    return ReleaseVerdict(
        ready=not any(item.blocking for item in items),
        signed_off=False,
        obligations=items,
        expired_exceptions=(),
    )


def ob(ob_id: str, exception: int | None = None) -> ObligationVerdict:
    return ObligationVerdict(ob_id, "VERIFIED", SignOffState.MISSING, None, exception, False, ())


def test_an_overdue_review_blocks_its_obligation_and_the_release() -> None:
    before = verdict(ob("GDPR-17.1"), ob("GDPR-15.1"))
    assert before.ready
    after = block_overdue(before, {"GDPR-17.1": date(2026, 5, 1)})
    assert not after.ready
    blocked = {item.id: item for item in after.obligations}
    assert blocked["GDPR-17.1"].blocking
    assert blocked["GDPR-17.1"].reasons == (
        "Its periodic review is overdue (it was due on 2026-05-01).",
    )
    assert not blocked["GDPR-15.1"].blocking


def test_an_excepted_obligation_is_not_blocked_by_its_overdue_review() -> None:
    after = block_overdue(verdict(ob("GDPR-17.1", exception=3)), {"GDPR-17.1": date(2026, 5, 1)})
    assert after.ready
