"""Plain records the Jira gateway takes and returns, and Jira settings from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from urllib.parse import urlsplit

from tracker.errors import ValidationError

StatusCategory = Literal["new", "indeterminate", "done"]

DEFAULT_JQL = "issuetype = Epic"
DEFAULT_TIMEOUT = 30.0

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True, repr=False)
class JiraSettings:
    """How to reach Jira and what to pull from it; secrets never appear in repr()."""

    url: str
    email: str | None = None
    api_token: str | None = None
    pat: str | None = None
    jql: str = DEFAULT_JQL
    webhook_secret: str | None = None
    push_after_sync: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> JiraSettings | None:
        """Read TRACKER_JIRA_* variables; None when TRACKER_JIRA_URL is unset."""
        url = _text(environ, "TRACKER_JIRA_URL")
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(
                "TRACKER_JIRA_URL must be an http(s) address such as "
                "https://example.atlassian.net.",
                field="TRACKER_JIRA_URL",
            )
        if parts.username or parts.password:
            # A password in the URL would end up in logs and error messages.
            raise ValidationError(
                "TRACKER_JIRA_URL must not contain credentials; set TRACKER_JIRA_EMAIL and "
                "TRACKER_JIRA_API_TOKEN (Cloud) or TRACKER_JIRA_PAT (Data Center) instead.",
                field="TRACKER_JIRA_URL",
            )
        email = _text(environ, "TRACKER_JIRA_EMAIL")
        api_token = _text(environ, "TRACKER_JIRA_API_TOKEN")
        pat = _text(environ, "TRACKER_JIRA_PAT")
        _check_credentials(email, api_token, pat)
        return cls(
            url=url.rstrip("/"),
            email=email,
            api_token=api_token,
            pat=pat,
            jql=_text(environ, "TRACKER_JIRA_JQL") or DEFAULT_JQL,
            webhook_secret=_text(environ, "TRACKER_JIRA_WEBHOOK_SECRET"),
            push_after_sync=_flag(environ, "TRACKER_JIRA_PUSH"),
            timeout=_seconds(environ, "TRACKER_JIRA_TIMEOUT", DEFAULT_TIMEOUT),
        )

    @property
    def uses_pat(self) -> bool:
        """Return True when the settings authenticate with a Data Center PAT."""
        return self.pat is not None and self.api_token is None

    def secrets(self) -> tuple[str, ...]:
        """Return the secret values, so error text and logs can be checked against them."""
        return tuple(s for s in (self.api_token, self.pat, self.webhook_secret) if s)

    def __repr__(self) -> str:
        return (
            f"JiraSettings(url={self.url!r}, email={self.email!r}, "
            f"api_token={_mask(self.api_token)}, pat={_mask(self.pat)}, jql={self.jql!r}, "
            f"webhook_secret={_mask(self.webhook_secret)}, "
            f"push_after_sync={self.push_after_sync!r}, timeout={self.timeout!r})"
        )


@dataclass(frozen=True)
class IssueRecord:
    """One Jira issue (usually an epic) as the tracker needs it."""

    key: str
    id: str
    summary: str
    issue_type: str
    status: str
    status_category: StatusCategory
    fix_versions: tuple[str, ...]
    labels: tuple[str, ...]
    assignee: str | None
    url: str
    updated: datetime
    project_key: str


@dataclass(frozen=True)
class IssueSummary:
    """What Jira says of one issue looked up by key: enough to show it before a sync."""

    key: str
    summary: str
    issue_type: str
    status: str
    status_category: StatusCategory
    url: str


@dataclass(frozen=True)
class SearchPage:
    """One page of search results; next_token resumes the same search.

    problems names the issues of the page that could not be read (and were left out).
    """

    issues: tuple[IssueRecord, ...]
    next_token: str | None
    is_last: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionRecord:
    """One fix version of a Jira project."""

    project_key: str
    id: str
    name: str
    released: bool
    release_date: date | None
    archived: bool


@dataclass(frozen=True)
class RemoteLinkRecord:
    """One remote link on a Jira issue, as read back from Jira."""

    id: int
    global_id: str | None
    url: str
    title: str
    summary: str | None
    resolved: bool


@dataclass(frozen=True)
class RemoteLinkSpec:
    """A remote link the tracker wants on an issue; global_id makes the push an upsert."""

    global_id: str
    url: str
    title: str
    summary: str | None = None
    resolved: bool = False
    relationship: str = "carries obligation"
    application_name: str = "Privacy tracker"
    application_type: str = "privacy-tracker"


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    raise ValidationError(f"{name} must be true or false (1/0, yes/no, on/off).", field=name)


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    value = _text(environ, name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise ValidationError(f"{name} must be a number of seconds between 0 and 600.", field=name)
    return seconds


def _check_credentials(email: str | None, api_token: str | None, pat: str | None) -> None:
    if email and api_token:
        if pat:
            raise ValidationError(
                "Set either TRACKER_JIRA_EMAIL and TRACKER_JIRA_API_TOKEN (Cloud) or "
                "TRACKER_JIRA_PAT (Data Center), not both.",
                field="TRACKER_JIRA_PAT",
            )
        return
    if pat and not (email or api_token):
        return
    if email and not api_token:
        raise ValidationError(
            "TRACKER_JIRA_EMAIL is set but TRACKER_JIRA_API_TOKEN is not; Jira Cloud needs both.",
            field="TRACKER_JIRA_API_TOKEN",
        )
    if api_token and not email:
        raise ValidationError(
            "TRACKER_JIRA_API_TOKEN is set but TRACKER_JIRA_EMAIL is not; Jira Cloud needs both.",
            field="TRACKER_JIRA_EMAIL",
        )
    raise ValidationError(
        "TRACKER_JIRA_URL is set but no credentials are: set TRACKER_JIRA_EMAIL and "
        "TRACKER_JIRA_API_TOKEN (Cloud) or TRACKER_JIRA_PAT (Data Center).",
        field="TRACKER_JIRA_URL",
    )


def _mask(secret: str | None) -> str:
    return "None" if secret is None else "'***'"
