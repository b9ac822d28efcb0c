"""An in-memory JiraGateway for fast service tests: records calls and raises injected failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_records import (
    IssueRecord,
    IssueSummary,
    RemoteLinkRecord,
    RemoteLinkSpec,
    SearchPage,
    VersionRecord,
)


@dataclass(frozen=True)
class FakeCall:
    """One call made to the fake, with its arguments."""

    method: str
    args: tuple[Any, ...]


class FakeJiraGateway:
    """JiraGateway held in memory; search ignores JQL unless given a jql_filter."""

    def __init__(
        self,
        *,
        issues: Iterable[IssueRecord] = (),
        versions: Iterable[VersionRecord] = (),
        deployment: str = "cloud",
        title: str = "Fake Jira",
        base_url: str = "https://jira.example.test",
        jql_filter: Callable[[str, IssueRecord], bool] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.issues: dict[str, IssueRecord] = {issue.key: issue for issue in issues}
        self.versions: dict[str, list[VersionRecord]] = {}
        for version in versions:
            self.versions.setdefault(version.project_key, []).append(version)
        self.links: dict[str, dict[str, RemoteLinkRecord]] = {}
        self.descriptions: dict[str, str] = {}
        self.calls: list[FakeCall] = []
        self._deployment = deployment
        self._title = title
        self._base_url = base_url.rstrip("/")
        self._jql_filter = jql_filter
        self._clock = clock or (lambda: datetime.now(UTC))
        self._failures: dict[str, list[tuple[JiraError, int | None]]] = {}
        self._next_link_id = 10_000

    # -- arranging a test --------------------------------------------------------------------

    def add_issue(self, issue: IssueRecord) -> None:
        """Add or replace an issue."""
        self.issues[issue.key] = issue

    def add_version(self, version: VersionRecord) -> None:
        """Add a fix version to its project."""
        self.versions.setdefault(version.project_key, []).append(version)

    def fail(self, method: str, error: JiraError | None = None, *, times: int | None = 1) -> None:
        """Make the next `times` calls of method raise error (every call when times is None)."""
        if not hasattr(self, method):
            raise AttributeError(f"FakeJiraGateway has no method {method!r}")
        failure = error or JiraError("Injected Jira failure.", status=503, retryable=True)
        self._failures.setdefault(method, []).append((failure, times))

    def calls_to(self, method: str) -> list[FakeCall]:
        """Return the recorded calls of one method."""
        return [call for call in self.calls if call.method == method]

    # -- the JiraGateway protocol ------------------------------------------------------------

    def deployment(self) -> str:
        """Return the deployment this fake pretends to be."""
        self._enter("deployment")
        return self._deployment

    def server_title(self) -> str:
        """Return the fake's site title."""
        self._enter("server_title")
        return self._title

    def search(
        self,
        jql: str,
        *,
        updated_since: datetime | None,
        page_token: str | None,
        page_size: int = 100,
    ) -> SearchPage:
        """Return one page of matching issues, oldest update first; the token is an offset."""
        self._enter("search", jql, updated_since, page_token, page_size)
        matches = self._matching(jql, updated_since)
        start = int(page_token) if page_token else 0
        chunk = matches[start : start + page_size]
        is_last = start + page_size >= len(matches)
        next_token = None if is_last else str(start + page_size)
        return SearchPage(issues=tuple(chunk), next_token=next_token, is_last=is_last)

    def count_issues(self, jql: str, *, updated_since: datetime | None) -> int | None:
        """Return how many issues match."""
        self._enter("count_issues", jql, updated_since)
        return len(self._matching(jql, updated_since))

    def iter_search(self, jql: str, *, updated_since: datetime | None) -> Iterator[SearchPage]:
        """Yield every page of matching issues."""
        self._enter("iter_search", jql, updated_since)
        token: str | None = None
        while True:
            page = self.search(jql, updated_since=updated_since, page_token=token)
            yield page
            if page.is_last:
                return
            token = page.next_token

    def get_issues(self, keys: Sequence[str]) -> tuple[list[IssueRecord], list[str]]:
        """Return the issues held for keys and the keys not held."""
        self._enter("get_issues", tuple(keys))
        wanted = list(dict.fromkeys(key.strip().upper() for key in keys if key.strip()))
        found = [self.issues[key] for key in wanted if key in self.issues]
        missing = [key for key in wanted if key not in self.issues]
        return found, missing

    def project_versions(self, project_key: str) -> list[VersionRecord]:
        """Return the versions of a known project."""
        self._enter("project_versions", project_key)
        known = project_key in self.versions or any(
            issue.project_key == project_key for issue in self.issues.values()
        )
        if not known:
            raise JiraError(
                f"Jira project {project_key} does not exist, or the account cannot see it.",
                status=404,
            )
        return list(self.versions.get(project_key, []))

    def remote_links(self, issue_key: str) -> list[RemoteLinkRecord]:
        """Return the remote links on an issue."""
        self._enter("remote_links", issue_key)
        self._require(issue_key)
        return list(self.links.get(issue_key, {}).values())

    def upsert_remote_link(self, issue_key: str, spec: RemoteLinkSpec) -> None:
        """Create the link or replace the one with the same global id, keeping its id."""
        self._enter("upsert_remote_link", issue_key, spec)
        self._require(issue_key)
        links = self.links.setdefault(issue_key, {})
        existing = links.get(spec.global_id)
        if existing is None:
            self._next_link_id += 1
            link_id = self._next_link_id
        else:
            link_id = existing.id
        links[spec.global_id] = RemoteLinkRecord(
            id=link_id,
            global_id=spec.global_id,
            url=spec.url,
            title=spec.title,
            summary=spec.summary,
            resolved=spec.resolved,
        )

    def delete_remote_link(self, issue_key: str, global_id: str) -> None:
        """Remove the link with this global id; absent already is fine."""
        self._enter("delete_remote_link", issue_key, global_id)
        self.links.get(issue_key, {}).pop(global_id, None)

    def create_epic(
        self, project_key: str, summary: str, description: str, labels: Sequence[str]
    ) -> str:
        """Create an epic in "To Do" and return its key."""
        self._enter("create_epic", project_key, summary, description, tuple(labels))
        _check_labels(labels)
        numbers = [
            int(key.rsplit("-", 1)[1])
            for key, issue in self.issues.items()
            if issue.project_key == project_key and key.rsplit("-", 1)[1].isdigit()
        ]
        key = f"{project_key}-{max(numbers, default=0) + 1}"
        self.issues[key] = IssueRecord(
            key=key,
            id=str(20_000 + len(self.issues)),
            summary=summary,
            issue_type="Epic",
            status="To Do",
            status_category="new",
            fix_versions=(),
            labels=tuple(labels),
            assignee=None,
            url=f"{self._base_url}/browse/{key}",
            updated=self._clock(),
            project_key=project_key,
        )
        self.descriptions[key] = description
        return key

    def find_issue_keys_with_label(self, label: str) -> list[str]:
        """Return the keys of issues carrying label, oldest update first."""
        self._enter("find_issue_keys_with_label", label)
        _check_labels([label])
        ordered = sorted(self.issues.values(), key=lambda issue: (issue.updated, issue.key))
        return [issue.key for issue in ordered if label in issue.labels]

    def add_label(self, issue_key: str, label: str) -> None:
        """Add label to an issue and bump its updated time."""
        self._enter("add_label", issue_key, label)
        _check_labels([label])
        issue = self._require(issue_key)
        if label not in issue.labels:
            self.issues[issue_key] = dataclasses.replace(
                issue, labels=(*issue.labels, label), updated=self._clock()
            )

    def remove_label(self, issue_key: str, label: str) -> None:
        """Remove label from an issue (absent already is fine) and bump its updated time."""
        self._enter("remove_label", issue_key, label)
        _check_labels([label])
        issue = self._require(issue_key)
        if label in issue.labels:
            kept = tuple(name for name in issue.labels if name != label)
            self.issues[issue_key] = dataclasses.replace(issue, labels=kept, updated=self._clock())

    def read_issue(self, issue_key: str) -> IssueSummary:
        """Return an issue's summary; 404 with Jira's words when it is not held."""
        self._enter("read_issue", issue_key)
        issue = self.issues.get(issue_key)
        if issue is None:
            raise JiraError(
                f"{issue_key}: Issue does not exist or you do not have permission to see it.",
                status=404,
            )
        return IssueSummary(
            key=issue.key,
            summary=issue.summary,
            issue_type=issue.issue_type,
            status=issue.status,
            status_category=issue.status_category,
            url=issue.url,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _enter(self, method: str, *args: Any) -> None:
        self.calls.append(FakeCall(method, args))
        queue = self._failures.get(method)
        if not queue:
            return
        error, times = queue[0]
        if times is not None:
            if times <= 1:
                queue.pop(0)
            else:
                queue[0] = (error, times - 1)
        raise error

    def _require(self, issue_key: str) -> IssueRecord:
        issue = self.issues.get(issue_key)
        if issue is None:
            raise JiraError(
                f"Jira issue {issue_key} does not exist, or the account cannot see it.",
                status=404,
            )
        return issue

    def _matching(self, jql: str, updated_since: datetime | None) -> list[IssueRecord]:
        issues = list(self.issues.values())
        if self._jql_filter is not None:
            issues = [issue for issue in issues if self._jql_filter(jql, issue)]
        if updated_since is not None:
            # JQL dates have minute precision, so Jira matches from the start of the minute.
            since = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=UTC)
            floor = since.replace(second=0, microsecond=0)
            issues = [issue for issue in issues if issue.updated >= floor]
        return sorted(issues, key=lambda issue: (issue.updated, issue.key))


def _check_labels(labels: Iterable[str]) -> None:
    for label in labels:
        if not label or any(character.isspace() for character in label):
            raise ValidationError(f"Jira labels cannot be empty or contain spaces: {label!r}.")
