"""The retention schedule page's view objects, and the parsing of its filters and scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from flask import url_for

from tracker.domain.retention import RetentionPurpose
from tracker.domain.status import STATUS_LABELS, STATUS_ORDER, Status, Verification
from tracker.domain.text_rules import field_label
from tracker.errors import ValidationError
from tracker.models import RetentionDuty, column_length
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import ScopeChoices
from tracker.services.retention_schedule import RetentionSchedule, ScheduleRow
from tracker.web.links import obligation_href_prefix, safe_url
from tracker.web.request_args import parse_scope_args, text_arg
from tracker.web.status_style import STATUS_CSS, VERIFICATION_CSS

MAX_SYSTEM = column_length(RetentionDuty, "system_id")
ACTIVITY_PREFIX = "/data-map/activities/"
_OUTCOMES = {
    "passed": ("Passed", Verification.PASSING),
    "failed": ("Failed", Verification.FAILING),
    "error": ("Error", Verification.FAILING),
    "skipped": ("Skipped", Verification.NOT_RUN),
}


@dataclass(frozen=True)
class ScheduleQuery:
    """The filters and evidence scope of a schedule request, parsed."""

    system: str | None = None
    status: str | None = None
    release: str | None = None
    branch: str | None = None
    environment: str | None = None

    def args(self) -> dict[str, str]:
        """Return the query arguments that are set."""
        values = {
            "system": self.system,
            "status": self.status,
            "release": self.release,
            "branch": self.branch,
            "environment": self.environment,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def active(self) -> bool:
        """Return whether a filter or a scope is set."""
        return bool(self.args())


def parse_schedule_query(args: Mapping[str, str]) -> ScheduleQuery:
    """Read the system and status filters and the scope; ValidationError names a bad value."""
    status = (args.get("status") or "").strip().upper() or None
    if status is not None and status not in Status.__members__:
        choices = ", ".join(item.value for item in STATUS_ORDER)
        raise ValidationError(
            f"Unknown status '{field_label(args.get('status') or '')}'. Use one of: {choices}.",
            field="status",
        )
    scope = parse_scope_args(args)
    return ScheduleQuery(
        system=text_arg(args, "system", MAX_SYSTEM),
        status=status,
        release=scope["release"],
        branch=scope["branch"],
        environment=scope["environment"],
    )


@dataclass(frozen=True)
class Chip:
    """A linked test or work item, with its state in words and its badge class."""

    label: str
    href: str | None
    state: str
    css: str
    title: str = ""
    suspect: bool = False


@dataclass(frozen=True)
class PurposeNote:
    """An activity's own rule for the data, linked to the activity."""

    activity_id: str
    href: str
    words: str
    note: str | None


@dataclass(frozen=True)
class DutyView:
    """One duty as the schedule prints it."""

    obligation_id: str
    href: str
    evidence_href: str
    system_id: str
    system_name: str
    period: str
    trigger: str
    governing: PurposeNote | None
    shorter: tuple[PurposeNote, ...]
    work_items: tuple[Chip, ...]
    tests: tuple[Chip, ...]
    status_label: str
    status_css: str
    explanation: str
    review_note: str


@dataclass(frozen=True)
class CategoryGroup:
    """The duties of one data category."""

    data_category: str
    duties: tuple[DutyView, ...]


@dataclass(frozen=True)
class Option:
    """One choice of a select."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class SchedulePage:
    """Everything the retention schedule page shows."""

    groups: list[CategoryGroup]
    shown: int
    total: int
    query: ScheduleQuery
    systems: list[Option]
    statuses: list[Option]
    releases: list[Option]
    tallies: list[tuple[str, str, int]]
    scope: str
    generated_at: str
    notes: tuple[str, ...]


def schedule_page(
    schedule: RetentionSchedule,
    query: ScheduleQuery,
    scope: EvidenceScope,
    choices: ScopeChoices,
) -> SchedulePage:
    """Return the page's view object: the rows that pass the filters, grouped by category."""
    rows = schedule.rows
    shown = [row for row in rows if _matches(row, query)]
    prefix = obligation_href_prefix()
    groups: dict[str, list[DutyView]] = {}
    for row in shown:
        groups.setdefault(row.data_category, []).append(_duty_view(row, prefix))
    systems = sorted({(row.system_id, row.system_name) for row in rows}, key=lambda item: item[1])
    if query.system and query.system not in {system_id for system_id, _ in systems}:
        systems.append((query.system, query.system))
    releases = list(choices.releases)
    if query.release and query.release not in releases:
        releases.append(query.release)
    counts = {status: 0 for status in STATUS_ORDER}
    for row in shown:
        counts[row.result.status] += 1
    return SchedulePage(
        groups=[CategoryGroup(category, tuple(duties)) for category, duties in groups.items()],
        shown=len(shown),
        total=len(rows),
        query=query,
        systems=[Option(value, label, value == query.system) for value, label in systems],
        statuses=[
            Option(status.value, STATUS_LABELS[status], status.value == query.status)
            for status in STATUS_ORDER
        ],
        releases=[Option(name, name, name == query.release) for name in releases],
        tallies=[
            (STATUS_LABELS[status], STATUS_CSS[status], count)
            for status, count in counts.items()
            if count
        ],
        scope=scope.describe(),
        generated_at=f"{schedule.generated_at:%Y-%m-%d %H:%M} UTC",
        notes=schedule.notes,
    )


def _matches(row: ScheduleRow, query: ScheduleQuery) -> bool:
    if query.system and row.system_id != query.system:
        return False
    return not (query.status and row.result.status.value != query.status)


def _duty_view(row: ScheduleRow, prefix: str) -> DutyView:
    result = row.result
    notes = [_purpose_note(purpose) for purpose in row.purposes]
    quoted = quote(row.obligation_id, safe="")
    return DutyView(
        obligation_id=row.obligation_id,
        href=prefix + quoted,
        evidence_href=url_for("evidence.obligation", obligation_id=row.obligation_id),
        system_id=row.system_id,
        system_name=row.system_name,
        period=row.period,
        trigger=row.trigger,
        governing=notes[0] if notes else None,
        shorter=tuple(notes[1:]),
        work_items=tuple(
            Chip(
                label=item.key,
                href=safe_url(item.url),
                state="missing in Jira" if item.missing else item.status,
                css="missing" if item.missing else "muted",
                title=item.summary,
                suspect=item.suspect,
            )
            for item in row.work_items
        ),
        tests=tuple(_test_chip(test.test_id, test.outcome, test.suspect) for test in row.tests),
        status_label=STATUS_LABELS[result.status],
        status_css=STATUS_CSS[result.status],
        explanation=result.explanation,
        review_note="Links need review"
        if result.suspect and result.status is not Status.SUSPECT
        else "",
    )


def _purpose_note(purpose: RetentionPurpose) -> PurposeNote:
    return PurposeNote(
        activity_id=purpose.activity_id,
        href=ACTIVITY_PREFIX + quote(purpose.activity_id, safe=""),
        words=f"{purpose.period} after {purpose.trigger}",
        note=purpose.note,
    )


def _test_chip(test_id: str, outcome: str | None, suspect: bool) -> Chip:
    label, verification = _OUTCOMES.get(outcome or "", ("Not run", Verification.NOT_RUN))
    return Chip(
        label=test_id,
        href=None,
        state=label,
        css=VERIFICATION_CSS[verification],
        suspect=suspect,
    )
