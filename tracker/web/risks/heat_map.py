"""The risk heat map: a 5×5 grid of likelihood by impact with the count of risks per cell.

Drawn on the server as SVG with presentation attributes only (no style attribute, no
script), so it shows inline under the content security policy and as a file of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.domain.data_map_vocabulary import IMPACT_WORDS, LIKELIHOOD_WORDS
from tracker.domain.risk import SCALE, HeatMap, RiskLevel, level, score

CELL_WIDTH = 68
CELL_HEIGHT = 44
LEFT = 128  # the likelihood words and the axis title
TOP = 12
BOTTOM = 48  # the impact words and the axis title
RIGHT = 8
WIDTH = LEFT + CELL_WIDTH * len(SCALE) + RIGHT
HEIGHT = TOP + CELL_HEIGHT * len(SCALE) + BOTTOM

#: Cell colours by level; each cell's title and the key say the level in words as well.
LEVEL_FILL: dict[RiskLevel, str] = {
    RiskLevel.LOW: "#dcefe1",
    RiskLevel.MEDIUM: "#fbf1b5",
    RiskLevel.HIGH: "#f9cf9f",
    RiskLevel.VERY_HIGH: "#f3a5a5",
}
TEXT_FILL = "#1f2933"
LABEL_FILL = "#3e4c59"


@dataclass(frozen=True)
class HeatCell:
    """One cell: where it is drawn, its colour, its count and its description."""

    x: int
    y: int
    fill: str
    count: int
    title: str

    @property
    def text_x(self) -> int:
        """Return the horizontal centre of the cell."""
        return self.x + CELL_WIDTH // 2

    @property
    def text_y(self) -> int:
        """Return the vertical centre of the cell."""
        return self.y + CELL_HEIGHT // 2


@dataclass(frozen=True)
class AxisText:
    """A label on an axis."""

    x: int
    y: int
    text: str


@dataclass(frozen=True)
class HeatMapView:
    """Everything the heat map template draws."""

    id: str  # unique on the page (the title and description ids)
    title: str
    description: str
    width: int
    height: int
    cells: tuple[HeatCell, ...]
    likelihood_labels: tuple[AxisText, ...]
    impact_labels: tuple[AxisText, ...]
    x_title: AxisText
    y_title: AxisText
    grid_left: int
    grid_top: int
    grid_right: int
    grid_bottom: int
    cell_width: int = CELL_WIDTH
    cell_height: int = CELL_HEIGHT
    text_fill: str = TEXT_FILL
    label_fill: str = LABEL_FILL


def heat_map_view(heat: HeatMap, *, id: str, context: str) -> HeatMapView:
    """Return the drawing of a heat map; context says what it covers, e.g. 'release 2026.12'."""
    kind = "Residual" if heat.residual else "Inherent"
    cells = []
    for likelihood in SCALE:
        for impact in SCALE:
            count = heat.count(likelihood, impact)
            value = score(likelihood, impact)
            found = level(value)
            risks = "1 risk" if count == 1 else f"{count} risks"
            cells.append(
                HeatCell(
                    x=LEFT + (impact - 1) * CELL_WIDTH,
                    y=TOP + (len(SCALE) - likelihood) * CELL_HEIGHT,
                    fill=LEVEL_FILL[found],
                    count=count,
                    title=(
                        f"Likelihood {likelihood} ({LIKELIHOOD_WORDS[likelihood]}), impact "
                        f"{impact} ({IMPACT_WORDS[impact]}): score {value}, {found.value}: "
                        f"{risks}"
                    ),
                )
            )
    bottom = TOP + CELL_HEIGHT * len(SCALE)
    busy = [cell.title for cell in cells if cell.count]
    total = "1 risk" if heat.total == 1 else f"{heat.total} risks"
    return HeatMapView(
        id=id,
        title=f"{kind} risk, {context}",
        description=(
            f"{kind} likelihood (rows, 5 at the top) by impact (columns, 5 on the right) of "
            f"{total}. " + ("; ".join(busy) + "." if busy else "No risk to show.")
        ),
        width=WIDTH,
        height=HEIGHT,
        cells=tuple(cells),
        likelihood_labels=tuple(
            AxisText(
                LEFT - 6,
                TOP + (len(SCALE) - value) * CELL_HEIGHT + CELL_HEIGHT // 2,
                f"{value} {LIKELIHOOD_WORDS[value]}",
            )
            for value in SCALE
        ),
        impact_labels=tuple(
            AxisText(
                LEFT + (value - 1) * CELL_WIDTH + CELL_WIDTH // 2,
                bottom + 14,
                f"{value} {IMPACT_WORDS[value]}",
            )
            for value in SCALE
        ),
        x_title=AxisText(LEFT + CELL_WIDTH * len(SCALE) // 2, bottom + 36, "Impact"),
        y_title=AxisText(14, TOP + CELL_HEIGHT * len(SCALE) // 2, "Likelihood"),
        grid_left=LEFT,
        grid_top=TOP,
        grid_right=LEFT + CELL_WIDTH * len(SCALE),
        grid_bottom=bottom,
    )
