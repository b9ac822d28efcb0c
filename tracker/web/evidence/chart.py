"""The pass/fail chart over runs on the evidence pages, drawn as inline SVG with labelled axes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for

from tracker.domain.status import FAILING_OUTCOMES, PASSING_OUTCOMES
from tracker.models import TestRun
from tracker.web.evidence.rows import when

# Geometry in SVG user units, drawn at one unit per pixel (the CSS only shrinks it to fit).
PLOT_HEIGHT = 100
TOP = 8
LEFT = 44  # room for the y-axis title and "100%"
RIGHT = 8
BOTTOM = 34  # room for the run labels and the x-axis title
CHART_HEIGHT = TOP + PLOT_HEIGHT + BOTTOM  # 142: legible, at least 120 px high
#: Widest a column gets (few runs) and the plot width many runs share (they get narrower).
COLUMN_WIDTH = 24
PLOT_WIDTH_LIMIT = 960
MIN_PLOT_WIDTH = 150  # so that the x-axis title fits under a single run
LABEL_CHAR_WIDTH = 6.5  # of the 10px labels, to keep run labels from overlapping


@dataclass(frozen=True)
class ChartBar:
    """One coloured segment of a run's column."""

    x: float
    y: int
    width: float
    height: int
    css: str


@dataclass(frozen=True)
class ChartColumn:
    """One run in the chart: its segments, a link to the run and its description."""

    href: str
    label: str
    bars: list[ChartBar]


@dataclass(frozen=True)
class AxisLabel:
    """A label on an axis, at x (run labels) or y (share ticks) in chart units."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    """A pass/fail chart over runs, oldest on the left, with its axes and text alternative."""

    width: int
    height: int
    columns: list[ChartColumn]
    title: str
    description: str
    left: int  # the plot area, inside the axes
    top: int
    right: int
    bottom: int
    y_ticks: tuple[AxisLabel, ...]  # 0%, 50%, 100% of a run's results
    x_labels: tuple[AxisLabel, ...]  # run numbers
    x_title: AxisLabel
    y_title: AxisLabel


def outcome_chart(runs: Sequence[tuple[TestRun, Sequence[str]]], title: str) -> Chart | None:
    """Return a stacked pass/fail/other column per run (newest-first input, drawn oldest left)."""
    if not runs:
        return None
    column = min(COLUMN_WIDTH, PLOT_WIDTH_LIMIT / len(runs))
    bar_width = max(column * 0.75, 1.0)
    plot_width = max(column * len(runs), MIN_PLOT_WIDTH)
    offset = LEFT + (plot_width - column * len(runs)) / 2  # few runs sit in the middle
    bottom = TOP + PLOT_HEIGHT
    columns = []
    all_passed = with_failures = 0
    ordered = list(reversed(runs))
    for index, (run, outcomes) in enumerate(ordered):
        passed = sum(outcome in PASSING_OUTCOMES for outcome in outcomes)
        failed = sum(outcome in FAILING_OUTCOMES for outcome in outcomes)
        other = len(outcomes) - passed - failed
        all_passed += bool(outcomes) and passed == len(outcomes)
        with_failures += failed > 0
        x = round(offset + index * column + (column - bar_width) / 2, 2)
        bars = []
        top = bottom
        heights = _split(PLOT_HEIGHT, [passed, other, failed], len(outcomes))
        for css, height in zip(("chart-pass", "chart-other", "chart-fail"), heights, strict=True):
            if height:
                bars.append(ChartBar(x, top - height, round(bar_width, 2), height, css))
                top -= height
        if not outcomes:
            bars.append(ChartBar(x, bottom - 2, round(bar_width, 2), 2, "chart-other"))
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
    width = math.ceil(LEFT + plot_width + RIGHT)
    return Chart(
        width=width,
        height=CHART_HEIGHT,
        columns=columns,
        title=title,
        description=description,
        left=LEFT,
        top=TOP,
        right=math.ceil(LEFT + plot_width),
        bottom=bottom,
        y_ticks=tuple(
            AxisLabel(LEFT - 4, round(bottom - PLOT_HEIGHT * share / 100), f"{share}%")
            for share in (0, 50, 100)
        ),
        x_labels=_run_labels([run for run, _ in ordered], offset, column, bottom + 13),
        x_title=AxisLabel(LEFT + plot_width / 2, bottom + 28, "Runs, oldest to newest"),
        y_title=AxisLabel(11, TOP + PLOT_HEIGHT / 2, "Results"),
    )


def _run_labels(
    runs: Sequence[TestRun], offset: float, column: float, y: float
) -> tuple[AxisLabel, ...]:
    """Label every run whose label fits, always the newest; they never overlap."""
    widest = max(len(f"#{run.id}") for run in runs) * LABEL_CHAR_WIDTH + 4
    step = max(1, math.ceil(widest / column))
    chosen = set(range(len(runs) - 1, -1, -step))  # counted back from the newest
    return tuple(
        AxisLabel(round(offset + index * column + column / 2, 2), y, f"#{run.id}")
        for index, run in enumerate(runs)
        if index in chosen
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
