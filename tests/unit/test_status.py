"""The status rule: every branch, and invariants checked with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.status import (
    Implementation,
    ObligationFacts,
    ResultFact,
    Status,
    TestFact,
    Verification,
    WorkItemFact,
    overall_status,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def work(key: str = "PRIV-1", category: str = "done", **kwargs: bool) -> WorkItemFact:
    names = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
    return WorkItemFact(key=key, status=names[category], status_category=category, **kwargs)


def a_test(
    test_id: str = "s/c/t", outcome: str | None = "passed", age_days: float = 1, **kwargs: bool
) -> TestFact:
    latest = None
    if outcome is not None:
        latest = ResultFact(
            outcome=outcome, run_id=7, at=NOW - timedelta(days=age_days), commit="abc123"
        )
    return TestFact(test_id=test_id, latest=latest, **kwargs)


def status_of(**kwargs: object) -> Status:
    return overall_status(ObligationFacts(obligation_id="X-1", **kwargs), NOW).status  # type: ignore[arg-type]


def test_obligation_with_nothing_linked_is_a_gap() -> None:
    result = overall_status(ObligationFacts(obligation_id="X-1"), NOW)
    assert result.status is Status.GAP
    assert result.implementation is Implementation.NONE
    assert result.verification is Verification.UNCOVERED
    assert "No Jira work item and no test" in result.explanation


def test_not_applicable_wins_over_everything_and_says_why() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1",
            work_items=(work(suspect=True),),
            tests=(a_test(outcome="failed"),),
            not_applicable=True,
            justification="We hold no health data.",
        ),
        NOW,
    )
    assert result.status is Status.NOT_APPLICABLE
    assert "We hold no health data." in result.explanation


def test_suspect_link_wins_over_failing_test() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1", work_items=(work(suspect=True),), tests=(a_test(outcome="failed"),)
        ),
        NOW,
    )
    assert result.status is Status.SUSPECT
    assert result.suspect
    assert "PRIV-1" in result.explanation


def test_suspect_test_link_makes_the_obligation_suspect() -> None:
    assert status_of(work_items=(work(),), tests=(a_test(suspect=True),)) is Status.SUSPECT


def test_obligation_with_failing_latest_result_is_failing() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1", work_items=(work(),), tests=(a_test(), a_test("s/c/u", "failed"))
        ),
        NOW,
    )
    assert result.status is Status.FAILING
    assert "s/c/u failed in run #7 at commit abc123" in result.explanation


def test_error_counts_as_failing() -> None:
    assert status_of(work_items=(work(),), tests=(a_test(outcome="error"),)) is Status.FAILING


def test_failing_even_when_work_is_not_started() -> None:
    assert (
        status_of(work_items=(work(category="new"),), tests=(a_test(outcome="failed"),))
        is Status.FAILING
    )


def test_work_not_started_is_planned() -> None:
    result = overall_status(
        ObligationFacts(obligation_id="X-1", work_items=(work(category="new"),)), NOW
    )
    assert result.status is Status.PLANNED
    assert result.implementation is Implementation.PLANNED
    assert "PRIV-1 is To Do" in result.explanation


def test_tests_without_work_items_are_planned_not_verified() -> None:
    result = overall_status(ObligationFacts(obligation_id="X-1", tests=(a_test(),)), NOW)
    assert result.status is Status.PLANNED
    assert result.implementation is Implementation.NONE
    assert result.verification is Verification.PASSING


def test_started_work_is_in_progress() -> None:
    assert status_of(work_items=(work(category="indeterminate"),)) is Status.IN_PROGRESS


def test_mix_of_done_and_to_do_is_in_progress() -> None:
    assert status_of(work_items=(work(), work("PRIV-2", "new"))) is Status.IN_PROGRESS


def test_missing_work_item_is_not_done_and_is_named() -> None:
    result = overall_status(
        ObligationFacts(obligation_id="X-1", work_items=(work(), work("PRIV-9", missing=True))), NOW
    )
    assert result.status is Status.IN_PROGRESS
    assert "PRIV-9 is missing in Jira" in result.explanation


def test_done_without_tests_is_implemented() -> None:
    result = overall_status(ObligationFacts(obligation_id="X-1", work_items=(work(),)), NOW)
    assert result.status is Status.IMPLEMENTED
    assert result.verification is Verification.UNCOVERED


def test_done_with_every_test_passing_is_verified() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1", work_items=(work(),), tests=(a_test(), a_test("s/c/u"))
        ),
        NOW,
    )
    assert result.status is Status.VERIFIED
    assert "s/c/t passed in run #7" in result.explanation


def test_done_with_a_test_not_run_is_implemented() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1", work_items=(work(),), tests=(a_test(), a_test("s/c/u", None))
        ),
        NOW,
    )
    assert result.status is Status.IMPLEMENTED
    assert result.verification is Verification.NOT_RUN
    assert "s/c/u has no result" in result.explanation


def test_skipped_latest_result_does_not_verify() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1", work_items=(work(),), tests=(a_test(outcome="skipped"),)
        ),
        NOW,
    )
    assert result.status is Status.IMPLEMENTED
    assert result.verification is Verification.NOT_RUN


def test_passing_evidence_older_than_freshness_is_stale_not_verified() -> None:
    result = overall_status(
        ObligationFacts(
            obligation_id="X-1",
            work_items=(work(),),
            tests=(a_test(age_days=45),),
            freshness=timedelta(days=30),
        ),
        NOW,
    )
    assert result.status is Status.IMPLEMENTED
    assert result.verification is Verification.STALE
    assert "older than the 30-day freshness window" in result.explanation


def test_flaky_pass_is_flagged_in_the_explanation() -> None:
    facts = ObligationFacts(
        obligation_id="X-1",
        work_items=(work(),),
        tests=(TestFact("s/c/t", ResultFact("passed", 3, NOW, flaky=True)),),
    )
    result = overall_status(facts, NOW)
    assert result.status is Status.VERIFIED
    assert "flaky" in result.explanation


# --- invariants -------------------------------------------------------------------------------

categories = st.sampled_from(["new", "indeterminate", "done"])
outcomes = st.sampled_from([None, "passed", "failed", "error", "skipped"])
work_items = st.lists(
    st.builds(
        work,
        key=st.sampled_from(["A-1", "A-2", "B-3"]),
        category=categories,
        suspect=st.booleans(),
        missing=st.booleans(),
    ),
    max_size=4,
)
tests = st.lists(
    st.builds(
        a_test,
        test_id=st.sampled_from(["s/a/1", "s/a/2"]),
        outcome=outcomes,
        age_days=st.floats(0, 90),
        suspect=st.booleans(),
    ),
    max_size=4,
)
facts = st.builds(
    ObligationFacts,
    obligation_id=st.just("X-1"),
    work_items=work_items.map(tuple),
    tests=tests.map(tuple),
    not_applicable=st.booleans(),
    freshness=st.integers(1, 60).map(lambda days: timedelta(days=days)),
)


@given(facts)
def test_verified_never_with_a_failing_or_missing_or_stale_result(f: ObligationFacts) -> None:
    result = overall_status(f, NOW)
    if result.status is Status.VERIFIED:
        assert f.tests
        assert all(t.latest is not None and t.latest.outcome == "passed" for t in f.tests)
        assert all(NOW - t.latest.at <= f.freshness for t in f.tests if t.latest)
        assert f.work_items and all(
            w.status_category == "done" and not w.missing for w in f.work_items
        )


@given(facts)
def test_gap_never_with_a_link(f: ObligationFacts) -> None:
    if overall_status(f, NOW).status is Status.GAP:
        assert not f.work_items and not f.tests


@given(facts)
def test_a_failing_result_is_never_hidden_unless_not_applicable_or_suspect(
    f: ObligationFacts,
) -> None:
    result = overall_status(f, NOW)
    failing = any(t.latest is not None and t.latest.outcome in ("failed", "error") for t in f.tests)
    if failing:
        assert result.status in (Status.FAILING, Status.SUSPECT, Status.NOT_APPLICABLE)


@given(facts)
def test_every_status_has_an_explanation(f: ObligationFacts) -> None:
    result = overall_status(f, NOW)
    assert result.explanation.strip()
    assert result.suspect == any(x.suspect for x in (*f.work_items, *f.tests))


@given(facts)
def test_suspect_status_only_when_a_link_is_suspect(f: ObligationFacts) -> None:
    result = overall_status(f, NOW)
    if result.status is Status.SUSPECT:
        assert result.suspect and not f.not_applicable


def test_explanation_names_a_few_tests_per_kind_and_counts_the_rest() -> None:
    tests = tuple(a_test(f"s/c/t{n}") for n in range(8))
    result = overall_status(
        ObligationFacts(obligation_id="X-1", work_items=(work(),), tests=tests), NOW
    )
    assert "s/c/t4 passed" in result.explanation
    assert "s/c/t5" not in result.explanation
    assert "and 3 more (all are listed on the obligation page)" in result.explanation
