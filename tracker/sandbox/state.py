"""In-memory Jira data of the sandbox: projects, issues, links, comments and change events.

Everything is guarded by one re-entrant lock, so the threaded HTTP server, the webhook
worker and test code can use one state at the same time. Objects returned by the
methods are the live records: read them, but change them only through the methods.

Moved issues: like Jira, the old key keeps resolving to the moved issue (GET by the
old key answers the issue under its new key, and JQL `key = OLD-1` finds it). Set
`resolve_moved_keys = False` to make old keys answer 404 instead.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast

from tracker.sandbox.faults import FaultInjector
from tracker.sandbox.records import (
    EDITABLE_FIELDS,
    ISSUE_TYPES,
    STATUSES,
    Comment,
    InvalidChangeError,
    Issue,
    IssueEvent,
    Listener,
    NotFoundError,
    Project,
    RemoteLink,
    SandboxError,
    StatusInfo,
    User,
    Version,
    change_item,
    clean_labels,
    is_issue_key,
    link_fields,
    status_category_key,
    to_millis,
)
from tracker.sandbox.requestlog import RequestLog

# Re-exported so callers can import every sandbox data type from one module.
__all__ = [
    "ISSUE_TYPES",
    "STATUSES",
    "Comment",
    "InvalidChangeError",
    "Issue",
    "IssueEvent",
    "NotFoundError",
    "Project",
    "RemoteLink",
    "SandboxError",
    "SandboxState",
    "StatusInfo",
    "User",
    "Version",
    "is_issue_key",
    "status_category_key",
]

log = logging.getLogger(__name__)


class SandboxState:
    """The sandbox's Jira data plus its request log and fault list."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        time_zone: str = "UTC",
        current_user: str = "Sandbox Bot",
        current_user_email: str = "sandbox-bot@example.com",
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.time_zone = time_zone
        self.resolve_moved_keys = True
        # Jira writes a RemoteIssueLink changelog entry for link changes, which moves
        # `updated`; a sync that pushes links therefore sees its own writes come back.
        self.remote_links_bump_updated = True
        self.forbidden_projects: set[str] = set()
        self.requests = RequestLog()
        self.faults = FaultInjector()
        self.revision = 0
        self._listeners: list[Listener] = []
        self._users: dict[str, User] = {}
        self.current_user = self.user(current_user, email=current_user_email)
        self._reset_data()

    # ----- infrastructure -------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        """Return the state lock, for compound reads such as a search page."""
        return self._lock

    def now(self) -> datetime:
        """Return the state clock's current time (UTC, millisecond precision)."""
        return to_millis(self._clock())

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Replace the clock, e.g. with a frozen one in tests."""
        with self._lock:
            self._clock = clock

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every issue change; return a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def clear(self) -> None:
        """Drop all projects, issues and links (the request log and faults are kept)."""
        with self._lock:
            self._reset_data()
            self.revision += 1

    def stats(self) -> dict[str, int]:
        """Return request counters by endpoint kind, plus 'total'."""
        return self.requests.stats()

    def reset_stats(self) -> None:
        """Forget the request log and counters."""
        self.requests.reset()

    # ----- users ----------------------------------------------------------------------

    def user(self, display_name: str, *, email: str | None = None) -> User:
        """Return the user with that display name, creating it on first use."""
        with self._lock:
            existing = self._users.get(display_name)
            if existing:
                return existing
            digest = hashlib.sha256(display_name.encode()).hexdigest()
            name = re.sub(r"[^a-z0-9]+", ".", display_name.lower()).strip(".") or "user"
            made = User(
                display_name=display_name,
                account_id=f"712020:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:28]}",
                name=name,
                key=f"JIRAUSER{10000 + len(self._users)}",
                email=email or f"{name}@example.com",
            )
            self._users[display_name] = made
            return made

    def find_user(self, reference: str) -> User | None:
        """Find a user by accountId, name, key, email or display name."""
        with self._lock:
            for candidate in self._users.values():
                if reference in (
                    candidate.account_id,
                    candidate.name,
                    candidate.key,
                    candidate.email,
                    candidate.display_name,
                ):
                    return candidate
            return None

    # ----- projects and versions ------------------------------------------------------

    def add_project(self, key: str, name: str, *, lead: str = "Sandbox Admin") -> Project:
        """Create a project; keys are upper-case letters and digits."""
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,9}", key):
            raise InvalidChangeError({"key": f"Invalid project key '{key}'."})
        with self._lock:
            if key in self._projects:
                raise InvalidChangeError({"key": f"A project with key '{key}' already exists."})
            project = Project(id=self._next_project_id, key=key, name=name, lead=lead)
            self._next_project_id += 1
            self.user(lead)
            self._projects[key] = project
            self.revision += 1
            return project

    def add_version(
        self,
        project_key: str,
        name: str,
        *,
        released: bool = False,
        release_date: date | None = None,
        archived: bool = False,
        description: str = "",
    ) -> Version:
        """Add a fix version to a project."""
        with self._lock:
            project = self.require_project(project_key)
            version = Version(
                id=self._next_version_id,
                project_id=project.id,
                name=name,
                released=released,
                release_date=release_date,
                archived=archived,
                description=description,
            )
            self._next_version_id += 1
            project.versions.append(version)
            self._versions[version.id] = (project.key, version)
            self.revision += 1
            return version

    def project(self, key_or_id: str | int) -> Project | None:
        """Find a project by key (case-insensitive), id or name."""
        with self._lock:
            text = str(key_or_id)
            if text.upper() in self._projects:
                return self._projects[text.upper()]
            for project in self._projects.values():
                if text == str(project.id) or text.lower() == project.name.lower():
                    return project
            return None

    def require_project(self, key_or_id: str | int) -> Project:
        """Return a project or raise NotFoundError."""
        project = self.project(key_or_id)
        if project is None:
            raise NotFoundError(f"No project could be found with key '{key_or_id}'.")
        return project

    def projects(self) -> list[Project]:
        """Return all projects in creation order."""
        with self._lock:
            return list(self._projects.values())

    def version(self, version_id: int | str) -> Version | None:
        """Find a version by id."""
        with self._lock:
            try:
                entry = self._versions.get(int(version_id))
            except (TypeError, ValueError):
                return None
            return entry[1] if entry else None

    def resolve_version(self, project: Project, reference: int | str) -> Version:
        """Find a project's version by id or name, or raise InvalidChangeError."""
        text = str(reference)
        for version in project.versions:
            if text in (str(version.id), version.name):
                return version
        raise InvalidChangeError({"fixVersions": f"Version '{text}' is not valid."})

    # ----- issues ---------------------------------------------------------------------

    def add_issue(
        self,
        project_key: str,
        summary: str,
        *,
        issuetype: str = "Epic",
        status: str = "new",
        fix_versions: Sequence[int | str] = (),
        labels: Iterable[str] = (),
        description: str | None = None,
        assignee: str | None = None,
        reporter: str | None = None,
        parent_key: str | None = None,
        created: datetime | None = None,
        updated: datetime | None = None,
        notify: bool = True,
    ) -> Issue:
        """Create an issue; `status` is a category key or name; `notify=False` skips webhooks."""
        with self._lock:
            project = self.require_project(project_key)
            errors: dict[str, str] = {}
            if not summary or not summary.strip():
                errors["summary"] = "You must specify a summary of the issue."
            if issuetype not in ISSUE_TYPES:
                errors["issuetype"] = "Specify a valid issue type"
            if errors:
                raise InvalidChangeError(errors)
            category = status_category_key(status)
            version_ids = [self.resolve_version(project, ref).id for ref in fix_versions]
            created_at = to_millis(created) if created else self.now()
            updated_at = to_millis(updated) if updated else created_at
            parent = self._resolve_parent(parent_key)
            project.issue_counter += 1
            issue = Issue(
                id=self._next_issue_id,
                key=f"{project.key}-{project.issue_counter}",
                project_key=project.key,
                summary=summary.strip(),
                issuetype=issuetype,
                status_category=category,
                created=created_at,
                updated=updated_at,
                description=description,
                labels=clean_labels(labels),
                fix_version_ids=version_ids,
                assignee=self.user(assignee).display_name if assignee else None,
                reporter=self.user(reporter or self.current_user.display_name).display_name,
                parent_key=parent,
                resolution_date=updated_at if category == "done" else None,
            )
            self._next_issue_id += 1
            self._issues[issue.id] = issue
            self._ids_by_key[issue.key] = issue.id
            self.revision += 1
            event = self._event("created", "issue_created", issue) if notify else None
        self._emit(event)
        return issue

    def issue(self, key_or_id: str | int) -> Issue | None:
        """Find an issue by key or id; old keys of moved issues resolve unless disabled."""
        with self._lock:
            text = str(key_or_id).strip()
            if text.isdigit():
                return self._issues.get(int(text))
            upper = text.upper()
            issue_id = self._ids_by_key.get(upper)
            if issue_id is None and self.resolve_moved_keys:
                issue_id = self._moved_keys.get(upper)
            return self._issues.get(issue_id) if issue_id is not None else None

    def require_issue(self, key_or_id: str | int) -> Issue:
        """Return an issue or raise NotFoundError."""
        issue = self.issue(key_or_id)
        if issue is None:
            raise NotFoundError("Issue does not exist or you do not have permission to see it.")
        return issue

    def issues(self) -> list[Issue]:
        """Return all issues in creation order."""
        with self._lock:
            return list(self._issues.values())

    def issue_count(self) -> int:
        """Return how many issues exist."""
        with self._lock:
            return len(self._issues)

    def key_existed(self, key: str) -> bool:
        """Return whether a key names an issue now or named one before a move."""
        with self._lock:
            upper = key.upper()
            return upper in self._ids_by_key or upper in self._moved_keys

    def set_status(self, key: str, status_category: str, *, notify: bool = True) -> Issue:
        """Move an issue to the status of a category ('new', 'indeterminate', 'done')."""
        with self._lock:
            issue = self.require_issue(key)
            category = status_category_key(status_category)
            if category == issue.status_category:
                return issue
            before, after = issue.status, STATUSES[category]
            items: list[dict[str, Any]] = [
                change_item(
                    "status", "status", before.status_id, before.name, after.status_id, after.name
                )
            ]
            if category == "done":
                items.append(change_item("resolution", "resolution", None, None, "10000", "Done"))
            elif issue.status_category == "done":
                items.append(change_item("resolution", "resolution", "10000", "Done", None, None))
            issue.status_category = category
            self._touch(issue)
            issue.resolution_date = issue.updated if category == "done" else None
            event = self._event("updated", "issue_generic", issue, items) if notify else None
        self._emit(event)
        return issue

    def set_labels(self, key: str, labels: Iterable[str], *, notify: bool = True) -> Issue:
        """Replace an issue's labels."""
        return self.edit_issue(key, {"labels": list(labels)}, notify=notify)

    def update_labels(
        self, key: str, *, add: Iterable[str] = (), remove: Iterable[str] = (), notify: bool = True
    ) -> Issue:
        """Add and remove labels in one change."""
        with self._lock:
            current = set(self.require_issue(key).labels)
            current |= set(add)
            current -= set(remove)
            return self.edit_issue(key, {"labels": sorted(current)}, notify=notify)

    def edit_issue(self, key: str, changes: Mapping[str, Any], *, notify: bool = True) -> Issue:
        """Apply field changes (summary, description, labels, fix_versions, assignee, parent_key).

        Like Jira, a change that alters nothing neither moves `updated` nor emits an event.
        """
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise InvalidChangeError({name: "Field cannot be edited here." for name in unknown})
        with self._lock:
            issue = self.require_issue(key)
            project = self.require_project(issue.project_key)
            items: list[dict[str, Any]] = []
            if "summary" in changes:
                summary = str(changes["summary"] or "").strip()
                if not summary:
                    raise InvalidChangeError(
                        {"summary": "You must specify a summary of the issue."}
                    )
                if summary != issue.summary:
                    items.append(
                        change_item("summary", "summary", None, issue.summary, None, summary)
                    )
            if "description" in changes and changes["description"] != issue.description:
                items.append(
                    change_item(
                        "description",
                        "description",
                        None,
                        issue.description,
                        None,
                        changes["description"],
                    )
                )
            labels = issue.labels
            if "labels" in changes:
                labels = clean_labels(changes["labels"])
                if labels != issue.labels:
                    items.append(
                        change_item(
                            "labels",
                            "labels",
                            None,
                            " ".join(issue.labels) or None,
                            None,
                            " ".join(labels) or None,
                        )
                    )
            version_ids = issue.fix_version_ids
            if "fix_versions" in changes:
                version_ids = [
                    self.resolve_version(project, ref).id for ref in changes["fix_versions"]
                ]
                items.extend(self._version_items(issue.fix_version_ids, version_ids))
            assignee = issue.assignee
            if "assignee" in changes:
                assignee = self._resolve_assignee(changes["assignee"])
                if assignee != issue.assignee:
                    items.append(self._assignee_item(issue.assignee, assignee))
            parent = issue.parent_key
            if "parent_key" in changes:
                parent = self._resolve_parent(changes["parent_key"])
                if parent == issue.key:
                    raise InvalidChangeError({"parent": "An issue cannot be its own parent."})
                if parent != issue.parent_key:
                    items.append(
                        change_item(
                            "IssueParentAssociation", "parent", None, issue.parent_key, None, parent
                        )
                    )
            if not items:
                return issue
            if "summary" in changes:
                issue.summary = str(changes["summary"]).strip()
            if "description" in changes:
                issue.description = changes["description"]
            issue.labels = labels
            issue.fix_version_ids = version_ids
            issue.assignee = assignee
            issue.parent_key = parent
            self._touch(issue)
            event = self._event("updated", "issue_updated", issue, items) if notify else None
        self._emit(event)
        return issue

    def touch(self, key: str, when: datetime | None = None, *, notify: bool = True) -> Issue:
        """Bump `updated` (to `when` or now) as an otherwise invisible edit would."""
        with self._lock:
            issue = self.require_issue(key)
            self._touch(issue, when)
            event = self._event("updated", "issue_updated", issue) if notify else None
        self._emit(event)
        return issue

    def delete_issue(self, key: str, *, notify: bool = True) -> Issue:
        """Delete an issue; its key (and any old keys) then answer 404."""
        with self._lock:
            issue = self.require_issue(key)
            del self._issues[issue.id]
            self._ids_by_key.pop(issue.key, None)
            for old_key in [k for k, v in self._moved_keys.items() if v == issue.id]:
                del self._moved_keys[old_key]
            self.revision += 1
            event = self._event("deleted", "issue_deleted", issue) if notify else None
        self._emit(event)
        return issue

    def move_issue(self, key: str, project_key: str, *, notify: bool = True) -> Issue:
        """Move an issue to another project: new key, fix versions dropped, old key remembered."""
        with self._lock:
            issue = self.require_issue(key)
            source = self.require_project(issue.project_key)
            target = self.require_project(project_key)
            if source.key == target.key:
                return issue
            old_key = issue.key
            target.issue_counter += 1
            new_key = f"{target.key}-{target.issue_counter}"
            items = [
                change_item(
                    "project", "project", str(source.id), source.name, str(target.id), target.name
                ),
                change_item("Key", "issuekey", None, old_key, None, new_key),
            ]
            items.extend(self._version_items(issue.fix_version_ids, []))
            del self._ids_by_key[old_key]
            self._moved_keys[old_key] = issue.id
            self._ids_by_key[new_key] = issue.id
            issue.key = new_key
            issue.project_key = target.key
            issue.fix_version_ids = []
            self._touch(issue)
            event = self._event("updated", "issue_updated", issue, items) if notify else None
        self._emit(event)
        return issue

    # ----- remote links ---------------------------------------------------------------

    def remote_links(self, key: str) -> list[RemoteLink]:
        """Return an issue's remote links in creation order."""
        with self._lock:
            return list(self.require_issue(key).remote_links)

    def upsert_remote_link(self, key: str, payload: Mapping[str, Any]) -> tuple[RemoteLink, bool]:
        """Create a link, or replace the one with the same globalId; return (link, created).

        As in Jira, fields missing from an update are cleared rather than kept.
        """
        link_object = payload.get("object")
        errors: dict[str, str] = {}
        if not isinstance(link_object, dict):
            errors["object"] = "The remote link object is required."
        else:
            if not link_object.get("url"):
                errors["url"] = "Link url is required."
            if not link_object.get("title"):
                errors["title"] = "Link title is required."
        global_id = payload.get("globalId")
        if global_id is not None and (not isinstance(global_id, str) or len(global_id) > 255):
            errors["globalId"] = "globalId must be a string of at most 255 characters."
        if errors:
            raise InvalidChangeError(errors)
        with self._lock:
            issue = self.require_issue(key)
            existing = next(
                (link for link in issue.remote_links if global_id and link.global_id == global_id),
                None,
            )
            fields = link_fields(payload, cast(dict[str, Any], link_object))
            if existing is not None:
                existing.application = fields["application"]
                existing.relationship = fields["relationship"]
                existing.object = fields["object"]
                link, created = existing, False
            else:
                link = RemoteLink(id=self._next_link_id, global_id=global_id, **fields)
                self._next_link_id += 1
                issue.remote_links.append(link)
                created = True
            event = self._link_changed(issue, link, added=True)
        self._emit(event)
        return link, created

    def replace_remote_link(self, key: str, link_id: int, payload: Mapping[str, Any]) -> RemoteLink:
        """Replace a link by id (PUT semantics: omitted fields are cleared)."""
        link_object = payload.get("object")
        if (
            not isinstance(link_object, dict)
            or not link_object.get("url")
            or not link_object.get("title")
        ):
            raise InvalidChangeError({"object": "Link url and title are required."})
        with self._lock:
            issue = self.require_issue(key)
            link = self._find_link(issue, link_id)
            fields = link_fields(payload, link_object)
            link.global_id = payload.get("globalId")
            link.application = fields["application"]
            link.relationship = fields["relationship"]
            link.object = fields["object"]
            event = self._link_changed(issue, link, added=True)
        self._emit(event)
        return link

    def remote_link(self, key: str, link_id: int) -> RemoteLink:
        """Return one link by id or raise NotFoundError."""
        with self._lock:
            return self._find_link(self.require_issue(key), link_id)

    def delete_remote_link(
        self, key: str, *, link_id: int | None = None, global_id: str | None = None
    ) -> RemoteLink:
        """Delete a link by id or by globalId; raise NotFoundError if there is none."""
        with self._lock:
            issue = self.require_issue(key)
            if link_id is not None:
                link = self._find_link(issue, link_id)
            else:
                found = [link for link in issue.remote_links if link.global_id == global_id]
                if not found:
                    raise NotFoundError(f"No remote link with globalId '{global_id}'.")
                link = found[0]
            issue.remote_links.remove(link)
            event = self._link_changed(issue, link, added=False)
        self._emit(event)
        return link

    # ----- comments -------------------------------------------------------------------

    def add_comment(
        self, key: str, body: str, *, author: str | None = None, notify: bool = True
    ) -> Comment:
        """Add a comment; like Jira this moves the issue's `updated`."""
        if not body or not str(body).strip():
            raise InvalidChangeError({"comment": "Comment body can not be empty!"})
        with self._lock:
            issue = self.require_issue(key)
            now = self.now()
            comment = Comment(
                id=self._next_comment_id,
                body=str(body),
                author=self.user(author or self.current_user.display_name).display_name,
                created=now,
                updated=now,
            )
            self._next_comment_id += 1
            issue.comments.append(comment)
            self._touch(issue, now)
            event = (
                self._event("updated", "issue_commented", issue, comment=comment)
                if notify
                else None
            )
        self._emit(event)
        return comment

    def comments(self, key: str) -> list[Comment]:
        """Return an issue's comments, oldest first."""
        with self._lock:
            return list(self.require_issue(key).comments)

    # ----- project permissions --------------------------------------------------------

    def forbid_project(self, key: str) -> None:
        """Make writes to a project's issues answer 403 (reads stay allowed)."""
        with self._lock:
            self.forbidden_projects.add(key.upper())

    def allow_project(self, key: str) -> None:
        """Undo forbid_project."""
        with self._lock:
            self.forbidden_projects.discard(key.upper())

    # ----- internals ------------------------------------------------------------------

    def _reset_data(self) -> None:
        self._projects: dict[str, Project] = {}
        self._versions: dict[int, tuple[str, Version]] = {}
        self._issues: dict[int, Issue] = {}
        self._ids_by_key: dict[str, int] = {}
        self._moved_keys: dict[str, int] = {}
        self._next_project_id = 10000
        self._next_version_id = 10100
        self._next_issue_id = 10001
        self._next_link_id = 10000
        self._next_comment_id = 10000
        self._next_changelog_id = 20000

    def _touch(self, issue: Issue, when: datetime | None = None) -> None:
        issue.updated = to_millis(when) if when else self.now()
        self.revision += 1

    def _resolve_parent(self, parent: Any) -> str | None:
        if parent in (None, ""):
            return None
        target = self.issue(str(parent))
        if target is None:
            raise InvalidChangeError({"parent": f"Issue '{parent}' does not exist."})
        return target.key

    def _resolve_assignee(self, reference: Any) -> str | None:
        if reference in (None, ""):
            return None
        found = self.find_user(str(reference))
        if found is None:
            raise InvalidChangeError({"assignee": f"User '{reference}' does not exist."})
        return found.display_name

    def _assignee_item(self, before: str | None, after: str | None) -> dict[str, Any]:
        old = self.user(before) if before else None
        new = self.user(after) if after else None
        return change_item(
            "assignee",
            "assignee",
            old.account_id if old else None,
            old.display_name if old else None,
            new.account_id if new else None,
            new.display_name if new else None,
        )

    def _version_items(self, before: list[int], after: list[int]) -> list[dict[str, Any]]:
        items = []
        for version_id in before:
            if version_id not in after:
                name = self._versions[version_id][1].name
                items.append(
                    change_item("Fix Version", "fixVersions", str(version_id), name, None, None)
                )
        for version_id in after:
            if version_id not in before:
                name = self._versions[version_id][1].name
                items.append(
                    change_item("Fix Version", "fixVersions", None, None, str(version_id), name)
                )
        return items

    def _find_link(self, issue: Issue, link_id: int) -> RemoteLink:
        for link in issue.remote_links:
            if link.id == int(link_id):
                return link
        raise NotFoundError(f"No remote link with id '{link_id}' on {issue.key}.")

    def _link_changed(self, issue: Issue, link: RemoteLink, *, added: bool) -> IssueEvent | None:
        self.revision += 1
        if not self.remote_links_bump_updated:
            return None
        title = str(link.object.get("title", ""))
        text = f'This issue links to "{title}"'
        item = (
            change_item("RemoteIssueLink", None, None, None, str(link.id), text)
            if added
            else change_item("RemoteIssueLink", None, str(link.id), text, None, None)
        )
        self._touch(issue)
        return self._event("updated", "issue_updated", issue, [item])

    def _event(
        self,
        kind: str,
        event_type_name: str,
        issue: Issue,
        items: Sequence[dict[str, Any]] = (),
        *,
        comment: Comment | None = None,
    ) -> IssueEvent | None:
        if not self._listeners:
            return None
        changelog_id = None
        if items:
            changelog_id = self._next_changelog_id
            self._next_changelog_id += 1
        return IssueEvent(
            kind=kind,
            event_type_name=event_type_name,
            issue=copy.deepcopy(issue),
            changelog=tuple(items),
            changelog_id=changelog_id,
            timestamp=self.now(),
            user=self.current_user,
            comment=copy.deepcopy(comment),
        )

    def _emit(self, event: IssueEvent | None) -> None:
        if event is None:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the state change
                log.exception("sandbox listener failed for %s %s", event.kind, event.issue.key)

    @contextmanager
    def batch(self) -> Iterator[SandboxState]:
        """Hold the lock across many calls, e.g. while seeding thousands of issues."""
        with self._lock:
            yield self
