"""What changed between two releases, from their snapshots (or a snapshot and now)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

AXES = ("status", "implementation", "verification", "signoff", "verdict")


@dataclass(frozen=True)
class AxisChange:
    """One obligation whose value on one axis changed."""

    obligation_id: str
    axis: str
    before: str
    after: str


@dataclass(frozen=True)
class VersionChange:
    """An obligation that has a new version in the later release."""

    obligation_id: str
    before: int
    after: int


@dataclass(frozen=True)
class ReleaseDiff:
    """The differences, each list sorted by obligation id."""

    before: str
    after: str
    added: list[str]
    removed: list[str]
    new_versions: list[VersionChange]
    changes: list[AxisChange]
    new_exceptions: list[tuple[str, int]]
    ended_exceptions: list[tuple[str, int]]
    lapsed_signoffs: list[str]

    @property
    def empty(self) -> bool:
        """Return whether nothing changed."""
        return not (
            self.added
            or self.removed
            or self.new_versions
            or self.changes
            or self.new_exceptions
            or self.ended_exceptions
            or self.lapsed_signoffs
        )


def diff_documents(before: Mapping[str, Any], after: Mapping[str, Any], today: str) -> ReleaseDiff:
    """Compare two snapshot documents (sealed or not); today is an ISO date for expiries."""
    old = _by_id(before.get("obligations", []))
    new = _by_id(after.get("obligations", []))
    changes, versions, lapsed = [], [], []
    for ob_id in sorted(set(old) & set(new)):
        was, now = old[ob_id], new[ob_id]
        if was.get("version") != now.get("version"):
            versions.append(
                VersionChange(ob_id, int(was.get("version") or 0), int(now.get("version") or 0))
            )
        for axis in AXES:
            if str(was.get(axis)) != str(now.get(axis)):
                changes.append(AxisChange(ob_id, axis, str(was.get(axis)), str(now.get(axis))))
        if was.get("signoff") == "signed" and now.get("signoff") == "lapsed":
            lapsed.append(ob_id)
    old_exceptions = _exceptions(old, today)
    new_exceptions = _exceptions(new, today)
    return ReleaseDiff(
        before=_name(before),
        after=_name(after),
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        new_versions=versions,
        changes=changes,
        new_exceptions=sorted(set(new_exceptions) - set(old_exceptions)),
        ended_exceptions=sorted(set(old_exceptions) - set(new_exceptions)),
        lapsed_signoffs=lapsed,
    )


def _by_id(items: Sequence[Any]) -> dict[str, Mapping[str, Any]]:
    return {str(item["id"]): item for item in items if isinstance(item, Mapping) and "id" in item}


def _exceptions(obligations: Mapping[str, Mapping[str, Any]], today: str) -> set[tuple[str, int]]:
    """Return the approved, unexpired, not withdrawn exceptions as (obligation, number)."""
    found = set()
    for ob_id, item in obligations.items():
        for exception in item.get("exceptions") or []:
            if (
                exception.get("approved_by")
                and not exception.get("withdrawn")
                and str(exception.get("expires_on", "")) >= today
            ):
                found.add((ob_id, int(exception.get("id") or 0)))
    return found


def _name(document: Mapping[str, Any]) -> str:
    release = document.get("release") or {}
    name = str(release.get("name", "?"))
    return f"{name} (snapshot {str(document['hash'])[:12]})" if document.get("hash") else name
