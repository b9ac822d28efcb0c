"""The dashboard's view objects: each instrument's obligations counted per status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import url_for

from tracker.domain.matrix import MatrixRow, status_counts
from tracker.domain.status import STATUS_LABELS, STATUS_ORDER
from tracker.services.evidence import EvidenceScope
from tracker.web.status_style import STATUS_CSS


@dataclass(frozen=True)
class StatusCell:
    """One status count of an instrument, linking to the matrix filtered to it."""

    status: str
    label: str
    css: str
    count: int
    href: str
    width: str
    title: str


@dataclass(frozen=True)
class InstrumentSummary:
    """An instrument's obligations counted per status."""

    id: str
    title: str
    total: int
    href: str
    cells: list[StatusCell]

    @property
    def segments(self) -> list[StatusCell]:
        """Return the cells drawn in the bar (those with a count)."""
        return [cell for cell in self.cells if cell.count]


@dataclass(frozen=True)
class DashboardPage:
    """Everything the dashboard shows."""

    instruments: list[InstrumentSummary]
    overall: InstrumentSummary
    generated_at: str
    scope: str
    #: What the evidence scope lacks (no run reported there), said next to the scope.
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Return whether no obligation is loaded yet."""
        return self.overall.total == 0


def dashboard_page(
    rows: Sequence[MatrixRow],
    instrument_titles: Mapping[str, str],
    generated_at: datetime,
    scope: EvidenceScope,
    notes: Sequence[str] = (),
) -> DashboardPage:
    """Return the dashboard's view object: counts per instrument and overall."""
    base = url_for("matrix.index")
    by_instrument: dict[str, list[MatrixRow]] = {}
    for row in rows:
        by_instrument.setdefault(row.instrument, []).append(row)
    instruments = [
        _summary(base, instrument, instrument_titles.get(instrument, instrument), members)
        for instrument, members in sorted(by_instrument.items())
    ]
    return DashboardPage(
        instruments=instruments,
        overall=_summary(base, None, "All instruments", rows),
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
        scope=scope.describe(),
        notes=tuple(notes),
    )


def _summary(
    base: str, instrument: str | None, title: str, rows: Sequence[MatrixRow]
) -> InstrumentSummary:
    counts = status_counts(rows)
    total = sum(counts.values())
    widths = bar_widths([counts[status] for status in STATUS_ORDER])
    scope = {"instrument": instrument} if instrument else {}
    cells = []
    for status, width in zip(STATUS_ORDER, widths, strict=True):
        count = counts[status]
        label = STATUS_LABELS[status]
        noun = "obligation" if total == 1 else "obligations"
        cells.append(
            StatusCell(
                status=status.value,
                label=label,
                css=STATUS_CSS[status],
                count=count,
                href=f"{base}?{urlencode(scope | {'status': status.value})}",
                width=f"w-{width}",
                title=f"{label}: {count} of {total} {noun}",
            )
        )
    return InstrumentSummary(
        id=instrument or "",
        title=title,
        total=total,
        href=base + (f"?{urlencode(scope)}" if scope else ""),
        cells=cells,
    )


def bar_widths(counts: Sequence[int]) -> list[int]:
    """Return whole-percent widths summing to 100; every non-zero count gets at least 1."""
    total = sum(counts)
    if total == 0:
        return [0 for _ in counts]
    shares = [count * 100 / total for count in counts]
    widths = [
        max(1, int(share)) if count else 0 for count, share in zip(counts, shares, strict=True)
    ]
    by_remainder = sorted(
        (index for index, count in enumerate(counts) if count),
        key=lambda index: shares[index] - int(shares[index]),
        reverse=True,
    )
    surplus = sum(widths) - 100
    while surplus < 0:
        for index in by_remainder:
            if surplus == 0:
                break
            widths[index] += 1
            surplus += 1
    while surplus > 0:
        widest = max(range(len(widths)), key=lambda index: widths[index])
        widths[widest] -= 1
        surplus -= 1
    return widths
