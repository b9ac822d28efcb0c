"""View objects for the test-evidence pages, and the pass/fail chart drawn as inline SVG."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from flask import url_for

from tracker.domain.status import FAILING_OUTCOMES, PASSING_OUTCOMES, STATUS_LABELS
from tracker.models import TestRun
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import (
    ObligationEvidence,
    Orphans,
    RunDetail,
    RunFilter,
    RunOutcome,
    RunsPage,
    TestHistory,
)
from tracker.web.views import STATUS_CSS, VERIFICATION_CSS, VERIFICATION_LABELS

OUTCOME_LABELS = {"passed": "Passed", "failed": "Failed", "error": "Error", "skipped": "Skipped"}
OUTCOME_CSS = {
    "passed": "outcome-pass",
    "failed": "outcome-fail",
    "error": "outcome-fail",
    "skipped": "outcome-none",
}
EXCERPT_LENGTH = 240
MAX_UNKNOWN_SHOWN = 5

# Chart geometry in SVG user units; the CSS scales the drawing to the page width.
BAR_WIDTH = 14
BAR_GAP = 4
CHART_HEIGHT = 80
CHART_PADDING = 2


@dataclass(frozen=True)
class Pager:
    """Where a page of a long list is, with links to its neighbours."""

    first: int
    last: int
    total: int
    noun: str
    previous_href: str | None
    next_href: str | None

    @property
    def summary(self) -> str:
        """Return e.g. '51–100 of 230 runs'."""
        if not self.total:
            return f"No {self.noun}"
        if self.first > self.total:
            return f"Nothing on this page; there are {self.total} {self.noun}"
        return f"{self.first}–{self.last} of {self.total} {self.noun}"

    @property
    def needed(self) -> bool:
        """Return whether there is more than one page."""
        return self.previous_href is not None or self.next_href is not None


@dataclass(frozen=True)
class RunRow:
    """A run as lists and headings show it."""

    id: int
    href: str
    started: str
    received: str
    suite: str
    commit: str
    commit_short: str
    branch: str
    release: str
    environment: str
    source: str
    uploaded_by: str
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    state_label: str
    state_css: str
    unknown_ids: list[str]
    unknown_more: int
    invalid_ids: list[str]


@dataclass(frozen=True)
class RunFilterView:
    """The runs list's filters as the form shows them."""

    suite: str
    branch: str
    release: str
    environment: str
    active: bool


@dataclass(frozen=True)
class RunsListPage:
    """The list of runs, newest first."""

    runs: list[RunRow]
    pager: Pager
    filters: RunFilterView


@dataclass(frozen=True)
class ObligationRef:
    """A link to an obligation."""

    id: str
    href: str
    title: str = ""
    origin: str = ""


@dataclass(frozen=True)
class ResultRow:
    """One result of a run: the test, its outcome and the start of its failure message."""

    test_id: str
    href: str
    outcome_label: str
    outcome_css: str
    flaky: bool
    duration: str
    excerpt: str
    message: str  # the whole message, only when the excerpt does not show all of it
    obligations: list[ObligationRef]
    unknown_ids: list[str]


@dataclass(frozen=True)
class RunPage:
    """One run and a page of its results."""

    run: RunRow
    results: list[ResultRow]
    pager: Pager
    api_href: str


@dataclass(frozen=True)
class ChartBar:
    """One coloured segment of a run's column."""

    x: int
    y: int
    width: int
    height: int
    css: str


@dataclass(frozen=True)
class ChartColumn:
    """One run in the chart: its segments, a link to the run and its description."""

    href: str
    label: str
    bars: list[ChartBar]


@dataclass(frozen=True)
class Chart:
    """A small pass/fail chart over runs, oldest on the left, with its text alternative."""

    width: int
    height: int
    columns: list[ChartColumn]
    title: str
    description: str


@dataclass(frozen=True)
class HistoryRow:
    """One test's outcome in one run."""

    run_id: int
    run_href: str
    started: str
    suite: str
    commit: str
    commit_short: str
    branch: str
    release: str
    environment: str
    test_id: str
    test_href: str
    outcome_label: str
    outcome_css: str
    flaky: bool
    duration: str
    excerpt: str


@dataclass(frozen=True)
class TestPage:
    """A test's history over runs and what it is linked to."""

    __test__ = False

    test_id: str
    suite: str
    classname: str
    name: str
    first_seen: str
    last_seen: str
    obligations: list[ObligationRef]
    unknown_ids: list[str]
    chart: Chart | None
    results: list[HistoryRow]
    total_results: int
    results_note: str


@dataclass(frozen=True)
class EvidenceRunRow:
    """A run in an obligation's history: counts of its linked tests and their outcomes."""

    run: RunRow
    passed: int
    failed: int
    other: int
    results: list[HistoryRow]


@dataclass(frozen=True)
class VerificationPanel:
    """An obligation's status and verification in the chosen scope, and why."""

    status_label: str
    status_css: str
    verification_label: str
    verification_css: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ObligationEvidencePage:
    """An obligation's evidence: its verification now and its linked tests over runs."""

    id: str
    title: str
    href: str
    scope: str
    verification: VerificationPanel | None
    tests: list[tuple[str, str, str]]
    chart: Chart | None
    runs: list[EvidenceRunRow]
    total_runs: int
    runs_note: str
    filters: RunFilterView


@dataclass(frozen=True)
class ClaimRow:
    """A test tagged with an obligation id the catalog does not have."""

    claimed_id: str
    test_id: str
    test_href: str
    run_id: int
    run_href: str
    suite: str


@dataclass(frozen=True)
class NeverRunRow:
    """An obligation whose linked tests never reported a result."""

    id: str
    title: str
    href: str
    evidence_href: str
    tests: list[tuple[str, str]]


@dataclass(frozen=True)
class OrphansPage:
    """The orphans report."""

    claims: list[ClaimRow]
    total_claims: int
    never_run: list[NeverRunRow]
    claims_note: str
    never_run_note: str


def runs_list_page(data: RunsPage, run_filter: RunFilter) -> RunsListPage:
    """Return the runs list's view object."""
    filter_args = _filter_args(run_filter)
    base = url_for("evidence.runs")
    return RunsListPage(
        runs=[run_row(run) for run in data.runs],
        pager=pager(
            data.offset,
            data.limit,
            data.total,
            "runs",
            lambda page: base + _query(filter_args | ({"page": str(page)} if page > 1 else {})),
        ),
        filters=_filter_view(run_filter),
    )


def run_page(data: RunDetail) -> RunPage:
    """Return the run page's view object."""
    run = data.run
    base = url_for("evidence.run", run_id=run.id)
    test_prefix = _test_href_prefix()
    obligation_prefix = _obligation_href_prefix()
    return RunPage(
        run=run_row(run, unknown_limit=None),
        results=[
            ResultRow(
                test_id=line.test_id,
                href=test_prefix + str(line.test_case_id),
                outcome_label=OUTCOME_LABELS.get(line.outcome, line.outcome),
                outcome_css=OUTCOME_CSS.get(line.outcome, "outcome-none"),
                flaky=line.flaky,
                duration=_duration(line.duration),
                excerpt=excerpt(line.message),
                message=_more_than_excerpt(line.message),
                obligations=[
                    ObligationRef(item, obligation_prefix + quote(item, safe=""))
                    for item in line.obligations
                ],
                unknown_ids=list(line.unknown_ids),
            )
            for line in data.results
        ],
        pager=pager(
            data.offset,
            data.limit,
            data.total_results,
            "results",
            lambda page: base + (f"?page={page}" if page > 1 else ""),
        ),
        api_href=url_for("test_runs_api.get_run", run_id=run.id),
    )


def test_page(data: TestHistory) -> TestPage:
    """Return the test page's view object."""
    test_case = data.case
    href = url_for("evidence.test", test_case_id=test_case.id)
    rows = [_history_row(result, test_case.test_id, href) for result in data.results]
    return TestPage(
        test_id=test_case.test_id,
        suite=test_case.suite,
        classname=test_case.classname,
        name=test_case.name,
        first_seen=_when(test_case.first_seen_at),
        last_seen=_when(test_case.last_seen_at),
        obligations=[
            ObligationRef(
                item.id,
                url_for("evidence.obligation", obligation_id=item.id),
                item.title,
                item.origin,
            )
            for item in data.obligations
        ],
        unknown_ids=data.unknown_ids,
        chart=outcome_chart(
            [(result.run, [result.outcome]) for result in data.results],
            f"Outcome of {test_case.test_id} per run ({_last(len(data.results))})",
        ),
        results=rows,
        total_results=data.total_results,
        results_note=_shown_note(len(rows), data.total_results, "results"),
    )


def obligation_evidence_page(
    data: ObligationEvidence, scope: EvidenceScope, run_filter: RunFilter
) -> ObligationEvidencePage:
    """Return the obligation evidence page's view object."""
    obligation = data.obligation
    test_prefix = _test_href_prefix()
    names = {test.test_case_id: test.test_id for test in data.tests}
    verification = None
    if data.row is not None:
        result = data.row.result
        verification = VerificationPanel(
            status_label=STATUS_LABELS[result.status],
            status_css=STATUS_CSS[result.status],
            verification_label=VERIFICATION_LABELS[result.verification],
            verification_css=VERIFICATION_CSS[result.verification],
            reasons=result.reasons,
        )
    runs = []
    for entry in data.runs:
        results = sorted(entry.results, key=lambda item: names.get(item.test_case_id, ""))
        outcomes = [result.outcome for result in results]
        passed = sum(outcome in PASSING_OUTCOMES for outcome in outcomes)
        failed = sum(outcome in FAILING_OUTCOMES for outcome in outcomes)
        runs.append(
            EvidenceRunRow(
                run=run_row(entry.run),
                passed=passed,
                failed=failed,
                other=len(outcomes) - passed - failed,
                results=[
                    _history_row(
                        result,
                        names.get(result.test_case_id, ""),
                        test_prefix + str(result.test_case_id),
                    )
                    for result in results
                ],
            )
        )
    return ObligationEvidencePage(
        id=obligation.id,
        title=obligation.title,
        href=url_for("obligations.show", obligation_id=obligation.id),
        scope=scope.describe(),
        verification=verification,
        tests=[
            (test.test_id, test_prefix + str(test.test_case_id), test.origin) for test in data.tests
        ],
        chart=outcome_chart(
            [(entry.run, [result.outcome for result in entry.results]) for entry in data.runs],
            f"Passed and failed results of the tests linked to {obligation.id} per run "
            f"({_last(len(data.runs))} that ran them)",
        ),
        runs=runs,
        total_runs=data.total_runs,
        runs_note=_shown_note(len(runs), data.total_runs, "runs"),
        filters=_filter_view(run_filter),
    )


def orphans_page(data: Orphans) -> OrphansPage:
    """Return the orphans report's view object."""
    test_prefix = _test_href_prefix()
    run_prefix = url_for("evidence.run", run_id=0).removesuffix("0")
    claims = _plural(data.total_claims, "claim")
    if data.total_claims > len(data.claims):
        claims += f", the first {len(data.claims)} shown"
    return OrphansPage(
        claims=[
            ClaimRow(
                claimed_id=claim.claimed_id,
                test_id=claim.test_id,
                test_href=test_prefix + str(claim.test_case_id),
                run_id=claim.run_id,
                run_href=run_prefix + str(claim.run_id),
                suite=claim.suite,
            )
            for claim in data.claims
        ],
        total_claims=data.total_claims,
        never_run=[
            NeverRunRow(
                id=item.id,
                title=item.title,
                href=url_for("obligations.show", obligation_id=item.id),
                evidence_href=url_for("evidence.obligation", obligation_id=item.id),
                tests=[(test_id, test_prefix + str(case_id)) for case_id, test_id in item.tests],
            )
            for item in data.never_run
        ],
        claims_note=f"From each test's newest report: {claims}.",
        never_run_note=f"{_plural(len(data.never_run), 'obligation')} with linked tests, "
        "none of which has a result in any run.",
    )


def run_row(run: TestRun, unknown_limit: int | None = MAX_UNKNOWN_SHOWN) -> RunRow:
    """Return a run's strings for lists and headings."""
    unknown = list(run.unknown_ids or ())
    shown = unknown if unknown_limit is None else unknown[:unknown_limit]
    failing = run.failed + run.errors
    if failing:
        state = (f"{failing} failing", "st-failing")
    elif run.total and run.passed == run.total:
        state = ("All passed", "st-verified")
    elif run.total:
        state = ("No failures", "st-implemented")
    else:
        state = ("Empty", "st-planned")
    return RunRow(
        id=run.id or 0,
        href=url_for("evidence.run", run_id=run.id),
        started=_when(run.started_at),
        received=_when(run.created_at),
        suite=run.suite,
        commit=run.commit or "",
        commit_short=(run.commit or "")[:12],
        branch=run.branch or "",
        release=run.release or "",
        environment=run.environment or "",
        source=run.source_name,
        uploaded_by=run.uploaded_by,
        total=run.total,
        passed=run.passed,
        failed=run.failed,
        errors=run.errors,
        skipped=run.skipped,
        flaky=run.flaky,
        state_label=state[0],
        state_css=state[1],
        unknown_ids=shown,
        unknown_more=len(unknown) - len(shown),
        invalid_ids=list(run.invalid_ids or ()),
    )


def outcome_chart(runs: Sequence[tuple[TestRun, Sequence[str]]], title: str) -> Chart | None:
    """Return a stacked pass/fail/other column per run (newest-first input, drawn oldest left)."""
    if not runs:
        return None
    inner = CHART_HEIGHT - 2 * CHART_PADDING
    columns = []
    all_passed = with_failures = 0
    for index, (run, outcomes) in enumerate(reversed(runs)):
        passed = sum(outcome in PASSING_OUTCOMES for outcome in outcomes)
        failed = sum(outcome in FAILING_OUTCOMES for outcome in outcomes)
        other = len(outcomes) - passed - failed
        all_passed += bool(outcomes) and passed == len(outcomes)
        with_failures += failed > 0
        x = CHART_PADDING + index * (BAR_WIDTH + BAR_GAP)
        bars = []
        bottom = CHART_HEIGHT - CHART_PADDING
        heights = _split(inner, [passed, other, failed], len(outcomes))
        for css, height in zip(("chart-pass", "chart-other", "chart-fail"), heights, strict=True):
            if height:
                bars.append(ChartBar(x, bottom - height, BAR_WIDTH, height, css))
                bottom -= height
        if not outcomes:
            bars.append(ChartBar(x, CHART_HEIGHT - CHART_PADDING - 2, BAR_WIDTH, 2, "chart-other"))
        columns.append(
            ChartColumn(
                href=url_for("evidence.run", run_id=run.id),
                label=f"Run #{run.id} on {_when(run.started_at)}: {passed} passed, "
                f"{failed} failed, {other} skipped or other",
                bars=bars,
            )
        )
    latest_run, latest = runs[0]
    latest_passed = sum(outcome in PASSING_OUTCOMES for outcome in latest)
    latest_failed = sum(outcome in FAILING_OUTCOMES for outcome in latest)
    noun = "run" if len(runs) == 1 else "runs"
    description = (
        f"{len(runs)} {noun}, oldest on the left: {all_passed} with every result passed, "
        f"{with_failures} with failures. Latest: run #{latest_run.id} on "
        f"{_when(latest_run.started_at)}, {latest_passed} passed and {latest_failed} failed."
    )
    width = 2 * CHART_PADDING + len(runs) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    return Chart(
        width=width, height=CHART_HEIGHT, columns=columns, title=title, description=description
    )


def pager(offset: int, limit: int, total: int, noun: str, href: Callable[[int], str]) -> Pager:
    """Return the pager of a list page (pages are numbered from 1)."""
    page = offset // limit + 1
    last_page = max(1, (total + limit - 1) // limit)
    return Pager(
        first=offset + 1,
        last=min(offset + limit, total),
        total=total,
        noun=noun,
        previous_href=href(min(page - 1, last_page)) if page > 1 else None,
        next_href=href(page + 1) if page < last_page else None,
    )


def excerpt(message: str | None) -> str:
    """Return the start of a failure message on one line (the template escapes it)."""
    if not message:
        return ""
    line = " ".join(message.split())
    return line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…"


def _last(count: int) -> str:
    return "the last run" if count == 1 else f"the last {count} runs"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _shown_note(shown: int, total: int, noun: str) -> str:
    """Return e.g. 'The last 30 of 120 runs.' or '12 runs.'."""
    if shown < total:
        return f"The last {shown} of {total} {noun}."
    return f"{total} {noun}." if total != 1 else f"1 {noun.removesuffix('s')}."


def _more_than_excerpt(message: str | None) -> str:
    """Return the whole message when its excerpt does not already show all of it."""
    return message if message and excerpt(message) != message else ""


def _split(space: int, counts: Sequence[int], total: int) -> list[int]:
    """Return heights proportional to counts that add up to space (largest remainders)."""
    if not total or not any(counts):
        return [0 for _ in counts]
    exact = [space * count / total for count in counts]
    heights = [int(value) for value in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - heights[i], reverse=True)
    for index in by_remainder[: space - sum(heights)]:
        heights[index] += 1
    return heights


def _history_row(result: RunOutcome, test_id: str, test_href: str) -> HistoryRow:
    run = result.run
    return HistoryRow(
        run_id=run.id or 0,
        run_href=url_for("evidence.run", run_id=run.id),
        started=_when(run.started_at),
        suite=run.suite,
        commit=run.commit or "",
        commit_short=(run.commit or "")[:12],
        branch=run.branch or "",
        release=run.release or "",
        environment=run.environment or "",
        test_id=test_id,
        test_href=test_href,
        outcome_label=OUTCOME_LABELS.get(result.outcome, result.outcome),
        outcome_css=OUTCOME_CSS.get(result.outcome, "outcome-none"),
        flaky=result.flaky,
        duration=_duration(result.duration),
        excerpt=excerpt(result.message),
    )


def _filter_args(run_filter: RunFilter) -> dict[str, str]:
    values = {
        "suite": run_filter.suite or "",
        "branch": run_filter.branch or "",
        "release": run_filter.release or "",
        "environment": run_filter.environment or "",
    }
    return {name: value for name, value in values.items() if value}


def _filter_view(run_filter: RunFilter) -> RunFilterView:
    return RunFilterView(
        suite=run_filter.suite or "",
        branch=run_filter.branch or "",
        release=run_filter.release or "",
        environment=run_filter.environment or "",
        active=run_filter.active,
    )


def _query(args: dict[str, str]) -> str:
    return "?" + urlencode(args) if args else ""


def _test_href_prefix() -> str:
    return url_for("evidence.test", test_case_id=0).removesuffix("0")


def _obligation_href_prefix() -> str:
    marker = "__OBLIGATION__"
    return url_for("obligations.show", obligation_id=marker).replace(marker, "")


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""
