"""Jira REST v2 JSON shapes of sandbox records (issues, projects, versions, links, users)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tracker.sandbox.state import (
    ISSUE_TYPES,
    STATUSES,
    Comment,
    Issue,
    Project,
    RemoteLink,
    SandboxState,
    StatusInfo,
    User,
    Version,
)

CLOUD = "cloud"
DATACENTER = "datacenter"
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def _field(
    field_id: str,
    name: str,
    clause_names: list[str],
    schema: dict[str, Any] | None,
    *,
    navigable: bool = True,
    orderable: bool = True,
    searchable: bool = True,
) -> dict[str, Any]:
    custom = field_id.startswith("customfield_")
    entry: dict[str, Any] = {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": custom,
        "orderable": orderable,
        "navigable": navigable,
        "searchable": searchable,
        "clauseNames": clause_names,
    }
    if schema is not None:
        entry["schema"] = schema
    if custom:
        entry["untranslatedName"] = name
    return entry


def _system(kind: str, system: str, items: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, "system": system}
    if items:
        schema["items"] = items
    return schema


def _custom(kind: str, plugin: str, custom_id: int) -> dict[str, Any]:
    return {"type": kind, "custom": plugin, "customId": custom_id}


FIELD_DEFINITIONS: list[dict[str, Any]] = [
    _field("issuekey", "Key", ["id", "issue", "issuekey", "key"], None, orderable=False),
    _field("summary", "Summary", ["summary"], _system("string", "summary")),
    _field("description", "Description", ["description"], _system("string", "description")),
    _field("issuetype", "Issue Type", ["issuetype", "type"], _system("issuetype", "issuetype")),
    _field("status", "Status", ["status"], _system("status", "status"), orderable=False),
    _field(
        "statusCategory",
        "Status Category",
        ["statusCategory"],
        _system("statusCategory", "statusCategory"),
        orderable=False,
    ),
    _field("project", "Project", ["project"], _system("project", "project"), orderable=False),
    _field(
        "fixVersions", "Fix versions", ["fixVersion"], _system("array", "fixVersions", "version")
    ),
    _field("labels", "Labels", ["labels"], _system("array", "labels", "string")),
    _field("assignee", "Assignee", ["assignee"], _system("user", "assignee")),
    _field("reporter", "Reporter", ["reporter"], _system("user", "reporter")),
    _field("priority", "Priority", ["priority"], _system("priority", "priority")),
    _field("resolution", "Resolution", ["resolution"], _system("resolution", "resolution")),
    _field(
        "resolutiondate",
        "Resolved",
        ["resolutiondate", "resolved"],
        _system("datetime", "resolutiondate"),
        orderable=False,
    ),
    _field(
        "created",
        "Created",
        ["created", "createdDate"],
        _system("datetime", "created"),
        orderable=False,
    ),
    _field(
        "updated",
        "Updated",
        ["updated", "updatedDate"],
        _system("datetime", "updated"),
        orderable=False,
    ),
    _field("parent", "Parent", ["parent"], None, orderable=False),
    _field("comment", "Comment", ["comment"], _system("comments-page", "comment"), navigable=False),
    _field(
        "issuelinks",
        "Linked Issues",
        ["issuelinks"],
        _system("array", "issuelinks", "issuelinks"),
        searchable=False,
    ),
    _field("subtasks", "Sub-tasks", ["subtasks"], _system("array", "subtasks", "issuelinks")),
    _field(
        "customfield_10011",
        "Epic Name",
        ["cf[10011]", "Epic Name"],
        _custom("string", "com.pyxis.greenhopper.jira:gh-epic-label", 10011),
    ),
    _field(
        "customfield_10014",
        "Epic Link",
        ["cf[10014]", "Epic Link"],
        _custom("any", "com.pyxis.greenhopper.jira:gh-epic-link", 10014),
    ),
    _field(
        "customfield_10016",
        "Story point estimate",
        ["cf[10016]", "Story point estimate"],
        _custom("number", "com.pyxis.greenhopper.jira:jsw-story-points", 10016),
    ),
    _field(
        "customfield_10020",
        "Sprint",
        ["cf[10020]", "Sprint"],
        _custom("array", "com.pyxis.greenhopper.jira:gh-sprint", 10020),
    ),
]

# Field ids that appear in an issue's `fields` (issuekey is the bean's own `key`).
ALL_FIELDS = frozenset(entry["id"] for entry in FIELD_DEFINITIONS) - {"issuekey"}
NAVIGABLE_FIELDS = frozenset(entry["id"] for entry in FIELD_DEFINITIONS if entry["navigable"]) - {
    "issuekey"
}


@dataclass(frozen=True)
class FieldSelection:
    """Which fields an issue bean carries; `id_only` is Cloud search's default bean."""

    fields: frozenset[str]
    id_only: bool = False

    @classmethod
    def parse(cls, requested: Iterable[str] | None, default: str) -> FieldSelection:
        """Read repeated and/or comma-separated `fields` values; `default` applies if none."""
        names = [
            part.strip()
            for value in (requested or [])
            if value
            for part in str(value).split(",")
            if part.strip()
        ]
        if not names:
            names = [default]
        if all(name == "id" for name in names):
            return cls(frozenset(), id_only=True)
        included: set[str] = set()
        excluded: set[str] = set()
        for name in names:
            if name == "*all":
                included |= ALL_FIELDS
            elif name == "*navigable":
                included |= NAVIGABLE_FIELDS
            elif name.startswith("-"):
                excluded.add(name[1:])
            elif name not in ("id", "key", "issuekey"):
                # Unknown ids are silently ignored, as Jira does.
                included.add(name)
        return cls(frozenset(included - excluded))


def jira_datetime(moment: datetime, zone: str = "UTC") -> str:
    """Format a time as Jira does: 2026-11-20T10:15:30.000+0000."""
    local = moment.astimezone(ZoneInfo(zone))
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + local.strftime("%z")
    )


class Renderer:
    """Builds response JSON for one base URL and deployment mode."""

    def __init__(
        self, state: SandboxState, base_url: str, mode: str, api_version: str = "2"
    ) -> None:
        self.state = state
        self.base = base_url.rstrip("/")
        self.mode = mode
        self.api = f"{self.base}/rest/api/{api_version}"

    # ----- users, statuses, types -----------------------------------------------------

    def user(self, user: User | None, *, with_email: bool = False) -> dict[str, Any] | None:
        """Return a user object (Cloud: accountId; Data Center: name/key)."""
        if user is None:
            return None
        if self.mode == CLOUD:
            data: dict[str, Any] = {
                "self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "displayName": user.display_name,
                "active": True,
                "timeZone": self.state.time_zone,
                "accountType": "atlassian",
            }
        else:
            data = {
                "self": f"{self.api}/user?username={user.name}",
                "name": user.name,
                "key": user.key,
                "displayName": user.display_name,
                "active": True,
                "timeZone": self.state.time_zone,
            }
        if with_email or self.mode != CLOUD:
            data["emailAddress"] = user.email
        return data

    def named_user(self, display_name: str | None) -> dict[str, Any] | None:
        """Return the user object for a display name, or None."""
        return self.user(self.state.user(display_name)) if display_name else None

    def status(self, status: StatusInfo) -> dict[str, Any]:
        """Return a status with its category."""
        return {
            "self": f"{self.api}/status/{status.status_id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.status_id,
            "statusCategory": self.status_category(status),
        }

    def status_category(self, status: StatusInfo) -> dict[str, Any]:
        """Return a status category object."""
        return {
            "self": f"{self.api}/statuscategory/{status.category_id}",
            "id": status.category_id,
            "key": status.category_key,
            "colorName": status.color,
            "name": status.category_name,
        }

    def issue_type(self, name: str) -> dict[str, Any]:
        """Return an issue type object."""
        type_id, level = ISSUE_TYPES[name]
        return {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": f"{name} issue type",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": False,
            "hierarchyLevel": level,
        }

    def issue_types(self) -> list[dict[str, Any]]:
        """Return every issue type."""
        return [self.issue_type(name) for name in ISSUE_TYPES]

    def statuses(self) -> list[dict[str, Any]]:
        """Return every status."""
        return [self.status(status) for status in STATUSES.values()]

    # ----- projects and versions ------------------------------------------------------

    def version(self, version: Version) -> dict[str, Any]:
        """Return a version object."""
        data: dict[str, Any] = {
            "self": f"{self.api}/version/{version.id}",
            "id": str(version.id),
            "description": version.description,
            "name": version.name,
            "archived": version.archived,
            "released": version.released,
        }
        if version.release_date:
            data["releaseDate"] = version.release_date.isoformat()
            data["userReleaseDate"] = version.release_date.strftime("%d/%b/%y")
            today = self.state.now().date()
            data["overdue"] = not version.released and version.release_date < today
        data["projectId"] = version.project_id
        return data

    def project(self, project: Project, *, full: bool = True) -> dict[str, Any]:
        """Return a project object; `full` adds the lead, versions and issue types."""
        data: dict[str, Any] = {
            "self": f"{self.api}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
        }
        if full:
            data.update(
                {
                    "description": "",
                    "lead": self.named_user(project.lead),
                    "components": [],
                    "issueTypes": self.issue_types(),
                    "assigneeType": "UNASSIGNED",
                    "versions": [self.version(version) for version in project.versions],
                    "style": "classic",
                    "isPrivate": False,
                    "properties": {},
                }
            )
        return data

    # ----- issues ---------------------------------------------------------------------

    def issue_url(self, issue: Issue) -> str:
        """Return an issue's `self` URL (Jira uses the numeric id)."""
        return f"{self.api}/issue/{issue.id}"

    def issue_ref(self, issue: Issue) -> dict[str, Any]:
        """Return the {id, key, self} answer of issue creation."""
        return {"id": str(issue.id), "key": issue.key, "self": self.issue_url(issue)}

    def issue(self, issue: Issue, selection: FieldSelection) -> dict[str, Any]:
        """Return an issue bean with the selected fields."""
        if selection.id_only:
            return {"id": str(issue.id)}
        values = self._issue_fields(issue, selection.fields)
        return {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": self.issue_url(issue),
            "key": issue.key,
            "fields": values,
        }

    def _issue_fields(self, issue: Issue, wanted: frozenset[str]) -> dict[str, Any]:
        zone = self.state.time_zone
        project = self.state.require_project(issue.project_key)
        builders: dict[str, Any] = {
            "summary": lambda: issue.summary,
            "description": lambda: issue.description,
            "issuetype": lambda: self.issue_type(issue.issuetype),
            "status": lambda: self.status(issue.status),
            "statusCategory": lambda: self.status_category(issue.status),
            "project": lambda: self.project(project, full=False),
            "fixVersions": lambda: [
                self.version(version)
                for version_id in issue.fix_version_ids
                if (version := self.state.version(version_id)) is not None
            ],
            "labels": lambda: list(issue.labels),
            "assignee": lambda: self.named_user(issue.assignee),
            "reporter": lambda: self.named_user(issue.reporter),
            "priority": lambda: {
                "self": f"{self.api}/priority/3",
                "id": "3",
                "name": "Medium",
            },
            "resolution": lambda: (
                {
                    "self": f"{self.api}/resolution/10000",
                    "id": "10000",
                    "name": "Done",
                    "description": "Work has been completed on this issue.",
                }
                if issue.status_category == "done"
                else None
            ),
            "resolutiondate": lambda: (
                jira_datetime(issue.resolution_date, zone) if issue.resolution_date else None
            ),
            "created": lambda: jira_datetime(issue.created, zone),
            "updated": lambda: jira_datetime(issue.updated, zone),
            "comment": lambda: self.comment_page(issue, 0, len(issue.comments)),
            "issuelinks": lambda: [],
            "subtasks": lambda: [],
            "customfield_10011": lambda: issue.summary if issue.issuetype == "Epic" else None,
            "customfield_10014": lambda: issue.parent_key if self.mode != CLOUD else None,
            "customfield_10016": lambda: None,
            "customfield_10020": lambda: None,
        }
        values = {name: builders[name]() for name in sorted(wanted) if name in builders}
        if "parent" in wanted and issue.parent_key and self.mode == CLOUD:
            # Cloud reports the epic as `parent` on every project type; Data Center uses Epic Link.
            parent = self.state.issue(issue.parent_key)
            if parent is not None:
                values["parent"] = {
                    "id": str(parent.id),
                    "key": parent.key,
                    "self": self.issue_url(parent),
                    "fields": {
                        "summary": parent.summary,
                        "status": self.status(parent.status),
                        "priority": builders["priority"](),
                        "issuetype": self.issue_type(parent.issuetype),
                    },
                }
        return values

    # ----- comments and links ---------------------------------------------------------

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        """Return a comment object."""
        zone = self.state.time_zone
        author = self.named_user(comment.author)
        data: dict[str, Any] = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": author,
            "body": comment.body,
            "updateAuthor": author,
            "created": jira_datetime(comment.created, zone),
            "updated": jira_datetime(comment.updated, zone),
        }
        if self.mode == CLOUD:
            data["jsdPublic"] = True
        return data

    def comment_page(self, issue: Issue, start_at: int, max_results: int) -> dict[str, Any]:
        """Return a page of comments in Jira's {startAt, maxResults, total, comments} shape."""
        page = issue.comments[start_at : start_at + max_results]
        return {
            "comments": [self.comment(issue, comment) for comment in page],
            "maxResults": max_results,
            "total": len(issue.comments),
            "startAt": start_at,
        }

    def remote_link_url(self, issue: Issue, link: RemoteLink) -> str:
        """Return a remote link's `self` URL."""
        return f"{self.api}/issue/{issue.key}/remotelink/{link.id}"

    def remote_link(self, issue: Issue, link: RemoteLink) -> dict[str, Any]:
        """Return a remote link object as GET answers it."""
        data: dict[str, Any] = {"id": link.id, "self": self.remote_link_url(issue, link)}
        if link.global_id is not None:
            data["globalId"] = link.global_id
        data["application"] = link.application or {}
        if link.relationship is not None:
            data["relationship"] = link.relationship
        data["object"] = link.object
        return data

    # ----- server -----------------------------------------------------------------------

    def server_info(self, deployment_type: str) -> dict[str, Any]:
        """Return serverInfo; pycontribs decides Cloud vs Server from deploymentType."""
        now = jira_datetime(self.state.now(), self.state.time_zone)
        if self.mode == CLOUD:
            return {
                "baseUrl": self.base,
                "displayUrl": self.base,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": deployment_type,
                "buildNumber": 100294,
                "buildDate": "2026-11-18T00:00:00.000+0000",
                "serverTime": now,
                "scmInfo": "sandbox",
                "serverTitle": "Jira Sandbox",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            }
        return {
            "baseUrl": self.base,
            "version": "10.3.6",
            "versionNumbers": [10, 3, 6],
            "deploymentType": deployment_type,
            "buildNumber": 10030006,
            "buildDate": "2026-05-12T00:00:00.000+0000",
            "databaseBuildNumber": 10030006,
            "serverTime": now,
            "scmInfo": "sandbox",
            "serverTitle": "Jira Sandbox",
        }

    def myself(self, email: str | None) -> dict[str, Any]:
        """Return the authenticated user as /myself answers it."""
        current = self.state.current_user
        data = self.user(current, with_email=True) or {}
        if email:
            data["emailAddress"] = email
        data["locale"] = "en_US"
        return data
