"""Gap and Failing look clearly different in badges, bars and keys, and their labels are legible."""

from __future__ import annotations

import colorsys
import re
from pathlib import Path

import pytest

import tracker.web
from tracker.domain.status import Status
from tracker.web.status_style import STATUS_CSS

CSS = (Path(tracker.web.__file__).parent / "static" / "tracker.css").read_text(encoding="utf-8")


def rule(selector: str) -> str:
    match = re.search(r"^" + re.escape(selector) + r" \{([^}]*)\}", CSS, re.MULTILINE)
    assert match, f"no rule for {selector}"
    return match.group(1)


def colour(declarations: str, prop: str) -> tuple[float, float, float]:
    """Return the first #rrggbb of a property (a gradient's first colour) as 0..1 floats."""
    match = re.search(r"(?<![-\w])" + prop + r"\s*:[^;]*?#([0-9a-f]{6})", declarations)
    assert match, f"no {prop} colour in {declarations!r}"
    value = match.group(1)
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(rgb: tuple[float, float, float]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def hue_distance(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    first, second = colorsys.rgb_to_hls(*a)[0] * 360, colorsys.rgb_to_hls(*b)[0] * 360
    return min(abs(first - second), 360 - abs(first - second))


@pytest.mark.parametrize("prefix", ["", ".seg", ".swatch"])
def test_gap_and_failing_differ_in_hue_and_lightness(prefix: str) -> None:
    gap = colour(rule(prefix + "." + STATUS_CSS[Status.GAP]), "background")
    failing = colour(rule(prefix + "." + STATUS_CSS[Status.FAILING]), "background")
    assert hue_distance(gap, failing) >= 30
    assert contrast(gap, failing) >= 2.5


def test_gap_badge_has_its_own_edge_so_it_differs_without_colour_too() -> None:
    assert "dashed" in rule("." + STATUS_CSS[Status.GAP])
    assert "dashed" not in rule("." + STATUS_CSS[Status.FAILING])


@pytest.mark.parametrize("status", list(Status))
def test_every_status_badge_label_is_legible(status: Status) -> None:
    declarations = rule("." + STATUS_CSS[status])
    assert contrast(colour(declarations, "color"), colour(declarations, "background")) >= 4.5
