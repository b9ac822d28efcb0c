"""The test-evidence pages: runs, one run, a test's history, an obligation's evidence, orphans."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.services.evidence_pages import (
    list_runs,
    obligation_evidence,
    orphans,
    run_detail,
    test_history,
)
from tracker.web.auth import requires
from tracker.web.evidence.page import (
    obligation_evidence_page,
    orphans_page,
    run_page,
    runs_list_page,
    test_page,
)
from tracker.web.request_args import evidence_scope, integer_arg, parse_run_filter

evidence = Blueprint("evidence", __name__)

RUNS_PER_PAGE = 50
RESULTS_PER_PAGE = 200
HISTORY_RUNS = 30
TEST_HISTORY_RUNS = 100


@evidence.get("/evidence/runs")
@requires(Permission.READ)
def runs() -> str:
    """List the ingested test runs, newest first, with their counts and unknown ids."""
    page = integer_arg(request.args, "page", 1, 1, 1_000_000)
    run_filter = parse_run_filter(request.args)
    data = list_runs(
        session=get_session(),
        offset=(page - 1) * RUNS_PER_PAGE,
        limit=RUNS_PER_PAGE,
        run_filter=run_filter,
    )
    return render_template("evidence/runs.html", page=runs_list_page(data, run_filter))


@evidence.get("/evidence/runs/<int:run_id>")
@requires(Permission.READ)
def run(run_id: int) -> str:
    """Show one run: where it came from and its results, failures first."""
    page = integer_arg(request.args, "page", 1, 1, 1_000_000)
    data = run_detail(
        session=get_session(),
        run_id=run_id,
        offset=(page - 1) * RESULTS_PER_PAGE,
        limit=RESULTS_PER_PAGE,
    )
    return render_template("evidence/run.html", page=run_page(data))


@evidence.get("/evidence/tests/<int:test_case_id>")
@requires(Permission.READ)
def test(test_case_id: int) -> str:
    """Show one test's outcomes over runs and the obligations it is linked to."""
    data = test_history(session=get_session(), test_case_id=test_case_id, limit=TEST_HISTORY_RUNS)
    return render_template("evidence/test.html", page=test_page(data))


@evidence.get("/obligations/<obligation_id>/evidence")
@requires(Permission.READ)
def obligation(obligation_id: str) -> str:
    """Show an obligation's verification in scope and its linked tests' results over runs."""
    scope = evidence_scope()
    run_filter = parse_run_filter(request.args)
    data = obligation_evidence(
        session=get_session(),
        obligation_id=obligation_id,
        scope=scope,
        run_filter=run_filter,
        limit=HISTORY_RUNS,
    )
    page = obligation_evidence_page(data, scope, run_filter)
    return render_template("evidence/obligation.html", page=page)


@evidence.get("/evidence/orphans")
@requires(Permission.READ)
def orphans_report() -> str:
    """List tests tagged with unknown obligation ids and obligations whose tests never ran."""
    data = orphans(session=get_session())
    return render_template("evidence/orphans.html", page=orphans_page(data))
