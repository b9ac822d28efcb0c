"""One release per name across Jira projects; dates, states and the tracker's own releases."""

from __future__ import annotations

from datetime import date

from tracker.domain.releases import FixVersion, TrackerRelease, merge_releases


def test_the_same_fix_version_in_several_projects_is_one_release() -> None:
    releases = merge_releases(
        [
            FixVersion("2026.12", "APP", date(2026, 12, 15), True, False),
            FixVersion("2026.12", "WEB", date(2026, 12, 10), False, False),
            FixVersion("2026.10", "APP", date(2026, 10, 1), True, True),
        ],
        [],
    )
    assert [r.name for r in releases] == ["2026.12", "2026.10"]
    december = releases[0]
    assert december.projects == ("APP", "WEB")
    assert december.release_date == date(2026, 12, 10)  # the earliest date given
    assert december.state == "unreleased"  # released only when every project's version is
    assert releases[1].state == "archived"


def test_a_tracker_release_joins_its_jira_versions_and_its_date_wins() -> None:
    (release,) = merge_releases(
        [FixVersion("2027.03", "APP", date(2027, 3, 1), False, False)],
        [TrackerRelease("2027.03", date(2027, 3, 20))],
    )
    assert release.in_tracker and release.projects == ("APP",)
    assert release.release_date == date(2027, 3, 20)


def test_undated_releases_come_first_then_newest_first() -> None:
    releases = merge_releases(
        [FixVersion("old", "APP", date(2025, 1, 1), True, False)],
        [TrackerRelease("next", None), TrackerRelease("2026.12", date(2026, 12, 1))],
    )
    assert [r.name for r in releases] == ["next", "2026.12", "old"]
    assert releases[0].as_json() == {
        "name": "next",
        "release_date": None,
        "state": "unreleased",
        "released": False,
        "archived": False,
        "jira_projects": [],
        "created_in_tracker": True,
    }
