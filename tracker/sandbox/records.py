"""Record types of the sandbox's Jira data: statuses, issue types, users, projects, issues."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any


@dataclass(frozen=True)
class StatusInfo:
    """A workflow status and its Jira status category."""

    status_id: str
    name: str
    category_key: str
    category_id: int
    category_name: str
    color: str


STATUSES: dict[str, StatusInfo] = {
    "new": StatusInfo("10000", "To Do", "new", 2, "To Do", "blue-gray"),
    "indeterminate": StatusInfo("3", "In Progress", "indeterminate", 4, "In Progress", "yellow"),
    "done": StatusInfo("10001", "Done", "done", 3, "Done", "green"),
}

# name -> (id, hierarchyLevel), as on a company-managed Jira Software project.
ISSUE_TYPES: dict[str, tuple[str, int]] = {
    "Epic": ("10000", 1),
    "Story": ("10001", 0),
    "Task": ("10002", 0),
}

EDITABLE_FIELDS = frozenset(
    {"summary", "description", "labels", "fix_versions", "assignee", "parent_key"}
)

_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")


class SandboxError(Exception):
    """Base of the errors the state raises to its callers."""


class NotFoundError(SandboxError, LookupError):
    """An issue, project, version or link does not exist."""


class InvalidChangeError(SandboxError, ValueError):
    """A change is invalid; `errors` maps field names to Jira-style messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class User:
    """A Jira user, with both Cloud (accountId) and Data Center (name/key) identities."""

    display_name: str
    account_id: str
    name: str
    key: str
    email: str


@dataclass
class Version:
    """A project's fix version."""

    id: int
    project_id: int
    name: str
    released: bool = False
    release_date: date | None = None
    archived: bool = False
    description: str = ""


@dataclass
class Project:
    """A Jira project and its versions."""

    id: int
    key: str
    name: str
    lead: str
    versions: list[Version] = field(default_factory=list)
    issue_counter: int = 0


@dataclass
class RemoteLink:
    """A remote issue link; the JSON parts are stored as the client sent them."""

    id: int
    global_id: str | None
    application: dict[str, Any] | None
    relationship: str | None
    object: dict[str, Any]


@dataclass
class Comment:
    """An issue comment with a plain-text (v2) body."""

    id: int
    body: str
    author: str
    created: datetime
    updated: datetime


@dataclass
class Issue:
    """A Jira issue; times are UTC and truncated to milliseconds as Jira stores them."""

    id: int
    key: str
    project_key: str
    summary: str
    issuetype: str
    status_category: str
    created: datetime
    updated: datetime
    description: str | None = None
    labels: list[str] = field(default_factory=list)
    fix_version_ids: list[int] = field(default_factory=list)
    assignee: str | None = None
    reporter: str | None = None
    parent_key: str | None = None
    resolution_date: datetime | None = None
    remote_links: list[RemoteLink] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    @property
    def number(self) -> int:
        """Return the numeric part of the key."""
        return int(self.key.rsplit("-", 1)[1])

    @property
    def status(self) -> StatusInfo:
        """Return the issue's status."""
        return STATUSES[self.status_category]


@dataclass(frozen=True)
class IssueEvent:
    """A change to an issue, as a webhook would report it."""

    kind: str  # created | updated | deleted
    event_type_name: str  # issue_created | issue_updated | issue_generic | issue_commented ...
    issue: Issue  # a snapshot: after the change, or before it for deletions
    changelog: tuple[dict[str, Any], ...]
    changelog_id: int | None
    timestamp: datetime
    user: User
    comment: Comment | None = None


Listener = Callable[[IssueEvent], None]


def status_category_key(value: str) -> str:
    """Return the status category key for a key or a status/category name."""
    lowered = value.strip().lower().replace("_", " ")
    aliases = {
        "new": "new",
        "to do": "new",
        "todo": "new",
        "indeterminate": "indeterminate",
        "in progress": "indeterminate",
        "done": "done",
    }
    if lowered not in aliases:
        raise InvalidChangeError({"status": f"Unknown status category '{value}'."})
    return aliases[lowered]


def to_millis(moment: datetime) -> datetime:
    """Return an aware UTC datetime truncated to milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def is_issue_key(text: str) -> bool:
    """Return whether text looks like an issue key (ABC-123)."""
    return bool(_KEY_PATTERN.match(text.upper()))


def clean_labels(labels: Iterable[str]) -> list[str]:
    if isinstance(labels, str):
        raise InvalidChangeError({"labels": "Labels must be a list of strings."})
    cleaned: set[str] = set()
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise InvalidChangeError({"labels": "Labels must be non-empty strings."})
        if any(character.isspace() for character in label):
            raise InvalidChangeError(
                {"labels": f"The label '{label}' contains spaces which is invalid."}
            )
        if len(label) > 255:
            raise InvalidChangeError({"labels": "The label must not exceed 255 characters."})
        cleaned.add(label)
    # Jira stores labels as a set and returns them sorted.
    return sorted(cleaned)


def change_item(
    field_name: str,
    field_id: str | None,
    from_value: str | None,
    from_string: str | None,
    to_value: str | None,
    to_string: str | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"field": field_name, "fieldtype": "jira"}
    if field_id:
        item["fieldId"] = field_id
    item.update(
        {"from": from_value, "fromString": from_string, "to": to_value, "toString": to_string}
    )
    return item


def link_fields(payload: Mapping[str, Any], link_object: dict[str, Any]) -> dict[str, Any]:
    application = payload.get("application")
    relationship = payload.get("relationship")
    return {
        "application": dict(application) if isinstance(application, dict) else None,
        "relationship": str(relationship) if relationship is not None else None,
        "object": copy.deepcopy(link_object),
    }
