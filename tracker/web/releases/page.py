"""View objects for the releases page, and a release as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.domain.releases import Release

STATE_CSS = {"released": "st-verified", "unreleased": "st-planned", "archived": "st-not-applicable"}


@dataclass(frozen=True)
class ReleaseRow:
    """One release in the list."""

    name: str
    date: str
    state: str
    state_css: str
    source: str


def release_rows(releases: Sequence[Release]) -> list[ReleaseRow]:
    """Build the rows of the releases page."""
    return [
        ReleaseRow(
            name=release.name,
            date=release.release_date.isoformat() if release.release_date else "no date yet",
            state=release.state,
            state_css=STATE_CSS[release.state],
            source=_source(release),
        )
        for release in releases
    ]


def _source(release: Release) -> str:
    parts = []
    if release.projects:
        parts.append("Jira fix version in " + ", ".join(release.projects))
    if release.in_tracker:
        parts.append("created in the tracker")
    return "; ".join(parts)
