"""The one rule for text from outside: which characters are refused, and how it is said."""

from __future__ import annotations

import pytest

from tracker.domain.text_rules import (
    character_problem,
    field_label,
    has_control_characters,
    text_problem,
    without_control_characters,
)

REFUSED = {
    "NUL": "a\x00b",
    "escape": "a\x1bb",
    "DEL": "a\x7fb",
    "a C1 control (NEL)": "a\x85b",
    "a lone high surrogate": "a\ud800b",
    "a lone low surrogate (an undecodable byte)": "a\udcffb",
}
KEPT = {
    "a non-breaking space": "a\u00a0b",
    "a line separator": "a\u2028b",
    "a zero-width joiner": "a\u200db",
    "an emoji": "a\U0001f600b",
}


@pytest.mark.parametrize("label", sorted(REFUSED))
def test_control_characters_and_halves_of_surrogate_pairs_are_refused(label: str) -> None:
    assert has_control_characters(REFUSED[label])
    assert has_control_characters(REFUSED[label], multiline=True)


@pytest.mark.parametrize("label", sorted(KEPT))
def test_unusual_characters_that_are_text_are_kept(label: str) -> None:
    assert not has_control_characters(KEPT[label])
    assert text_problem("branch", KEPT[label], 100) is None


def test_line_breaks_and_tabs_are_allowed_only_in_multi_line_text() -> None:
    for value in ("a\nb", "a\r\nb", "a\tb"):
        assert has_control_characters(value)
        assert not has_control_characters(value, multiline=True)


def test_the_message_says_control_characters_or_not_text_as_the_case_is() -> None:
    control = text_problem("release", "2026\x1b12", 100)
    assert control is not None and control.startswith("release must not contain control")
    broken = text_problem("release", "2026\udcff", 100)
    assert broken is not None and "not valid text" in broken and "control" not in broken
    assert character_problem("a\tb", multiline=True) is None


def test_outside_names_are_shown_with_refused_characters_replaced() -> None:
    assert without_control_characters("r\x00port\ud800.xml") == "r?port?.xml"
    assert field_label("bad\x00_name\udcff") == "bad? name?"
