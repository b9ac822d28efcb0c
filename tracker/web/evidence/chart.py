"""The pass/fail chart over runs on the evidence pages, drawn as inline SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for

from tracker.domain.status import FAILING_OUTCOMES, PASSING_OUTCOMES
from tracker.models import TestRun
from tracker.web.evidence.rows import when

# Chart geometry in SVG user units; the CSS scales the drawing to the page width.
BAR_WIDTH = 14
BAR_GAP = 4
CHART_HEIGHT = 80
CHART_PADDING = 2


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
                label=f"Run #{run.id} on {when(run.started_at)}: {passed} passed, "
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
        f"{when(latest_run.started_at)}, {latest_passed} passed and {latest_failed} failed."
    )
    width = 2 * CHART_PADDING + len(runs) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    return Chart(
        width=width, height=CHART_HEIGHT, columns=columns, title=title, description=description
    )


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
