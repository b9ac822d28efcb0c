"""Per-row renderings: a row kept from the matrix before is not rendered again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.web.fragments import RowFragments


@dataclass(frozen=True)
class Row:
    id: str
    status: str


def test_only_rows_not_seen_before_are_rendered() -> None:
    fragments = RowFragments()
    rendered: list[str] = []

    def render(rows: Sequence[Row]) -> list[bytes]:
        rendered.extend(row.id for row in rows)
        return [f"<{row.id}:{row.status}>".encode() for row in rows]

    first = [Row("A", "gap"), Row("B", "verified"), Row("C", "gap")]
    assert fragments.join("v", first, render, b",") == b"<A:gap>,<B:verified>,<C:gap>"
    assert rendered == ["A", "B", "C"]

    # B changed: a new row object in its place; A and C are the same objects as before.
    second = [first[0], Row("B", "failing"), first[2]]
    assert fragments.join("v", second, render, b",") == b"<A:gap>,<B:failing>,<C:gap>"
    assert rendered == ["A", "B", "C", "B"]


def test_an_equal_row_that_is_another_object_is_rendered_again() -> None:
    """Found by identity, never by equality: a row read back afresh is rendered afresh."""
    fragments = RowFragments()
    calls: list[int] = []

    def render(rows: Sequence[Row]) -> list[bytes]:
        calls.append(len(rows))
        return [row.id.encode() for row in rows]

    fragments.join("v", [Row("A", "gap")], render)
    fragments.join("v", [Row("A", "gap")], render)
    assert calls == [1, 1]


def test_variants_are_kept_apart() -> None:
    fragments = RowFragments()
    row = Row("A", "gap")
    assert fragments.join("html", [row], lambda rows: [b"<tr>A</tr>"]) == b"<tr>A</tr>"
    assert fragments.join("json", [row], lambda rows: [b'{"id": "A"}']) == b'{"id": "A"}'
