"""View objects of the applicability pages: the proposal list and the obligation page's section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from urllib.parse import quote, urlencode

from flask import url_for

from tracker.domain.applicability_decisions import DecisionState
from tracker.domain.applicability_vocabulary import PROPOSAL_WORDS, ProposalKind
from tracker.errors import ValidationError
from tracker.models import Instrument, column_length
from tracker.services.applicability_proposals import (
    ProposalDetail,
    ProposalList,
    ProposalRow,
)
from tracker.web.links import obligation_href_prefix
from tracker.web.request_args import integer_arg

#: Rows per page: the reasons make a row tall, and 3,000 at once is no page to read.
PAGE_SIZE = 200
MAX_TEXT_FILTER = 200
MAX_INSTRUMENT = column_length(Instrument, "id")

PROPOSAL_LABELS = {
    ProposalKind.APPLICABLE: "Applies",
    ProposalKind.NOT_APPLICABLE: "Does not apply",
    ProposalKind.UNKNOWN: "Cannot tell",
}
PROPOSAL_CSS = {
    ProposalKind.APPLICABLE: "st-in-progress",
    ProposalKind.NOT_APPLICABLE: "st-not-applicable",
    ProposalKind.UNKNOWN: "st-gap",
}
STATE_LABELS = {
    DecisionState.UNDECIDED: "Not decided",
    DecisionState.CONFIRMED: "Confirmed",
    DecisionState.OVERRIDDEN: "Overridden",
    DecisionState.NEEDS_REVIEW: "Needs review",
}
STATE_CSS = {
    DecisionState.UNDECIDED: "st-planned",
    DecisionState.CONFIRMED: "st-verified",
    DecisionState.OVERRIDDEN: "st-implemented",
    DecisionState.NEEDS_REVIEW: "st-suspect",
}
FILTER_FIELDS = ("proposal", "decision", "instrument", "q")

_Choice = TypeVar("_Choice", bound=StrEnum)


#: Activities linked per row of the list; a row names the rest as a count.
LISTED_ACTIVITIES = 12


@dataclass(frozen=True)
class ProposalQuery:
    """The list's filters and page, as read from the query (or the confirm form)."""

    proposal: ProposalKind | None = None
    state: DecisionState | None = None
    instrument: str | None = None
    text: str | None = None
    page: int = 1

    def args(self, page: int | None = None) -> dict[str, str]:
        """Return the filters as query arguments (those set), with a page when not the first."""
        values = {
            "proposal": self.proposal.value if self.proposal else "",
            "decision": self.state.value if self.state else "",
            "instrument": self.instrument or "",
            "q": self.text or "",
        }
        number = self.page if page is None else page
        if number > 1:
            values["page"] = str(number)
        return {key: value for key, value in values.items() if value}


def parse_proposal_query(args: Mapping[str, str]) -> ProposalQuery:
    """Read the filters; ValidationError names a value that cannot be used."""
    proposal = _choice(args, "proposal", {kind.value: kind for kind in ProposalKind})
    state = _choice(args, "decision", {kind.value: kind for kind in DecisionState})
    instrument = (args.get("instrument") or "").strip() or None
    if instrument is not None and len(instrument) > MAX_INSTRUMENT:
        raise ValidationError(
            f"There is no instrument '{instrument[:40]}…': pick one from the list.",
            field="instrument",
        )
    text = (args.get("q") or "").strip() or None
    if text is not None and len(text) > MAX_TEXT_FILTER:
        raise ValidationError(
            f"The search text is too long: use at most {MAX_TEXT_FILTER} characters.", field="q"
        )
    if text is not None and any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise ValidationError("The search text must not contain control characters.", field="q")
    page = integer_arg(args, "page", 1, 1, 10_000)
    return ProposalQuery(proposal, state, instrument, text, page)


@dataclass(frozen=True)
class Option:
    """One choice of a filter's select."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ActivityLink:
    """A triggering activity, linked to its data map page."""

    id: str
    name: str
    href: str


@dataclass(frozen=True)
class Count:
    """One count above the list, linked to the list filtered by it."""

    label: str
    count: int
    href: str
    current: bool


@dataclass(frozen=True)
class RowView:
    """One obligation's proposal and decision state in words."""

    id: str
    href: str
    title: str
    instrument: str
    #: The proposal as a value (`applicable` ...), sent back with a chosen row.
    proposal: str
    proposal_label: str
    proposal_css: str
    reasons: tuple[str, ...]
    activities: list[ActivityLink]
    #: Triggering activities beyond those linked (the obligation page lists them all).
    more_activities: int
    state: str
    state_label: str
    state_css: str
    review_note: str
    decided: str
    confirmable: bool


@dataclass(frozen=True)
class ListPage:
    """Everything the applicability page shows."""

    rows: list[RowView]
    total: int
    matching: int
    proposal_counts: list[Count]
    state_counts: list[Count]
    proposals: list[Option]
    states: list[Option]
    instruments: list[Option]
    query: ProposalQuery
    hidden_filters: dict[str, str]
    page_number: int
    pages: int
    previous_href: str | None
    next_href: str | None
    can_confirm: bool
    error: str | None = None

    @property
    def any_confirmable(self) -> bool:
        """Tell whether some row shown can be confirmed."""
        return any(row.confirmable for row in self.rows)


def list_page(
    found: ProposalList, query: ProposalQuery, *, can_confirm: bool, error: str | None = None
) -> ListPage:
    """Return the list page's view object, for one page of the filtered rows."""
    pages = max(1, -(-len(found.rows) // PAGE_SIZE))
    number = min(query.page, pages)
    start = (number - 1) * PAGE_SIZE
    prefix = obligation_href_prefix()
    return ListPage(
        rows=[_row(row, prefix) for row in found.rows[start : start + PAGE_SIZE]],
        total=found.total,
        matching=len(found.rows),
        proposal_counts=[
            Count(
                PROPOSAL_LABELS[kind],
                count,
                _href(ProposalQuery(kind, None, query.instrument, query.text)),
                query.proposal is kind,
            )
            for kind, count in found.by_proposal.items()
        ],
        state_counts=[
            Count(
                STATE_LABELS[kind],
                count,
                _href(ProposalQuery(None, kind, query.instrument, query.text)),
                query.state is kind,
            )
            for kind, count in found.by_state.items()
        ],
        proposals=[
            Option(kind.value, PROPOSAL_LABELS[kind], query.proposal is kind)
            for kind in ProposalKind
        ],
        states=[
            Option(kind.value, STATE_LABELS[kind], query.state is kind) for kind in DecisionState
        ],
        instruments=[
            Option(instrument, instrument, instrument == query.instrument)
            for instrument in found.instruments
        ],
        query=query,
        hidden_filters=query.args(page=1),
        page_number=number,
        pages=pages,
        previous_href=_href(query, number - 1) if number > 1 else None,
        next_href=_href(query, number + 1) if number < pages else None,
        can_confirm=can_confirm,
        error=error,
    )


def _href(query: ProposalQuery, page: int | None = None) -> str:
    args = query.args(page=page)
    return url_for("applicability.index") + (f"?{urlencode(args)}" if args else "")


@dataclass(frozen=True)
class WhySection:
    """The obligation page's “Does it apply?” section (what the data map says)."""

    proposal_label: str
    proposal_css: str
    proposal_words: str
    reasons: tuple[str, ...]
    activities: list[ActivityLink]
    state: str
    state_label: str
    state_css: str
    review_note: str
    decided: str
    computed_at: str
    list_href: str


def why_section(detail: ProposalDetail | None) -> WhySection | None:
    """Return the obligation page's section on its proposal (None: nothing is proposed)."""
    if detail is None:
        return None
    row = detail.row
    return WhySection(
        proposal_label=PROPOSAL_LABELS[row.proposal],
        proposal_css=PROPOSAL_CSS[row.proposal],
        proposal_words=PROPOSAL_WORDS[row.proposal],
        reasons=row.reasons,
        activities=[
            ActivityLink(activity.id, activity.name or activity.id, activity_href(activity.id))
            for activity in detail.activities
        ],
        state=row.state.value,
        state_label=STATE_LABELS[row.state],
        state_css=STATE_CSS[row.state],
        review_note=row.review_note,
        decided=_decided(row),
        computed_at=f"{row.computed_at:%Y-%m-%d %H:%M} UTC",
        list_href=url_for("applicability.index", instrument=row.instrument_id),
    )


def activity_href(activity_id: str) -> str:
    """Return the data map page of an activity (a plain path: its blueprint is the data map's)."""
    return "/data-map/activities/" + quote(activity_id, safe="")


def _row(row: ProposalRow, prefix: str) -> RowView:
    return RowView(
        id=row.obligation_id,
        href=prefix + quote(row.obligation_id, safe=""),
        title=row.title,
        instrument=row.instrument_id,
        proposal=row.proposal.value,
        proposal_label=PROPOSAL_LABELS[row.proposal],
        proposal_css=PROPOSAL_CSS[row.proposal],
        reasons=row.reasons,
        activities=[
            ActivityLink(activity, activity, activity_href(activity))
            for activity in row.activities[:LISTED_ACTIVITIES]
        ],
        more_activities=max(0, len(row.activities) - LISTED_ACTIVITIES),
        state=row.state.value,
        state_label=(
            "Decided"
            if row.state is DecisionState.CONFIRMED and row.proposal is ProposalKind.UNKNOWN
            else STATE_LABELS[row.state]
        ),
        state_css=STATE_CSS[row.state],
        review_note=row.review_note,
        decided=_decided(row),
        confirmable=row.confirmable,
    )


def _decided(row: ProposalRow) -> str:
    decision = row.decision
    if decision is None:
        return "No decision yet: it counts as applicable until legal decides."
    verdict = "does not apply" if decision.not_applicable else "applies"
    role = f" ({decision.decided_role})" if decision.decided_role else ""
    day = f"{decision.decided_at:%Y-%m-%d}"
    return f"Decided that it {verdict}, by {decision.decided_by}{role} on {day}."


def _choice(args: Mapping[str, str], name: str, choices: Mapping[str, _Choice]) -> _Choice | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise ValidationError(
            f"Unknown {name} '{raw[:40]}'. Use one of: {', '.join(choices)}.", field=name
        )
    return choices[raw]
