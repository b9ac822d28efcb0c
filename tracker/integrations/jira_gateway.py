"""The Jira gateway: the Protocol services use, and its REST implementation on the jira library."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError

from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_records import (
    IssueRecord,
    JiraSettings,
    RemoteLinkRecord,
    RemoteLinkSpec,
    SearchPage,
    StatusCategory,
    VersionRecord,
)

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
#: Issues per page when iter_search walks all pages (Cloud caps pages at 100 with fields).
PAGE_SIZE = 100
#: Data Center refuses offsets past its max_result_window (default 10,000) with a 500.
MAX_OFFSET = 10_000
#: Keys per `key in (...)` query in get_issues.
KEY_BATCH = 100
#: schema.custom of the Epic Name field that older Data Center projects require on epics.
EPIC_NAME_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-label"
#: Retries the library's ResilientSession makes on 429, 503 with Retry-After, connection errors.
DEFAULT_MAX_RETRIES = 3
#: Longest single sleep between those retries, in seconds (the library's default is 60).
DEFAULT_MAX_RETRY_DELAY = 30

_CATEGORIES: dict[str, StatusCategory] = {
    "new": "new",
    "indeterminate": "indeterminate",
    "done": "done",
}
_CREDENTIALS_MESSAGE = (
    "Jira rejected the credentials: check TRACKER_JIRA_EMAIL and TRACKER_JIRA_API_TOKEN (Cloud) "
    "or TRACKER_JIRA_PAT (Data Center)."
)
_CURSOR_PREFIX = "dc1."
_T = TypeVar("_T")


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


#: The earlier private name, still imported by tracker.services.jira_webhooks.
_issue_record = issue_record


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
        self._max_retries = max(0, max_retries)
        self._max_retry_delay = max(1, max_retry_delay)
        self._lock = threading.Lock()
        self._client: JIRA | None = None
        self._zone: ZoneInfo | None = None
        self._epic_name_field: str | None = None
        self._epic_name_looked_up = False

    def __repr__(self) -> str:
        return f"RestJiraGateway(url={self._settings.url!r})"

    def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]  # untyped in jira
                self._client = None

    def deployment(self) -> str:
        """Return "cloud" or "datacenter" from the server's deploymentType."""
        kind = self._call("read the server information", lambda client: client.deploymentType)
        return "cloud" if kind == "Cloud" else "datacenter"

    def server_title(self) -> str:
        """Return the name the Jira site gives itself."""
        info = self._call("read the server information", lambda client: client.server_info())
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
        cursor = _Cursor.decode(page_token) if page_token else _Cursor()
        return self._search_datacenter(jql, updated_since, cursor, page_size)

    def count_issues(self, jql: str, *, updated_since: datetime | None) -> int | None:
        """Return about how many issues a search will read (for progress), None if unknown."""
        if self.deployment() != "cloud":
            # Data Center would need one more search for its total: not worth a request.
            return None
        query = search_jql(jql, self._jql_time(updated_since) if updated_since else None)
        try:
            # Cloud's search has no total; this endpoint gives an estimate.
            response = self._call(
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
        """Return the issues found for keys and the keys Jira does not have."""
        wanted = list(dict.fromkeys(key.strip().upper() for key in keys if key.strip()))
        found: dict[str, IssueRecord] = {}
        for start in range(0, len(wanted), KEY_BATCH):
            for record in self._issues_by_key(wanted[start : start + KEY_BATCH]):
                found[record.key] = record
        missing = [key for key in wanted if key not in found]
        order = {key: index for index, key in enumerate(wanted)}
        return sorted(found.values(), key=lambda r: order.get(r.key, len(order))), missing

    def project_versions(self, project_key: str) -> list[VersionRecord]:
        """Return the fix versions of a project."""
        raw = self._call(
            "read the versions of the project",
            lambda client: [version.raw for version in client.project_versions(project_key)],
            subject=f"project {project_key}",
        )
        return self._parse(lambda: [_version_record(project_key, item) for item in raw])

    def remote_links(self, issue_key: str) -> list[RemoteLinkRecord]:
        """Return the remote links on an issue."""
        raw = self._call(
            "read the remote links",
            lambda client: [link.raw for link in client.remote_links(issue_key)],
            subject=f"issue {issue_key}",
        )
        return self._parse(lambda: [_remote_link_record(item) for item in raw])

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
        self._call(
            "add a remote link",
            lambda client: client._session.post(
                client._get_url(f"issue/{_path(issue_key)}/remotelink"), data=json.dumps(body)
            ),
            subject=f"issue {issue_key}",
        )

    def delete_remote_link(self, issue_key: str, global_id: str) -> None:
        """Remove the remote link with this global id; absent already is fine."""
        try:
            self._call(
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
            created = self._call("create an epic", create, subject=subject)
        except JiraError as error:
            # A project whose create screen lacks Epic Name answers 400 naming the field.
            if epic_name is None or error.status != 400 or epic_name not in str(error):
                raise
            del fields[epic_name]
            created = self._call("create an epic", create, subject=subject)
        return self._parse(lambda: str(created["key"]))

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
        self._call(
            "add a label",
            lambda client: client._session.put(
                client._get_url(f"issue/{_path(issue_key)}"), data=json.dumps(body)
            ),
            subject=f"issue {issue_key}",
        )

    # -- searching -------------------------------------------------------------------------

    def _search_cloud(
        self, jql: str, since: datetime | None, token: str | None, page_size: int
    ) -> SearchPage:
        query = search_jql(jql, self._jql_time(since) if since else None)
        raw = self._call(
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
        issues = self._parse(lambda: tuple(self._issue(item) for item in page.get("issues") or ()))
        next_token = page.get("nextPageToken") or None
        # The token is the authority; a page can be short without being the last.
        is_last = page.get("isLast") is True or next_token is None
        return SearchPage(
            issues=issues, next_token=None if is_last else next_token, is_last=is_last
        )

    def _search_datacenter(
        self, jql: str, since: datetime | None, cursor: _Cursor, page_size: int
    ) -> SearchPage:
        lower = cursor.floor or since
        query = search_jql(jql, self._jql_time(lower) if lower else None)
        raw = self._call(
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
        records = self._parse(lambda: [self._issue(item) for item in page.get("issues") or ()])
        fresh = tuple(r for r in records if (r.key, r.updated) not in cursor.seen)
        reached = cursor.start + len(records)
        total = page.get("total")
        if not records or (isinstance(total, int) and reached >= total):
            return SearchPage(issues=fresh, next_token=None, is_last=True)
        seen = _newest_minute(cursor.seen | {(r.key, r.updated) for r in records})
        if reached + page_size <= MAX_OFFSET:
            following = _Cursor(start=reached, floor=cursor.floor, seen=seen)
        else:
            following = _Cursor(start=0, floor=self._next_window(records, lower), seen=seen)
        return SearchPage(issues=fresh, next_token=following.encode(), is_last=False)

    def _next_window(self, records: Sequence[IssueRecord], lower: datetime | None) -> datetime:
        # Restart at the newest minute seen: JQL dates have minute precision, and the
        # seen set skips what was already returned within that minute.
        floor = _minute(max(record.updated for record in records))
        if lower is not None and floor <= _minute(lower):
            raise JiraError(
                f"More than {MAX_OFFSET} issues matching the JQL were updated within one minute "
                f"({floor:%Y-%m-%d %H:%M} UTC); Jira Data Center cannot page past that. "
                "Narrow TRACKER_JIRA_JQL (for example by project) and sync again."
            )
        LOG.info("Jira search reached offset %d; continuing from updated >= %s", MAX_OFFSET, floor)
        return floor

    def _issues_by_key(self, keys: list[str]) -> list[IssueRecord]:
        jql = "key in (" + ", ".join(jql_string(key) for key in keys) + ")"
        try:
            pages = self.iter_search(jql, updated_since=None)
            return [issue for page in pages for issue in page.issues]
        except JiraError as error:
            # Jira rejects the whole query when one key does not exist. Halving finds the
            # missing keys in about 2·m·log2(n/m) queries instead of n single GETs.
            if error.status != 400:
                raise
        if len(keys) == 1:
            return self._issue_by_get(keys[0])
        LOG.debug("Jira refused a batch of %d keys; narrowing it", len(keys))
        middle = len(keys) // 2
        return self._issues_by_key(keys[:middle]) + self._issues_by_key(keys[middle:])

    def _issue_by_get(self, key: str) -> list[IssueRecord]:
        try:
            raw = self._call(
                "read the issue",
                lambda client: client.issue(key, fields=",".join(SEARCH_FIELDS)).raw,
                subject=f"issue {key}",
            )
        except JiraError as error:
            if error.status in (400, 404):
                return []
            raise
        return [self._parse(lambda: self._issue(raw))]

    def _jql_time(self, moment: datetime) -> str:
        # JQL reads a date literal in the searching account's time zone, not UTC.
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self._account_zone()).strftime("%Y-%m-%d %H:%M")

    def _account_zone(self) -> ZoneInfo:
        if self._zone is None:
            me = self._call("read the account's time zone", lambda client: client.myself())
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
            fields = self._call("read the field list", lambda client: client.fields())
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

    # -- the library, and its errors -------------------------------------------------------

    def _connect(self) -> JIRA:
        settings = self._settings
        _guard_library_logs(self._secret_values())
        auth: dict[str, Any]
        if settings.uses_pat:
            auth = {"token_auth": settings.pat}
        else:
            auth = {"basic_auth": (settings.email or "", settings.api_token or "")}
        # The first request (serverInfo, made inside the constructor) runs before we can
        # tune the session, with the library's 60 s delay cap; one retry at most keeps a
        # wrong URL from hanging for minutes. Later requests get the configured bound.
        client = JIRA(
            server=settings.url,
            timeout=settings.timeout,
            max_retries=min(self._max_retries, 1),
            get_server_info=True,
            **auth,
        )
        client._session.max_retries = self._max_retries
        client._session.max_retry_delay = self._max_retry_delay
        client._session.hooks["response"].append(_normalise_retry_after)
        return client

    def _jira(self) -> JIRA:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _call(
        self, action: str, operation: Callable[[JIRA], _T], *, subject: str | None = None
    ) -> _T:
        # `from None`: JIRAError's str() dumps response headers (cookies included), and a
        # chained cause would print it in every logged traceback.
        try:
            return operation(self._jira())
        except JIRAError as error:
            raise self._translate(error, action, subject) from None
        except requests.exceptions.JSONDecodeError:
            raise JiraError(
                f"Jira at {self._settings.url} did not answer with JSON when asked to {action}; "
                "check that TRACKER_JIRA_URL is the Jira base URL, not a login page or proxy."
            ) from None
        except requests.Timeout:
            raise self._unreachable(f"no answer within {self._settings.timeout:g} s") from None
        except requests.ConnectionError as error:
            raise self._unreachable(_connection_reason(error)) from None
        except requests.RequestException as error:
            raise self._unreachable(type(error).__name__) from None

    def _parse(self, build: Callable[[], _T]) -> _T:
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise JiraError(
                f"Jira at {self._settings.url} answered in an unexpected shape "
                f"({type(error).__name__}: {self._redact(str(error))[:200]})."
            ) from None

    def _unreachable(self, reason: str) -> JiraError:
        return JiraError(
            f"Jira at {self._settings.url} is unreachable: {self._redact(reason)}. "
            "Check TRACKER_JIRA_URL and the network; the sync can be retried later.",
            retryable=True,
        )

    def _translate(self, error: JIRAError, action: str, subject: str | None) -> JiraError:
        status = error.status_code
        detail = self._detail(error.text)
        said = f" Jira said: {detail}" if detail else ""
        where = f" on {subject}" if subject else ""
        if status is None:
            return JiraError(f"Could not {action}{where}: {detail or 'the jira library refused'}.")
        if status == 401:
            return JiraError(_CREDENTIALS_MESSAGE, status=401)
        if status == 403:
            return JiraError(
                f"The Jira account has no permission to {action}{where}.{said}", status=403
            )
        if status == 404:
            if subject:
                return JiraError(
                    f"Jira {subject} does not exist, or the account cannot see it.", status=404
                )
            return JiraError(
                f"Jira has nothing at {_endpoint(error)} (HTTP 404).{said}", status=404
            )
        if status == 410:
            return JiraError(
                f"This Jira no longer offers {_endpoint(error)}; it was removed (on Cloud, "
                "/rest/api/2/search gave way to /search/jql). Check that the server reports "
                f"deploymentType Cloud at /rest/api/2/serverInfo.{said}",
                status=410,
            )
        if status == 429:
            response = error.response
            wait = response.headers.get("Retry-After") if response is not None else None
            when = f"in {wait} seconds" if wait else "in a few minutes"
            return JiraError(
                f"Jira is rate limiting the tracker and still refused to {action} after "
                f"{self._max_retries} retries; try again {when}.",
                status=429,
                retryable=True,
            )
        if status >= 500:
            return JiraError(
                f"Jira failed to {action}{where} (HTTP {status}); this is usually temporary, "
                f"try again later.{said}",
                status=status,
                retryable=True,
            )
        return JiraError(
            f"Jira refused to {action}{where} (HTTP {status}).{said}",
            status=status,
            retryable=status in (408, 409),
        )

    def _detail(self, text: str | None) -> str:
        if not text:
            return ""
        flat = " ".join(text.split())
        if flat.startswith("<"):
            return ""  # an HTML error page says nothing a person can act on
        return self._redact(flat)[:300]

    def _redact(self, text: str) -> str:
        return _scrub(text, self._secret_values())

    def _secret_values(self) -> list[str]:
        settings = self._settings
        values = list(settings.secrets())
        if settings.email and settings.api_token:
            # The Basic header carries email:token in base64; it is as secret as the token.
            pair = f"{settings.email}:{settings.api_token}".encode()
            values.append(base64.b64encode(pair).decode())
        return values


class _ScrubSecrets(logging.Filter):
    """Blank known secrets out of the jira library's log records."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        # The library logs exception text and, at DEBUG, whole response bodies; a proxy
        # or server that echoes credentials would otherwise put them in our logs.
        message = record.getMessage()
        cleaned = _scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_LOG_SCRUBBER = _ScrubSecrets()
_LIBRARY_LOGGERS = ("jira", "jira.resilientsession")


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{16,}", r"\1 ***", text)


def _guard_library_logs(secrets: Iterable[str]) -> None:
    _LOG_SCRUBBER.secrets.update(secrets)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_SCRUBBER not in logger.filters:
            logger.addFilter(_LOG_SCRUBBER)


@dataclass(frozen=True)
class _Cursor:
    """Where a Data Center search stands: offset, keyset window, what the window repeats."""

    start: int = 0
    floor: datetime | None = None
    seen: frozenset[tuple[str, datetime]] = field(default_factory=frozenset)

    def encode(self) -> str:
        state = {
            "start": self.start,
            "floor": self.floor.isoformat() if self.floor else None,
            "seen": sorted([key, moment.isoformat()] for key, moment in self.seen),
        }
        packed = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode())
        return _CURSOR_PREFIX + packed.decode()

    @classmethod
    def decode(cls, token: str) -> _Cursor:
        try:
            if not token.startswith(_CURSOR_PREFIX):
                raise ValueError("unknown prefix")
            state = json.loads(base64.urlsafe_b64decode(token[len(_CURSOR_PREFIX) :]))
            return cls(
                start=int(state["start"]),
                floor=datetime.fromisoformat(state["floor"]) if state["floor"] else None,
                seen=frozenset(
                    (str(key), datetime.fromisoformat(moment)) for key, moment in state["seen"]
                ),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ValidationError(
                "The search page token is not one this gateway issued; start the search again.",
                field="page_token",
            ) from None


def _newest_minute(pairs: frozenset[tuple[str, datetime]]) -> frozenset[tuple[str, datetime]]:
    # Only issues in the newest minute can come back when a window restarts there.
    if not pairs:
        return pairs
    floor = _minute(max(moment for _, moment in pairs))
    return frozenset(pair for pair in pairs if pair[1] >= floor)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _version_record(project_key: str, raw: Mapping[str, Any]) -> VersionRecord:
    release_date = raw.get("releaseDate")
    return VersionRecord(
        project_key=project_key,
        id=str(raw["id"]),
        name=str(raw["name"]),
        released=bool(raw.get("released", False)),
        release_date=date.fromisoformat(str(release_date)) if release_date else None,
        archived=bool(raw.get("archived", False)),
    )


def _remote_link_record(raw: Mapping[str, Any]) -> RemoteLinkRecord:
    link_object = raw.get("object") or {}
    return RemoteLinkRecord(
        id=int(raw["id"]),
        global_id=raw.get("globalId"),
        url=str(link_object.get("url") or ""),
        title=str(link_object.get("title") or ""),
        summary=link_object.get("summary"),
        resolved=bool((link_object.get("status") or {}).get("resolved", False)),
    )


def _check_label(label: str) -> None:
    if not label or any(character.isspace() for character in label):
        raise ValidationError(f"Jira labels cannot be empty or contain spaces: {label!r}.")


def _path(segment: str) -> str:
    return quote(segment, safe="")


def _endpoint(error: JIRAError) -> str:
    return urlsplit(error.url).path if error.url else "that endpoint"


def _connection_reason(error: requests.ConnectionError) -> str:
    text = str(error).lower()
    if isinstance(error, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol)"
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or isinstance(error, requests.Timeout):
        return "the connection timed out"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("resolve" in text)
    ):
        return "the host name does not resolve"
    return f"the connection failed ({type(error).__name__})"


def _normalise_retry_after(
    response: requests.Response, *args: Any, **kwargs: Any
) -> requests.Response:
    # ResilientSession does int(Retry-After): an HTTP-date or a fraction would raise
    # ValueError instead of waiting, so turn them into whole seconds first.
    value = response.headers.get("Retry-After")
    if value is None or value.strip().isdigit():
        return response
    seconds = _retry_after_seconds(value.strip())
    if seconds is None:
        del response.headers["Retry-After"]
    else:
        response.headers["Retry-After"] = str(seconds)
    return response


def _retry_after_seconds(value: str) -> int | None:
    try:
        return max(0, math.ceil(float(value)))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds()))
