"""Jira's issue, version and remote-link JSON turned into the gateway's plain records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.domain.text_rules import has_control_characters
from tracker.errors import ValidationError
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

#: Column sizes of a work item (see models.WorkItem), and bounds of what Jira sends.
MAX_KEY = 64
MAX_ID = 32
MAX_NAME = 64
MAX_PROJECT_KEY = 32
MAX_ASSIGNEE = 200
MAX_URL = 500
#: Jira itself keeps summaries to 255 characters and labels and version names to 255.
MAX_SUMMARY = 1000
MAX_LABEL = 255
MAX_LIST = 500
#: Jira and the tracker's clocks may differ a little; a day ahead is not a clock difference.
MAX_CLOCK_AHEAD = timedelta(days=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
CUT = "…"

_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
_PROJECT_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_BAD_CHARACTER = "contains a control character (such as NUL) or one that is not valid text."


def parse_jira_datetime(text: str) -> datetime:
    """Parse Jira's "2026-11-20T10:15:30.000+0000" into an aware UTC datetime."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def issue_record(
    raw: Mapping[str, Any], base_url: str, *, now: datetime | None = None
) -> IssueRecord:
    """Turn Jira's issue JSON (search result, GET issue or webhook payload) into a record.

    Every value is checked for its type and bounds before it can reach the database, so an
    odd or hostile issue raises ValidationError naming the field; summaries and assignee
    names, which are only shown, are cut to their limit and end with "…".
    """
    if not isinstance(raw, Mapping):
        raise ValidationError("The issue must be a JSON object.", field="issue")
    key = checked_issue_key(raw.get("key"))
    where = f"Issue {key}"
    fields = _object(raw.get("fields"), f"{where}: fields", required=True)
    status = _object(fields.get("status"), f"{where}: fields.status")
    category = _object(status.get("statusCategory"), f"{where}: fields.status.statusCategory")
    issue_type = _object(fields.get("issuetype"), f"{where}: fields.issuetype")
    assignee = _object(fields.get("assignee"), f"{where}: fields.assignee")
    project = _object(fields.get("project"), f"{where}: fields.project")
    project_key = _text(project.get("key"), f"{where}: fields.project.key", MAX_PROJECT_KEY)
    if project_key is None:
        project_key = key.rsplit("-", 1)[0]
    if not _PROJECT_KEY.fullmatch(project_key) or len(project_key) > MAX_PROJECT_KEY:
        raise ValidationError(
            f"{where}: the project key must be letters, digits and underscores, at most "
            f"{MAX_PROJECT_KEY} characters.",
            field="fields.project.key",
        )
    url = f"{base_url}/browse/{key}"
    if len(url) > MAX_URL:
        raise ValidationError(
            f"{where}: its address would be longer than {MAX_URL} characters; use a shorter "
            "TRACKER_JIRA_URL.",
            field="key",
        )
    category_key = _text(category.get("key"), f"{where}: the status category", MAX_NAME) or ""
    return IssueRecord(
        key=key,
        id=_issue_id(raw.get("id"), where),
        summary=_display(fields.get("summary"), f"{where}: fields.summary", MAX_SUMMARY),
        issue_type=_text(issue_type.get("name"), f"{where}: the issue type", MAX_NAME) or "",
        status=_text(status.get("name"), f"{where}: the status", MAX_NAME) or "",
        # "undefined" (No Category) has not started either.
        status_category=_CATEGORIES.get(category_key, "new"),
        fix_versions=tuple(
            _text(
                _object(version, f"{where}: a fix version").get("name"),
                f"{where}: a fix version's name",
                MAX_LABEL,
                required=True,
            )
            or ""
            for version in _list(fields.get("fixVersions"), f"{where}: fields.fixVersions")
        ),
        labels=tuple(
            _text(label, f"{where}: a label", MAX_LABEL, required=True) or ""
            for label in _list(fields.get("labels"), f"{where}: fields.labels")
        ),
        assignee=_display(
            assignee.get("displayName"), f"{where}: the assignee's name", MAX_ASSIGNEE
        )
        or None,
        url=url,
        updated=_updated(fields.get("updated"), where, now),
        project_key=project_key,
    )


def checked_issue_key(value: object) -> str:
    """Return value if it is a Jira issue key such as PRIV-12; ValidationError otherwise."""
    if not isinstance(value, str) or not value:
        raise ValidationError("The issue has no key (such as PRIV-12).", field="key")
    if has_control_characters(value):
        raise ValidationError(f"The issue key {_BAD_CHARACTER}", field="key")
    if len(value) > MAX_KEY or not _ISSUE_KEY.fullmatch(value):
        shown = value[:40] + (CUT if len(value) > 40 else "")
        raise ValidationError(
            f"The issue key {shown!r} is not a Jira key: it must look like PRIV-12 (a project "
            f"key, a hyphen and a number), at most {MAX_KEY} characters.",
            field="key",
        )
    return value


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


def _issue_id(value: object, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**MAX_ID:
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where} has no id (Jira's number for the issue).", field="id")
    if len(value) > MAX_ID or has_control_characters(value) or any(c.isspace() for c in value):
        raise ValidationError(
            f"{where}: the id must be at most {MAX_ID} characters, without spaces or control "
            "characters.",
            field="id",
        )
    return value


def _object(value: object, what: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        given = "missing" if value is None else _kind(value)
        raise ValidationError(f"{what} must be a JSON object, not {given}.", field=_field(what))
    return value


def _list(value: object, what: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(
            f"{what} must be a JSON list, not {_kind(value)}.", field=_field(what)
        )
    if len(value) > MAX_LIST:
        raise ValidationError(f"{what} has more than {MAX_LIST} entries.", field=_field(what))
    return value


def _text(value: object, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        given = "missing" if value is None else _kind(value)
        raise ValidationError(f"{what} must be text, not {given}.", field=_field(what))
    if len(value) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters.", field=_field(what))
    if has_control_characters(value):
        raise ValidationError(f"{what} {_BAD_CHARACTER}", field=_field(what))
    return value


def _display(value: object, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {_kind(value)}.", field=_field(what))
    if has_control_characters(value, multiline=True):  # shown as text: line breaks are fine
        raise ValidationError(f"{what} {_BAD_CHARACTER}", field=_field(what))
    # Only shown, never matched: a long one is kept, cut, rather than refused.
    return value if len(value) <= limit else value[: limit - len(CUT)] + CUT


def _updated(value: object, where: str, now: datetime | None) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValidationError(
            f"{where} has no time of its last update (fields.updated).", field="fields.updated"
        )
    moment = None
    if len(value) <= 64:
        try:
            moment = parse_jira_datetime(value)
        except (ValueError, OverflowError):
            moment = None  # out of Python's range once moved to UTC, or not a time at all
    latest = (now or datetime.now(UTC)) + MAX_CLOCK_AHEAD
    if moment is None or not EARLIEST <= moment <= latest:
        shown = value[:40] + (CUT if len(value) > 40 else "")
        raise ValidationError(
            f"{where}: fields.updated {shown!r} is not a time between 1970 and tomorrow such "
            "as 2026-11-20T10:15:30.000+0000; check the Jira server's clock.",
            field="fields.updated",
        )
    return moment


def _field(what: str) -> str:
    # "Issue PRIV-1: fields.labels" names the field fields.labels.
    return what.rpartition(": ")[2]


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a JSON object" if isinstance(value, Mapping) else "a value of another kind"
