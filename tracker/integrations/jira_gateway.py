"""The Jira gateway: the Protocol services use, and its REST implementation on the jira library."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_connection import JiraConnection
from tracker.integrations.jira_errors import secret_values
from tracker.integrations.jira_paging import MAX_OFFSET, DataCenterCursor, datacenter_page
from tracker.integrations.jira_parsing import (
    issue_record,
    parse_jira_datetime,
    remote_link_record,
    version_record,
)
from tracker.integrations.jira_records import (
    IssueRecord,
    IssueSummary,
    JiraSettings,
    RemoteLinkRecord,
    RemoteLinkSpec,
    SearchPage,
    VersionRecord,
)

if TYPE_CHECKING:
    from jira import JIRA

# MAX_OFFSET, issue_record and parse_jira_datetime are re-exported from the modules that own
# them; MAX_OFFSET is read in jira_paging, so that is where a test must patch it.
__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_DELAY",
    "EPIC_NAME_SCHEMA",
    "KEY_BATCH",
    "MAX_OFFSET",
    "PAGE_SIZE",
    "READ_ISSUE_FIELDS",
    "SEARCH_FIELDS",
    "JiraGateway",
    "RestJiraGateway",
    "issue_record",
    "jql_string",
    "make_gateway",
    "parse_jira_datetime",
    "search_jql",
]

LOG = logging.getLogger(__name__)

#: The fields every search asks for; Cloud's /search/jql returns only ids without a list.
SEARCH_FIELDS: tuple[str, ...] = (
    "summary",
    "issuetype",
    "status",
    "fixVersions",
    "labels",
    "assignee",
    "updated",
    "project",
)
#: The fields a lookup by key asks for: what the tracker shows (updated: issue_record needs it).
READ_ISSUE_FIELDS: tuple[str, ...] = ("summary", "status", "issuetype", "updated")
#: Issues per page when iter_search walks all pages (Cloud caps pages at 100 with fields).
PAGE_SIZE = 100
#: Keys per `key in (...)` query in get_issues.
KEY_BATCH = 100
#: schema.custom of the Epic Name field that older Data Center projects require on epics.
EPIC_NAME_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-label"
#: Retries the library's ResilientSession makes on 429, 503 with Retry-After, connection errors.
DEFAULT_MAX_RETRIES = 3
#: Longest single sleep between those retries, in seconds (the library's default is 60).
DEFAULT_MAX_RETRY_DELAY = 30


class JiraGateway(Protocol):
    """What the tracker needs from Jira, in plain records; failures raise JiraError."""

    def deployment(self) -> str:
        """Return "cloud" or "datacenter"."""
        ...

    def search(
        self,
        jql: str,
        *,
        updated_since: datetime | None,
        page_token: str | None,
        page_size: int = 100,
    ) -> SearchPage:
        """Return one page of issues matching jql, oldest update first."""
        ...

    def count_issues(self, jql: str, *, updated_since: datetime | None) -> int | None:
        """Return about how many issues a search will read (for progress), None if unknown."""
        ...

    def iter_search(self, jql: str, *, updated_since: datetime | None) -> Iterator[SearchPage]:
        """Yield every page of issues matching jql, oldest update first."""
        ...

    def get_issues(self, keys: Sequence[str]) -> tuple[list[IssueRecord], list[str]]:
        """Return the issues found for keys and the keys Jira does not have."""
        ...

    def project_versions(self, project_key: str) -> list[VersionRecord]:
        """Return the fix versions of a project."""
        ...

    def remote_links(self, issue_key: str) -> list[RemoteLinkRecord]:
        """Return the remote links on an issue."""
        ...

    def upsert_remote_link(self, issue_key: str, spec: RemoteLinkSpec) -> None:
        """Create the remote link, or replace the one with the same global id."""
        ...

    def delete_remote_link(self, issue_key: str, global_id: str) -> None:
        """Remove the remote link with this global id; absent already is fine."""
        ...

    def create_epic(
        self, project_key: str, summary: str, description: str, labels: Sequence[str]
    ) -> str:
        """Create an epic and return its key."""
        ...

    def find_issue_keys_with_label(self, label: str) -> list[str]:
        """Return the keys of issues carrying label."""
        ...

    def add_label(self, issue_key: str, label: str) -> None:
        """Add label to an issue, keeping its other labels."""
        ...

    def remove_label(self, issue_key: str, label: str) -> None:
        """Remove label from an issue, keeping its other labels; absent already is fine."""
        ...

    def read_issue(self, issue_key: str) -> IssueSummary:
        """Return what Jira says of one issue (one request).

        An issue Jira does not have raises JiraError with status 404 and Jira's own words.
        """
        ...

    def server_title(self) -> str:
        """Return the name the Jira site gives itself."""
        ...


def make_gateway(settings: JiraSettings) -> RestJiraGateway:
    """Build the REST gateway for settings; it connects on first use."""
    return RestJiraGateway(settings)


def search_jql(jql: str, since_literal: str | None) -> str:
    """Return jql bounded by an updated watermark and in the order paging relies on."""
    # Our ORDER BY must be the only one: paging and keyset windows depend on it.
    base = re.sub(r"\s+order\s+by\s+[^\"']*$", "", " " + jql.strip(), flags=re.IGNORECASE).strip()
    clauses = [f"({base})"] if base else []
    if since_literal is not None:
        clauses.append(f'updated >= "{since_literal}"')
    return " AND ".join(clauses) + " ORDER BY updated ASC, key ASC"


def jql_string(value: str) -> str:
    """Quote value as a JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RestJiraGateway:
    """JiraGateway over Jira's REST API through the jira library; connects lazily."""

    def __init__(
        self,
        settings: JiraSettings,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_delay: int = DEFAULT_MAX_RETRY_DELAY,
    ) -> None:
        self._settings = settings
        self._connection = JiraConnection(
            settings, max_retries=max_retries, max_retry_delay=max_retry_delay
        )
        self._zone: ZoneInfo | None = None
        self._epic_name_field: str | None = None
        self._epic_name_looked_up = False

    def __repr__(self) -> str:
        return f"RestJiraGateway(url={self._settings.url!r})"

    def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        self._connection.close()

    def deployment(self) -> str:
        """Return "cloud" or "datacenter" from the server's deploymentType."""
        kind = self._connection.call(
            "read the server information", lambda client: client.deploymentType
        )
        return "cloud" if kind == "Cloud" else "datacenter"

    def server_title(self) -> str:
        """Return the name the Jira site gives itself."""
        info = self._connection.call(
            "read the server information", lambda client: client.server_info()
        )
        return str(info.get("serverTitle") or info.get("baseUrl") or self._settings.url)

    def search(
        self,
        jql: str,
        *,
        updated_since: datetime | None,
        page_token: str | None,
        page_size: int = 100,
    ) -> SearchPage:
        """Return one page of issues matching jql, oldest update first."""
        if self.deployment() == "cloud":
            return self._search_cloud(jql, updated_since, page_token, page_size)
        cursor = DataCenterCursor.decode(page_token) if page_token else DataCenterCursor()
        return self._search_datacenter(jql, updated_since, cursor, page_size)

    def count_issues(self, jql: str, *, updated_since: datetime | None) -> int | None:
        """Return about how many issues a search will read (for progress), None if unknown."""
        if self.deployment() != "cloud":
            # Data Center would need one more search for its total: not worth a request.
            return None
        query = search_jql(jql, self._jql_time(updated_since) if updated_since else None)
        try:
            # Cloud's search has no total; this endpoint gives an estimate.
            response = self._connection.call(
                "count issues",
                lambda client: client._session.post(
                    client._get_url("search/approximate-count"), data=json.dumps({"jql": query})
                ),
            )
            return int(response.json()["count"])
        except (JiraError, KeyError, TypeError, ValueError):
            return None  # a progress estimate is never worth failing a sync for

    def iter_search(self, jql: str, *, updated_since: datetime | None) -> Iterator[SearchPage]:
        """Yield every page of issues matching jql, oldest update first."""
        token: str | None = None
        tokens_seen: set[str] = set()
        while True:
            page = self.search(
                jql, updated_since=updated_since, page_token=token, page_size=PAGE_SIZE
            )
            yield page
            if page.is_last or page.next_token is None:
                return
            if page.next_token in tokens_seen:
                # A server handing out the same token again would page forever.
                raise JiraError("Jira returned the same search page token twice; stopped paging.")
            tokens_seen.add(page.next_token)
            token = page.next_token

    def get_issues(self, keys: Sequence[str]) -> tuple[list[IssueRecord], list[str]]:
        """Return the issues found for keys and the keys Jira does not have.

        An issue Jira has but whose data cannot be read is in neither list (and is logged).
        """
        wanted = list(dict.fromkeys(key.strip().upper() for key in keys if key.strip()))
        found: dict[str, IssueRecord] = {}
        unreadable: set[str] = set()
        for start in range(0, len(wanted), KEY_BATCH):
            batch = wanted[start : start + KEY_BATCH]
            records, skipped = self._issues_by_key(batch)
            found.update((record.key, record) for record in records)
            if skipped:
                # Tell the unreadable issues from moved ones, which answer under a new key.
                for key in (key for key in batch if key not in found):
                    records, skipped_one = self._issues_by_key([key])
                    found.update((record.key, record) for record in records)
                    if skipped_one:
                        unreadable.add(key)
        missing = [key for key in wanted if key not in found and key not in unreadable]
        order = {key: index for index, key in enumerate(wanted)}
        return sorted(found.values(), key=lambda r: order.get(r.key, len(order))), missing

    def project_versions(self, project_key: str) -> list[VersionRecord]:
        """Return the fix versions of a project."""
        raw = self._connection.call(
            "read the versions of the project",
            lambda client: [version.raw for version in client.project_versions(project_key)],
            subject=f"project {project_key}",
        )
        return self._connection.parse(lambda: [version_record(project_key, item) for item in raw])

    def remote_links(self, issue_key: str) -> list[RemoteLinkRecord]:
        """Return the remote links on an issue."""
        raw = self._connection.call(
            "read the remote links",
            lambda client: [link.raw for link in client.remote_links(issue_key)],
            subject=f"issue {issue_key}",
        )
        return self._connection.parse(lambda: [remote_link_record(item) for item in raw])

    def upsert_remote_link(self, issue_key: str, spec: RemoteLinkSpec) -> None:
        """Create the remote link, or replace the one with the same global id."""
        link_object: dict[str, Any] = {
            "url": spec.url,
            "title": spec.title,
            "status": {"resolved": spec.resolved},
        }
        if spec.summary is not None:
            link_object["summary"] = spec.summary
        body = {
            "globalId": spec.global_id,
            "application": {"type": spec.application_type, "name": spec.application_name},
            "relationship": spec.relationship,
            "object": link_object,
        }
        # add_remote_link() first lists application links, which non-admins may not do
        # (a warning and an extra request on every call); POST through the library's
        # session keeps its retries and JIRAError without that detour.
        self._connection.call(
            "add a remote link",
            lambda client: client._session.post(
                client._get_url(f"issue/{_path(issue_key)}/remotelink"), data=json.dumps(body)
            ),
            subject=f"issue {issue_key}",
        )

    def delete_remote_link(self, issue_key: str, global_id: str) -> None:
        """Remove the remote link with this global id; absent already is fine."""
        try:
            self._connection.call(
                "delete a remote link",
                lambda client: client.delete_remote_link(issue_key, global_id=global_id),
                subject=f"issue {issue_key}",
            )
        except JiraError as error:
            if error.status != 404:
                raise
            LOG.debug("Remote link %s on %s was already absent", global_id, issue_key)

    def create_epic(
        self, project_key: str, summary: str, description: str, labels: Sequence[str]
    ) -> str:
        """Create an epic and return its key."""
        for label in labels:
            _check_label(label)
        fields: dict[str, Any] = {
            "project": {"key": project_key},
            "issuetype": {"name": "Epic"},
            "summary": summary,
            "description": description,
            "labels": list(labels),
        }
        # Cloud dropped Epic Name; older Data Center projects still require it on epics.
        epic_name = self._epic_name_field_id() if self.deployment() == "datacenter" else None
        if epic_name is not None:
            fields[epic_name] = summary

        def create(client: JIRA) -> dict[str, Any]:
            return dict(client.create_issue(fields=fields, prefetch=False).raw)

        subject = f"project {project_key}"
        try:
            created = self._connection.call("create an epic", create, subject=subject)
        except JiraError as error:
            # A project whose create screen lacks Epic Name answers 400 naming the field.
            if epic_name is None or error.status != 400 or epic_name not in str(error):
                raise
            del fields[epic_name]
            created = self._connection.call("create an epic", create, subject=subject)
        return self._connection.parse(lambda: str(created["key"]))

    def find_issue_keys_with_label(self, label: str) -> list[str]:
        """Return the keys of issues carrying label."""
        _check_label(label)
        keys: dict[str, None] = {}
        for page in self.iter_search(f"labels = {jql_string(label)}", updated_since=None):
            keys.update((issue.key, None) for issue in page.issues)
        return list(keys)

    def add_label(self, issue_key: str, label: str) -> None:
        """Add label to an issue, keeping its other labels."""
        _check_label(label)
        body = {"update": {"labels": [{"add": label}]}}
        # Issue.add_field_value() would GET the issue before and after; one PUT is enough.
        self._connection.call(
            "add a label",
            lambda client: client._session.put(
                client._get_url(f"issue/{_path(issue_key)}"), data=json.dumps(body)
            ),
            subject=f"issue {issue_key}",
        )

    def remove_label(self, issue_key: str, label: str) -> None:
        """Remove label from an issue, keeping its other labels; absent already is fine."""
        _check_label(label)
        body = {"update": {"labels": [{"remove": label}]}}
        self._connection.call(
            "remove a label",
            lambda client: client._session.put(
                client._get_url(f"issue/{_path(issue_key)}"), data=json.dumps(body)
            ),
            subject=f"issue {issue_key}",
        )

    def read_issue(self, issue_key: str) -> IssueSummary:
        """Return what Jira says of one issue (one request).

        An issue Jira does not have raises JiraError with status 404 and Jira's own words.
        """
        from jira import JIRAError  # the library loads only when Jira is used

        def read(client: JIRA) -> dict[str, Any]:
            try:
                return dict(client.issue(issue_key, fields=",".join(READ_ISSUE_FIELDS)).raw)
            except JIRAError as error:
                if error.status_code != 404:
                    raise
                # The translator words a 404 itself; here Jira's own words are the answer.
                raise _IssueNotFoundError(error.text or "") from None

        try:
            raw = self._connection.call("read the issue", read, subject=f"issue {issue_key}")
        except _IssueNotFoundError as missing:
            said = _plain(str(missing), secret_values(self._settings))
            raise JiraError(
                f"{issue_key}: {said or 'Jira has no such issue, or the account cannot see it.'}",
                status=404,
            ) from None
        try:
            record = self._connection.parse(lambda: self._issue(raw))
        except ValidationError as error:
            raise JiraError(f"Jira's answer about {issue_key} cannot be read: {error}") from None
        return IssueSummary(
            key=record.key,
            summary=record.summary,
            issue_type=record.issue_type,
            status=record.status,
            status_category=record.status_category,
            url=record.url,
        )

    # -- searching -------------------------------------------------------------------------

    def _search_cloud(
        self, jql: str, since: datetime | None, token: str | None, page_size: int
    ) -> SearchPage:
        query = search_jql(jql, self._jql_time(since) if since else None)
        raw = self._connection.call(
            "search issues",
            lambda client: client.enhanced_search_issues(
                query,
                nextPageToken=token,
                maxResults=page_size,
                fields=list(SEARCH_FIELDS),
                json_result=True,
            ),
        )
        page = cast(dict[str, Any], raw)
        issues, problems, _read = self._connection.parse(lambda: self._issues(page))
        next_token = page.get("nextPageToken") or None
        # The token is the authority; a page can be short without being the last.
        is_last = page.get("isLast") is True or next_token is None
        return SearchPage(
            issues=tuple(issues),
            next_token=None if is_last else next_token,
            is_last=is_last,
            problems=problems,
        )

    def _search_datacenter(
        self, jql: str, since: datetime | None, cursor: DataCenterCursor, page_size: int
    ) -> SearchPage:
        lower = cursor.floor or since
        query = search_jql(jql, self._jql_time(lower) if lower else None)
        raw = self._connection.call(
            "search issues",
            lambda client: client.search_issues(
                query,
                startAt=cursor.start,
                maxResults=page_size,
                fields=list(SEARCH_FIELDS),
                json_result=True,
            ),
        )
        page = raw  # json_result=True: the raw {startAt, maxResults, total, issues}
        records, problems, read = self._connection.parse(lambda: self._issues(page))
        return datacenter_page(
            cursor,
            records,
            total=page.get("total"),
            page_size=page_size,
            lower=lower,
            read=read,
            problems=problems,
        )

    def _issues_by_key(self, keys: list[str]) -> tuple[list[IssueRecord], bool]:
        """Return the issues for keys, and whether some of them could not be read."""
        jql = "key in (" + ", ".join(jql_string(key) for key in keys) + ")"
        try:
            records: list[IssueRecord] = []
            skipped = False
            for page in self.iter_search(jql, updated_since=None):
                records.extend(page.issues)
                for problem in page.problems:
                    skipped = True
                    LOG.warning("%s", problem)
            return records, skipped
        except JiraError as error:
            # Jira rejects the whole query when one key does not exist. Halving finds the
            # missing keys in about 2·m·log2(n/m) queries instead of n single GETs.
            if error.status != 400:
                raise
        if len(keys) == 1:
            return self._issue_by_get(keys[0])
        LOG.debug("Jira refused a batch of %d keys; narrowing it", len(keys))
        middle = len(keys) // 2
        first, first_skipped = self._issues_by_key(keys[:middle])
        second, second_skipped = self._issues_by_key(keys[middle:])
        return first + second, first_skipped or second_skipped

    def _issue_by_get(self, key: str) -> tuple[list[IssueRecord], bool]:
        try:
            raw = self._connection.call(
                "read the issue",
                lambda client: client.issue(key, fields=",".join(SEARCH_FIELDS)).raw,
                subject=f"issue {key}",
            )
        except JiraError as error:
            if error.status in (400, 404):
                return [], False
            raise
        records, problems, _read = self._connection.parse(lambda: self._issues({"issues": [raw]}))
        for problem in problems:
            LOG.warning("%s", problem)
        return records, bool(problems)

    def _jql_time(self, moment: datetime) -> str:
        # JQL reads a date literal in the searching account's time zone, not UTC.
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self._account_zone()).strftime("%Y-%m-%d %H:%M")

    def _account_zone(self) -> ZoneInfo:
        if self._zone is None:
            me = self._connection.call(
                "read the account's time zone", lambda client: client.myself()
            )
            name = me.get("timeZone") if isinstance(me, dict) else None
            try:
                self._zone = ZoneInfo(str(name)) if name else ZoneInfo("UTC")
            except (ZoneInfoNotFoundError, ValueError):
                self._zone = ZoneInfo("UTC")
            if not name or self._zone.key != name:
                LOG.warning("Jira did not report a usable time zone (%r); using UTC", name)
        return self._zone

    def _epic_name_field_id(self) -> str | None:
        if not self._epic_name_looked_up:
            fields = self._connection.call("read the field list", lambda client: client.fields())
            self._epic_name_field = next(
                (
                    str(item["id"])
                    for item in fields
                    if (item.get("schema") or {}).get("custom") == EPIC_NAME_SCHEMA
                ),
                None,
            )
            self._epic_name_looked_up = True
        return self._epic_name_field

    def _issue(self, raw: Mapping[str, Any]) -> IssueRecord:
        return issue_record(raw, self._settings.url)

    def _issues(self, page: Mapping[str, Any]) -> tuple[list[IssueRecord], tuple[str, ...], int]:
        """Read a page's issues; one that cannot be read is left out, with a note saying why."""
        items = page.get("issues") or []
        if not isinstance(items, list):
            raise TypeError(f"issues is a {type(items).__name__}, not a list")
        records: list[IssueRecord] = []
        problems: list[str] = []
        for item in items:
            try:
                records.append(self._issue(item))
            except ValidationError as error:
                problems.append(
                    f"An issue from Jira was left out because it cannot be read: {error} "
                    "Correct it in Jira; the next sync reads it again."
                )
        return records, tuple(problems), len(items)


class _IssueNotFoundError(Exception):
    """Jira answered 404 to a lookup by key; the message is Jira's."""


def _plain(text: str, secrets: Sequence[str]) -> str:
    """Return Jira's message on one line, without secrets, cut to a readable length."""
    flat = " ".join(text.split())
    if flat.startswith("<"):
        return ""  # an HTML error page says nothing a person can act on
    for secret in secrets:
        flat = flat.replace(secret, "***")
    return flat[:300]


#: The earlier private name of issue_record, kept for callers that still use it.
_issue_record = issue_record


def _check_label(label: str) -> None:
    if not label or any(character.isspace() for character in label):
        raise ValidationError(f"Jira labels cannot be empty or contain spaces: {label!r}.")


def _path(segment: str) -> str:
    return quote(segment, safe="")
