"""Jira's issue, version and remote-link JSON turned into the gateway's plain records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from tracker.integrations.jira_records import (
    IssueRecord,
    RemoteLinkRecord,
    StatusCategory,
    VersionRecord,
)

_CATEGORIES: dict[str, StatusCategory] = {
    "new": "new",
    "indeterminate": "indeterminate",
    "done": "done",
}


def parse_jira_datetime(text: str) -> datetime:
    """Parse Jira's "2026-11-20T10:15:30.000+0000" into an aware UTC datetime."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def issue_record(raw: Mapping[str, Any], base_url: str) -> IssueRecord:
    """Turn Jira's issue JSON (search result, GET issue or webhook payload) into a record."""
    fields = raw.get("fields") or {}
    key = str(raw["key"])
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key")
    assignee = fields.get("assignee") or {}
    project = fields.get("project") or {}
    return IssueRecord(
        key=key,
        id=str(raw["id"]),
        summary=str(fields.get("summary") or ""),
        issue_type=str((fields.get("issuetype") or {}).get("name") or ""),
        status=str(status.get("name") or ""),
        # "undefined" (No Category) has not started either.
        status_category=_CATEGORIES.get(str(category), "new"),
        fix_versions=tuple(str(version["name"]) for version in fields.get("fixVersions") or ()),
        labels=tuple(str(label) for label in fields.get("labels") or ()),
        assignee=assignee.get("displayName") or None,
        url=f"{base_url}/browse/{key}",
        updated=parse_jira_datetime(str(fields["updated"])),
        project_key=str(project.get("key") or key.rsplit("-", 1)[0]),
    )


def version_record(project_key: str, raw: Mapping[str, Any]) -> VersionRecord:
    """Turn one entry of a project's versions JSON into a record."""
    release_date = raw.get("releaseDate")
    return VersionRecord(
        project_key=project_key,
        id=str(raw["id"]),
        name=str(raw["name"]),
        released=bool(raw.get("released", False)),
        release_date=date.fromisoformat(str(release_date)) if release_date else None,
        archived=bool(raw.get("archived", False)),
    )


def remote_link_record(raw: Mapping[str, Any]) -> RemoteLinkRecord:
    """Turn one entry of an issue's remote links JSON into a record."""
    link_object = raw.get("object") or {}
    return RemoteLinkRecord(
        id=int(raw["id"]),
        global_id=raw.get("globalId"),
        url=str(link_object.get("url") or ""),
        title=str(link_object.get("title") or ""),
        summary=link_object.get("summary"),
        resolved=bool((link_object.get("status") or {}).get("resolved", False)),
    )
