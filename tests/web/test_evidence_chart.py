"""The pass/fail chart is legible: at least 120 px high, labelled axes, labels that never overlap."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tracker.models import TestRun
from tracker.web.evidence.chart import LABEL_CHAR_WIDTH, outcome_chart

START = datetime(2026, 11, 1, tzinfo=UTC)


def runs(count: int, first_id: int = 1) -> list[tuple[TestRun, list[str]]]:
    """Return count runs, newest first as the pages give them, alternating pass and fail."""
    made = [
        (
            TestRun(
                id=first_id + n, suite="s", content_hash=str(n), started_at=START + timedelta(n)
            ),
            ["passed", "failed" if n % 2 else "passed", "skipped"],
        )
        for n in range(count)
    ]
    return list(reversed(made))


@pytest.mark.parametrize("count", [1, 3, 30, 100])
def test_the_chart_is_tall_enough_labelled_and_fits_a_1280_px_page(app, count: int) -> None:
    with app.test_request_context():
        chart = outcome_chart(runs(count, first_id=1000), "Outcomes")
    assert chart is not None
    assert chart.height >= 120
    assert chart.width <= 1100  # inside the page's content at 1,280 px, beside nothing else
    assert [tick.text for tick in chart.y_ticks] == ["0%", "50%", "100%"]
    assert chart.x_title.text == "Runs, oldest to newest" and chart.y_title.text == "Results"
    assert chart.x_labels[-1].text == f"#{999 + count}", "the newest run is always labelled"
    for left, right in pairwise(chart.x_labels):
        half_widths = (len(left.text) + len(right.text)) * LABEL_CHAR_WIDTH / 2
        assert right.x - left.x >= half_widths, "run labels overlap"
    plot_height = chart.bottom - chart.top
    for column in chart.columns:
        assert sum(bar.height for bar in column.bars) == plot_height
        assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in column.bars)


def test_the_obligation_evidence_page_draws_the_axes_and_their_labels(client, session) -> None:  # type: ignore[no-untyped-def]
    load_small_catalog(session)
    for days_ago in (2, 1):
        ingest(session, report(case("test_erasure", "ALPHA-1.1"), days_ago=days_ago))
    text = client.get("/obligations/ALPHA-1.1/evidence").get_data(as_text=True)
    svg = re.search(r'<svg class="outcome-chart".*?</svg>', text, flags=re.DOTALL)
    assert svg, "no chart"
    chart = svg.group(0)
    height = int(re.search(r' height="(\d+)"', chart).group(1))  # type: ignore[union-attr]
    assert height >= 120
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]+)</text>', chart)
    assert labels[:3] == ["0%", "50%", "100%"]
    assert labels[3:] == ["#1", "#2"]
    assert ">Runs, oldest to newest</text>" in chart and ">Results</text>" in chart
