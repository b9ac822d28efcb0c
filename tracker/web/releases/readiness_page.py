"""The readiness page of a release: verdict, blockers by what unblocks them, sign-offs, risks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flask import url_for

from tracker.domain.release_verdict import EXCEPTED, SignOffState
from tracker.domain.status import STATUS_LABELS, Status
from tracker.models import ReadinessRecord, ReleaseException, ReleaseSnapshot
from tracker.services.release_readiness import Readiness
from tracker.web.status_style import STATUS_CSS

GROUPS = (
    ("failing", "Failing tests", "Fix the failing test or the code; the run shows the failure."),
    ("gap", "Nothing linked yet", "Create an epic for it in Jira, or link existing work."),
    ("work", "Work not done", "The linked Jira work is not finished for this release."),
    ("suspect", "Links to review", "The obligation changed: legal reviews its links."),
    ("evidence", "No passing evidence", "Add tests that name the obligation, or run them."),
    ("signoff", "Sign-off missing", "Someone with the legal role signs it off below."),
)
_GROUP_OF = {
    Status.FAILING: "failing",
    Status.GAP: "gap",
    Status.PLANNED: "work",
    Status.IN_PROGRESS: "work",
    Status.SUSPECT: "suspect",
    Status.IMPLEMENTED: "evidence",
}


@dataclass(frozen=True)
class Blocker:
    """One obligation that blocks, with where to fix it."""

    id: str
    title: str
    status: str
    status_css: str
    reasons: str
    fix_label: str
    fix_href: str
    detail: str


@dataclass(frozen=True)
class BlockerGroup:
    """Blockers that the same kind of action unblocks (the first ones; the matrix has all)."""

    key: str
    title: str
    hint: str
    items: list[Blocker]
    total: int
    more_href: str | None


@dataclass(frozen=True)
class ExceptionRow:
    """An exception of the release."""

    id: int
    obligation_id: str
    state: str
    state_css: str
    justification: str
    control: str
    owner: str
    expires: str
    requested_by: str
    approved_by: str
    can_approve: bool


@dataclass(frozen=True)
class SignableRow:
    """An obligation legal may sign off now."""

    id: str
    title: str
    status: str
    signoff: str


@dataclass(frozen=True)
class SnapshotRow:
    """A frozen snapshot of the release."""

    id: int
    frozen: str
    frozen_by: str
    verdict: str
    hash: str


@dataclass(frozen=True)
class BurnDownBar:
    """One day of the burn-down: its bar and the words for it."""

    x: int
    y: int
    width: int
    height: int
    label: str


@dataclass(frozen=True)
class BurnDown:
    """Open blockers per recorded day, drawn on the server, with a text alternative."""

    width: int
    height: int
    bars: list[BurnDownBar]
    description: str


CHART_HEIGHT = 120
BAR_WIDTH = 14


def burn_down(history: Sequence[ReadinessRecord]) -> BurnDown | None:
    """Return the chart of the days recorded (None before the first record)."""
    if not history:
        return None
    top = max(max(record.blocking for record in history), 1)
    bars = []
    for index, record in enumerate(history):
        height = round(record.blocking * (CHART_HEIGHT - 10) / top)
        bars.append(
            BurnDownBar(
                x=index * (BAR_WIDTH + 4),
                y=CHART_HEIGHT - height,
                width=BAR_WIDTH,
                height=height,
                label=f"{record.day.isoformat()}: {record.blocking} of {record.total} block",
            )
        )
    first, last = history[0], history[-1]
    description = (
        f"Blockers from {first.day.isoformat()} ({first.blocking}) to "
        f"{last.day.isoformat()} ({last.blocking}), one bar per recorded day."
    )
    return BurnDown(
        width=len(history) * (BAR_WIDTH + 4),
        height=CHART_HEIGHT,
        bars=bars,
        description=description,
    )


@dataclass(frozen=True)
class ReadinessPage:
    """Everything the readiness page shows."""

    name: str
    release_date: str
    ready: bool
    verdict_words: str
    signed_off: bool
    counts: list[tuple[str, str, int]]  # label, css, count
    total: int
    groups: list[BlockerGroup]
    signed: int
    signable: list[SignableRow]
    signable_instruments: list[str]
    signoff_instrument: str
    exceptions: list[ExceptionRow]
    expired: list[int]
    evidence: str
    snapshots: list[SnapshotRow]
    previous: str | None
    chart: BurnDown | None


def readiness_page(
    readiness: Readiness,
    snapshots: Sequence[ReleaseSnapshot],
    requester_ref: str | None,
    previous: str | None,
    today: date,
    history: Sequence[ReadinessRecord] = (),
    signoff_instrument: str = "",
    assignees: Mapping[str, str | None] | None = None,
) -> ReadinessPage:
    """Build the readiness page."""
    verdicts = {item.id: item for item in readiness.verdict.obligations}
    groups: dict[str, list[Blocker]] = {key: [] for key, _, _ in GROUPS}
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    for row in readiness.rows:
        verdict = verdicts[row.id]
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
        if not verdict.blocking:
            continue
        status = row.result.status
        key = _GROUP_OF.get(status, "signoff")
        if len(groups[key]) < SHOWN_PER_GROUP:
            groups[key].append(
                _blocker(row.id, row.title, status, verdict.reasons, readiness, key, assignees)
            )
        totals[key] = totals.get(key, 0) + 1
    signed = sum(1 for item in readiness.verdict.obligations if item.signoff is SignOffState.SIGNED)
    candidates = [
        row
        for row in readiness.rows
        if row.result.status in (Status.VERIFIED, Status.IMPLEMENTED)
        and verdicts[row.id].signoff in (SignOffState.MISSING, SignOffState.LAPSED)
        and verdicts[row.id].verdict != EXCEPTED
    ]
    signable = [
        SignableRow(row.id, row.title, STATUS_LABELS[row.result.status], verdicts[row.id].signoff)
        for row in candidates
        if not signoff_instrument or row.instrument == signoff_instrument
    ]
    release = readiness.release
    return ReadinessPage(
        name=release.name,
        release_date=release.release_date.isoformat() if release.release_date else "no date yet",
        ready=readiness.verdict.ready,
        verdict_words=_verdict_words(readiness),
        signed_off=readiness.verdict.signed_off,
        counts=_counts(counts),
        total=len(readiness.rows),
        groups=[
            BlockerGroup(
                key,
                title,
                hint,
                groups[key],
                totals.get(key, 0),
                _more_href(release.name, key) if totals.get(key, 0) > SHOWN_PER_GROUP else None,
            )
            for key, title, hint in GROUPS
            if groups[key]
        ],
        signed=signed,
        signable=signable,
        signable_instruments=sorted({row.instrument for row in candidates}),
        signoff_instrument=signoff_instrument,
        exceptions=_exception_rows(readiness.exceptions, requester_ref, today),
        expired=list(readiness.verdict.expired_exceptions),
        evidence=readiness.evidence,
        snapshots=[
            SnapshotRow(
                id=item.id or 0,
                frozen=f"{item.frozen_at:%Y-%m-%d %H:%M} UTC",
                frozen_by=item.frozen_by,
                verdict="ready" if item.ready else "blocked",
                hash=item.hash[:16],
            )
            for item in snapshots
        ],
        previous=previous,
        chart=burn_down(history),
    )


def _blocker(
    ob_id: str,
    title: str,
    status: Status,
    reasons: Sequence[str],
    readiness: Readiness,
    group: str,
    assignees: Mapping[str, str | None] | None,
) -> Blocker:
    page = url_for("obligations.show", obligation_id=ob_id)
    facts = readiness.facts[ob_id]
    detail = ""
    fix_label, fix_href = "Open the obligation", page
    if group == "failing":
        failing = [t for t in facts.tests if t.latest and t.latest.outcome in ("failed", "error")]
        if failing and failing[0].latest:
            run = failing[0].latest.run_id
            fix_label, fix_href = f"Run #{run}", url_for("evidence.run", run_id=run)
            detail = f"{failing[0].test_id} {failing[0].latest.outcome}"
    elif group == "gap":
        fix_label, fix_href = "Create the epic", page + "#create-epic"
    elif group == "work":
        detail = "; ".join(
            f"{item.key}: {item.status}"
            + (
                f", assigned to {assignees[item.key]}"
                if assignees and assignees.get(item.key)
                else ""
            )
            for item in facts.work_items
        )
        fix_label = "See the work"
    elif group == "suspect":
        fix_label, fix_href = "Review the links", page + "#links"
    elif group == "evidence":
        fix_label = "Its evidence"
        fix_href = url_for("evidence.obligation", obligation_id=ob_id)
    elif group == "signoff":
        fix_label, fix_href = "Sign it off", "#sign-off"
    return Blocker(
        id=ob_id,
        title=title,
        status=STATUS_LABELS[status],
        status_css=STATUS_CSS[status],
        reasons=" ".join(reasons),
        fix_label=fix_label,
        fix_href=fix_href,
        detail=detail,
    )


SHOWN_PER_GROUP = 50
_GROUP_STATUS = {
    "failing": "FAILING",
    "gap": "GAP",
    "suspect": "SUSPECT",
    "evidence": "IMPLEMENTED",
    "work": "IN_PROGRESS",
}


def _more_href(release: str, group: str) -> str | None:
    status = _GROUP_STATUS.get(group)
    if status is None:
        return None
    return url_for("matrix.index", release=release, status=status)


def _verdict_words(readiness: Readiness) -> str:
    blocking = len(readiness.verdict.blocking)
    if readiness.verdict.ready:
        return f"Ready: nothing blocks release {readiness.release.name} under the policy."
    noun = "obligation blocks" if blocking == 1 else "obligations block"
    return f"Blocked: {blocking} {noun} release {readiness.release.name}."


def _counts(counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    found = []
    for status in Status:
        if counts.get(status.value):
            found.append((STATUS_LABELS[status], STATUS_CSS[status], counts[status.value]))
    if counts.get(EXCEPTED):
        found.append(("Excepted", "st-not-applicable", counts[EXCEPTED]))
    return found


def _exception_rows(
    exceptions: Mapping[str, list[ReleaseException]], requester_ref: str | None, today: date
) -> list[ExceptionRow]:
    rows = []
    for ob_id in sorted(exceptions):
        for item in exceptions[ob_id]:
            if item.withdrawn_at is not None:
                state, css = "withdrawn", "st-not-applicable"
            elif item.expires_on < today:
                state, css = "expired", "st-failing"
            elif item.approved_at is not None:
                state, css = "approved", "st-verified"
            else:
                state, css = "awaiting approval", "st-planned"
            rows.append(
                ExceptionRow(
                    id=item.id or 0,
                    obligation_id=ob_id,
                    state=state,
                    state_css=css,
                    justification=item.justification,
                    control=item.compensating_control,
                    owner=item.risk_owner,
                    expires=item.expires_on.isoformat(),
                    requested_by=item.requested_by,
                    approved_by=item.approved_by or "",
                    can_approve=state == "awaiting approval"
                    and requester_ref is not None
                    and requester_ref != item.requested_by_ref,
                )
            )
    return rows
