"""Releases: Jira fix versions of the same name across projects are one release."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple


@dataclass(frozen=True)
class FixVersion:
    """One Jira project's fix version, as synced."""

    name: str
    project: str
    release_date: date | None
    released: bool
    archived: bool


@dataclass(frozen=True)
class TrackerRelease:
    """A release created in the tracker (for a product not released through Jira versions)."""

    name: str
    release_date: date | None


@dataclass(frozen=True)
class Release:
    """One release as people see it: its name, date, state and where it comes from."""

    name: str
    release_date: date | None
    released: bool
    archived: bool
    projects: tuple[str, ...]
    in_tracker: bool

    def as_json(self) -> dict[str, Any]:
        """Return the release as the API and `tracker releases list --format json` show it."""
        return {
            "name": self.name,
            "release_date": self.release_date.isoformat() if self.release_date else None,
            "state": self.state,
            "released": self.released,
            "archived": self.archived,
            "jira_projects": list(self.projects),
            "created_in_tracker": self.in_tracker,
        }

    @property
    def state(self) -> str:
        """Return 'archived', 'released' or 'unreleased'."""
        if self.archived:
            return "archived"
        return "released" if self.released else "unreleased"


def merge_releases(
    versions: Iterable[FixVersion], created: Iterable[TrackerRelease]
) -> list[Release]:
    """Return one release per name, newest date first (undated ones first: still planned).

    Across projects a release is released (or archived) only when every project's version is,
    and its date is the earliest one given; a date set in the tracker wins.
    """
    by_name: dict[str, list[FixVersion]] = {}
    for version in versions:
        by_name.setdefault(version.name, []).append(version)
    own = {release.name: release for release in created}
    releases = []
    for name in set(by_name) | set(own):
        group = by_name.get(name, [])
        dates = [version.release_date for version in group if version.release_date]
        tracker = own.get(name)
        releases.append(
            Release(
                name=name,
                release_date=(tracker.release_date if tracker and tracker.release_date else None)
                or (min(dates) if dates else None),
                released=bool(group) and all(version.released for version in group),
                archived=bool(group) and all(version.archived for version in group),
                projects=tuple(sorted({version.project for version in group})),
                in_tracker=tracker is not None,
            )
        )
    return sorted(releases, key=_newest_first)


def _newest_first(release: Release) -> tuple[int, int, str]:
    day = release.release_date
    return (0 if day is None else 1, -(day.toordinal() if day else 0), release.name)


@dataclass(frozen=True)
class ReleaseScope:
    """The release whose contents are asked for, and every release's date."""

    name: str
    release_date: date | None
    dates: Mapping[str, date | None]


class Standing(NamedTuple):
    """Whether a work item counts for a release, and the note that says why (or why not)."""

    counts: bool
    note: str | None


def standing(scope: ReleaseScope, key: str, fix_versions: Sequence[str]) -> Standing:
    """Decide whether a work item counts for the release by its fix versions.

    It counts when it is planned for the release or shipped in an earlier one (work shipped
    earlier is still in the product); an item planned only for other, later (or undated)
    releases does not; an item without any fix version counts, flagged.
    """
    if not fix_versions:
        return Standing(True, f"{key} has no fix version; it counts for {scope.name}.")
    if scope.name in fix_versions:
        return Standing(True, None)
    earlier = [version for version in fix_versions if _before(scope, version)]
    if earlier:
        return Standing(True, f"{key} shipped earlier, in {', '.join(sorted(earlier))}.")
    later = ", ".join(sorted(fix_versions))
    return Standing(False, f"{key} is planned for {later}, so it does not count for {scope.name}.")


def _before(scope: ReleaseScope, version: str) -> bool:
    day = scope.dates.get(version)
    return day is not None and scope.release_date is not None and day < scope.release_date
