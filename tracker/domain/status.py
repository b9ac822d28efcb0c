"""The status rule: implementation and verification axes, and one overall status with reasons."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple


class Implementation(StrEnum):
    """How far the linked Jira work has got."""

    NONE = "none"
    PLANNED = "planned"
    IN_PROGRESS = "in progress"
    DONE = "done"


class Verification(StrEnum):
    """What the latest results of the linked tests say."""

    UNCOVERED = "uncovered"
    NOT_RUN = "not run"
    STALE = "stale"
    PASSING = "passing"
    FAILING = "failing"


class Status(StrEnum):
    """The one overall status of an obligation; the rule is in overall_status()."""

    NOT_APPLICABLE = "NOT_APPLICABLE"
    GAP = "GAP"
    SUSPECT = "SUSPECT"
    FAILING = "FAILING"
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    IMPLEMENTED = "IMPLEMENTED"
    VERIFIED = "VERIFIED"


#: The order statuses are listed in (dashboards, filters): most urgent first.
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAILING,
    Status.SUSPECT,
    Status.GAP,
    Status.PLANNED,
    Status.IN_PROGRESS,
    Status.IMPLEMENTED,
    Status.VERIFIED,
    Status.NOT_APPLICABLE,
)

STATUS_LABELS: dict[Status, str] = {
    Status.NOT_APPLICABLE: "Not applicable",
    Status.GAP: "Gap",
    Status.SUSPECT: "Needs review",
    Status.FAILING: "Failing",
    Status.PLANNED: "Planned",
    Status.IN_PROGRESS: "In progress",
    Status.IMPLEMENTED: "Implemented",
    Status.VERIFIED: "Verified",
}

PASSING_OUTCOMES = frozenset({"passed"})
#: How many tests an explanation names per kind of result before it counts the rest.
MAX_NAMED_TESTS = 5
FAILING_OUTCOMES = frozenset({"failed", "error"})


# Facts are named tuples: a matrix builds tens of thousands of them per request, and a tuple
# is several times cheaper to create than a frozen dataclass while just as immutable.


class WorkItemFact(NamedTuple):
    """A linked work item as the rule sees it."""

    key: str
    status: str
    status_category: str  # Jira's category key: new, indeterminate or done
    suspect: bool = False
    missing: bool = False


class ResultFact(NamedTuple):
    """The latest result of one test in the scope asked for."""

    outcome: str  # passed, failed, error or skipped
    run_id: int
    at: datetime
    commit: str | None = None
    flaky: bool = False


class TestFact(NamedTuple):
    """A linked test and its latest result (None when it has no result in scope)."""

    test_id: str
    latest: ResultFact | None
    suspect: bool = False


TestFact.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class


class ObligationFacts(NamedTuple):
    """Everything the rule needs about one obligation."""

    obligation_id: str
    work_items: tuple[WorkItemFact, ...] = ()
    tests: tuple[TestFact, ...] = ()
    not_applicable: bool = False
    justification: str | None = None
    freshness: timedelta = timedelta(days=30)
    decided_by: str | None = None
    decided_role: str | None = None  # the decider's role then: only "legal" reads as "Legal"


class StatusResult(NamedTuple):
    """The computed status of one obligation and why."""

    status: Status
    implementation: Implementation
    verification: Verification
    suspect: bool
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        """Return the reasons as one sentence-per-reason text."""
        return " ".join(self.reasons)


def implementation_of(work_items: tuple[WorkItemFact, ...]) -> Implementation:
    """Return the implementation axis: done only when every linked work item is done."""
    if not work_items:
        return Implementation.NONE
    categories = ["missing" if item.missing else item.status_category for item in work_items]
    if all(category == "done" for category in categories):
        return Implementation.DONE
    if all(category in ("new", "missing") for category in categories):
        return Implementation.PLANNED
    return Implementation.IN_PROGRESS


def verification_of(
    tests: tuple[TestFact, ...], now: datetime, freshness: timedelta
) -> Verification:
    """Return the verification axis from the latest result of each linked test."""
    return _verification(_classify(tests, now, freshness)) if tests else Verification.UNCOVERED


def _classify(
    tests: tuple[TestFact, ...], now: datetime, freshness: timedelta
) -> dict[str, list[TestFact]]:
    """Sort linked tests by what their latest result says, in one pass."""
    kinds: dict[str, list[TestFact]] = {"Failing": [], "Not run": [], "Stale": [], "Passing": []}
    for test in tests:
        latest = test.latest
        if latest is None:
            kinds["Not run"].append(test)
        elif latest.outcome in FAILING_OUTCOMES:
            kinds["Failing"].append(test)
        elif latest.outcome not in PASSING_OUTCOMES:
            kinds["Not run"].append(test)
        elif now - latest.at > freshness:
            kinds["Stale"].append(test)
        else:
            kinds["Passing"].append(test)
    return kinds


def _verification(kinds: dict[str, list[TestFact]]) -> Verification:
    if kinds["Failing"]:
        return Verification.FAILING
    if kinds["Not run"]:
        return Verification.NOT_RUN
    if kinds["Stale"]:
        return Verification.STALE
    return Verification.PASSING


def overall_status(facts: ObligationFacts, now: datetime) -> StatusResult:
    """Apply the documented rule; the first matching line wins.

    1. NOT_APPLICABLE  someone allowed to (legal or admin) recorded that it does not apply.
    2. GAP             nothing is linked: no work item and no test.
    3. SUSPECT         a link was reviewed against an older version of the obligation.
    4. FAILING         a linked test's latest result failed or errored.
    5. PLANNED         no linked work item has started (or none is linked, only tests).
    6. IN_PROGRESS     linked work has started but is not all done.
    7. VERIFIED        all linked work is done and every linked test's latest result
                       passed within the freshness window.
    8. IMPLEMENTED     all linked work is done, verification is missing, not run or stale.
    """
    implementation = implementation_of(facts.work_items)
    kinds = _classify(facts.tests, now, facts.freshness)
    verification = _verification(kinds) if facts.tests else Verification.UNCOVERED
    suspect_links = [item.key for item in facts.work_items if item.suspect] + [
        test.test_id for test in facts.tests if test.suspect
    ]
    suspect = bool(suspect_links)

    def result(status: Status, *reasons: str) -> StatusResult:
        return StatusResult(status, implementation, verification, suspect, reasons)

    if facts.not_applicable:
        why = f" Justification: {facts.justification}" if facts.justification else ""
        return result(
            Status.NOT_APPLICABLE, f"{_decider(facts)} this obligation does not apply.{why}"
        )
    if not facts.work_items and not facts.tests:
        return result(Status.GAP, "No Jira work item and no test is linked.")
    work = _describe_work(facts.work_items)
    tests = _describe_tests(kinds, now, facts.freshness) if facts.tests else NO_TEST
    if suspect:
        return result(
            Status.SUSPECT,
            "The obligation changed since these links were reviewed: "
            f"{', '.join(suspect_links)}. Review them.",
            *work,
            *tests,
        )
    if verification is Verification.FAILING:
        return result(Status.FAILING, *tests, *work)
    if implementation in (Implementation.NONE, Implementation.PLANNED):
        return result(Status.PLANNED, *work, *tests)
    if implementation is Implementation.IN_PROGRESS:
        return result(Status.IN_PROGRESS, *work, *tests)
    if verification is Verification.PASSING:
        return result(Status.VERIFIED, *work, *tests)
    return result(Status.IMPLEMENTED, *work, *tests)


def _describe_work(work_items: tuple[WorkItemFact, ...]) -> tuple[str, ...]:
    if not work_items:
        return ("No Jira work item is linked.",)
    parts = []
    for item in work_items:
        if item.missing:
            parts.append(f"{item.key} is missing in Jira (deleted or moved)")
        else:
            parts.append(f"{item.key} is {item.status or item.status_category}")
    return ("Work: " + "; ".join(parts) + ".",)


NO_TEST = ("No test is linked.",)


def _describe_tests(
    kinds: dict[str, list[TestFact]], now: datetime, freshness: timedelta
) -> tuple[str, ...]:
    reasons = []
    for label, members in kinds.items():
        if not members:
            continue
        # Only the first few are put into words: a row can have hundreds of tests.
        shown = "; ".join(
            _describe_test(test, now, freshness) for test in members[:MAX_NAMED_TESTS]
        )
        more = len(members) - MAX_NAMED_TESTS
        tail = f"; and {more} more (all are listed on the obligation page)" if more > 0 else ""
        reasons.append(f"{label}: {shown}{tail}.")
    return tuple(reasons)


def _describe_test(test: TestFact, now: datetime, freshness: timedelta) -> str:
    latest = test.latest
    if latest is None:
        return f"{test.test_id} has no result"
    if latest.outcome in FAILING_OUTCOMES:
        return f"{test.test_id} {latest.outcome} in {_run(latest)}"
    if latest.outcome not in PASSING_OUTCOMES:
        return f"{test.test_id} was {latest.outcome} in {_run(latest)}"
    if now - latest.at > freshness:
        return (
            f"{test.test_id} last passed {(now - latest.at).days} days ago in {_run(latest)}, "
            f"older than the {freshness.days}-day freshness window"
        )
    flaky = " (flaky: passed on rerun)" if latest.flaky else ""
    return f"{test.test_id} passed in {_run(latest)}{flaky}"


@lru_cache(maxsize=1024)
def _run_words(run_id: int, commit: str | None, at: datetime) -> str:
    commit_words = f" at commit {commit[:12]}" if commit else ""
    return f"run #{run_id}{commit_words} on {at:%Y-%m-%d %H:%M} UTC"


def _run(result: ResultFact) -> str:
    # Many tests share a run: describe each run once.
    return _run_words(result.run_id, result.commit, result.at)


def _decider(facts: ObligationFacts) -> str:
    """Say who recorded a decision as it was: 'Legal (ana@example.com) decided that'."""
    if not facts.decided_by:
        return "It was recorded that"
    if facts.decided_role == "legal":
        return f"Legal ({facts.decided_by}) decided that"
    role = f", {facts.decided_role}" if facts.decided_role else ""
    return f"{facts.decided_by}{role} recorded that"
