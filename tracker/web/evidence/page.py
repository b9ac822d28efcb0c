"""View objects for the test-evidence pages: runs, one run, a test, an obligation, orphans."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import url_for

from tracker.domain.status import FAILING_OUTCOMES, PASSING_OUTCOMES, STATUS_LABELS
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import (
    ObligationEvidence,
    Orphans,
    RunDetail,
    RunFilter,
    RunsPage,
    TestHistory,
)
from tracker.services.work_items import UnknownLabel
from tracker.web.evidence.chart import Chart, outcome_chart
from tracker.web.evidence.rows import (
    OUTCOME_CSS,
    OUTCOME_LABELS,
    AttemptRow,
    HistoryRow,
    Pager,
    RunRow,
    attempt_rows,
    cut_note,
    duration,
    excerpt,
    history_row,
    more_than_excerpt,
    pager,
    run_row,
    when,
)
from tracker.web.links import obligation_href_prefix, safe_url
from tracker.web.status_style import STATUS_CSS, VERIFICATION_CSS, VERIFICATION_LABELS


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
    flaky_title: str = ""
    cut_note: str = ""  # says so when the report's text was longer than the tracker keeps
    attempts: tuple[AttemptRow, ...] = ()  # when the report ran the test more than once


@dataclass(frozen=True)
class RunPage:
    """One run and a page of its results."""

    run: RunRow
    results: list[ResultRow]
    pager: Pager
    api_href: str


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
class LabelRow:
    """A Jira issue labelled obligation-X where X is no current obligation, and what to do."""

    label: str
    key: str
    href: str
    jira_href: str | None
    summary: str
    advice: str


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
    labels: list[LabelRow]
    labels_note: str


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
    obligation_prefix = obligation_href_prefix()
    return RunPage(
        run=run_row(run, unknown_limit=None),
        results=[
            ResultRow(
                test_id=line.test_id,
                href=test_prefix + str(line.test_case_id),
                outcome_label=OUTCOME_LABELS.get(line.outcome, line.outcome),
                outcome_css=OUTCOME_CSS.get(line.outcome, "outcome-none"),
                flaky=line.flaky,
                duration=duration(line.duration),
                excerpt=excerpt(line.message),
                message=more_than_excerpt(line.message),
                obligations=[
                    ObligationRef(item, obligation_prefix + quote(item, safe=""))
                    for item in line.obligations
                ],
                unknown_ids=list(line.unknown_ids),
                flaky_title=_flaky_title(line.outcome) if line.flaky else "",
                cut_note=cut_note(line.message, line.message_size),
                attempts=tuple(attempt_rows(line)),
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
    rows = [history_row(result, test_case.test_id, href) for result in data.results]
    return TestPage(
        test_id=test_case.test_id,
        suite=test_case.suite,
        classname=test_case.classname,
        name=test_case.name,
        first_seen=when(test_case.first_seen_at),
        last_seen=when(test_case.last_seen_at),
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
                    history_row(
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
        labels=[_label_row(label) for label in data.labels],
        labels_note=f"{_plural(len(data.labels), 'label')} on "
        f"{_plural(len({label.work_item_key for label in data.labels}), 'work item')}.",
        claims_note=f"From each test's newest report: {claims}.",
        never_run_note=f"{_plural(len(data.never_run), 'obligation')} with linked tests, "
        "none of which has a result in any run.",
    )


def _label_row(label: UnknownLabel) -> LabelRow:
    if label.retired:
        advice = (
            f"{label.obligation_id} was retired from the catalog: remove the label in Jira, or "
            "label the issue with the obligation that replaces it."
        )
    else:
        advice = (
            f"Fix the label on {label.work_item_key} in Jira, or add {label.obligation_id} to "
            "the catalog."
        )
    return LabelRow(
        label=label.label,
        key=label.work_item_key,
        href=url_for("work_items.show", key=label.work_item_key),
        jira_href=safe_url(label.url),
        summary=label.summary,
        advice=advice,
    )


def _last(count: int) -> str:
    return "the last run" if count == 1 else f"the last {count} runs"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _shown_note(shown: int, total: int, noun: str) -> str:
    """Return e.g. 'The last 30 of 120 runs.' or '12 runs.'."""
    if shown < total:
        return f"The last {shown} of {total} {noun}."
    return f"{total} {noun}." if total != 1 else f"1 {noun.removesuffix('s')}."


def _flaky_title(outcome: str) -> str:
    if outcome in PASSING_OUTCOMES:
        return "Failed first, passed on a rerun"
    return "Passed in another attempt in this run, but not in the last one"


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
