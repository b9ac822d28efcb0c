"""The Jira page's view object (settings without secrets, runs, missing items); the epic form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.integrations.jira_records import JiraSettings
from tracker.models import SyncRun, as_utc
from tracker.services.jira_overview import JiraOverview
from tracker.services.jira_webhooks import WebhookCounts
from tracker.web.links import safe_url

#: Every setting, described; the page never shows their values, only whether secrets are set.
VARIABLES: tuple[tuple[str, str], ...] = (
    (
        "TRACKER_JIRA_URL",
        "Jira's address: https://example.atlassian.net (Cloud) or your Data Center address.",
    ),
    ("TRACKER_JIRA_EMAIL", "Jira Cloud: the email of the account the tracker acts as."),
    ("TRACKER_JIRA_API_TOKEN", "Jira Cloud: an API token of that account."),
    (
        "TRACKER_JIRA_PAT",
        "Jira Data Center: a personal access token (instead of the email and API token).",
    ),
    (
        "TRACKER_JIRA_JQL",
        "The issues to follow, e.g. project in (PRIV, APP) AND issuetype = Epic "
        "(default: issuetype = Epic).",
    ),
    (
        "TRACKER_JIRA_WEBHOOK_SECRET",
        "The secret of the Jira webhook that points at /webhooks/jira; without it the "
        "tracker refuses webhook deliveries.",
    ),
    ("TRACKER_JIRA_PUSH", "1 to push remote links to Jira after every sync (default 0)."),
    ("TRACKER_JIRA_TIMEOUT", "Seconds to wait for each Jira request (default 30)."),
    (
        "TRACKER_JIRA_SYNC_EVERY",
        "Minutes between scheduled syncs (default 10); off stops the schedule.",
    ),
    (
        "TRACKER_JIRA_FULL_SYNC_AT",
        "When the nightly full sync runs, HH:MM in UTC (default 02:30); off stops it.",
    ),
)
RUN_STATUS_CSS = {
    "succeeded": "run-ok",
    "succeeded with problems": "run-warn",
    "partial": "run-warn",
    "running": "run-running",
    "failed": "run-failed",
    "interrupted": "run-failed",
}


@dataclass(frozen=True)
class EpicForm:
    """The "Create epic in Jira" form on the page of an obligation that is a gap."""

    project: str


@dataclass(frozen=True)
class SettingsView:
    """The Jira settings a person may see: never a token, a password or the webhook secret."""

    url: str
    deployment: str
    account: str
    jql: str
    webhooks_enabled: bool
    webhook_url: str
    push_after_sync: bool
    timeout: str
    #: What the deliveries remembered did, e.g. "In the last 14 days: 3 applied, 1 stale ...".
    deliveries: str


@dataclass(frozen=True)
class RunRow:
    """One sync or push run in the table."""

    id: int
    kind: str
    mode: str
    status: str
    css: str
    actor: str
    started: str
    finished: str
    duration: str
    pages: str
    created: str
    updated: str
    unchanged: str
    missing: str
    links: str
    problems: list[str]


@dataclass(frozen=True)
class MissingRow:
    """A work item missing in Jira, with the obligations that still link to it."""

    key: str
    url: str | None
    summary: str
    since: str
    obligation_ids: list[str]


@dataclass(frozen=True)
class JiraPage:
    """Everything the Jira page shows."""

    configured: bool
    settings_error: str | None
    not_configured: str
    variables: tuple[tuple[str, str], ...]
    settings: SettingsView | None
    runs: list[RunRow]
    missing: list[MissingRow]
    epic_project: str = ""  # offered as the project of epics created for every gap


def jira_page(
    *,
    settings: JiraSettings | None,
    settings_error: str | None,
    not_configured: str,
    overview: JiraOverview,
    public_url: str,
    epic_project: str = "",
) -> JiraPage:
    """Return the page's view object."""
    return JiraPage(
        epic_project=epic_project,
        configured=settings is not None,
        settings_error=settings_error,
        not_configured=not_configured,
        variables=VARIABLES,
        settings=(
            _settings_view(settings, public_url, _deliveries(overview.webhooks))
            if settings is not None
            else None
        ),
        runs=[_run_row(run) for run in overview.runs],
        missing=[
            MissingRow(
                key=item.key,
                url=safe_url(item.url),
                summary=item.summary,
                since=_when(item.missing_since),
                obligation_ids=list(item.obligation_ids),
            )
            for item in overview.missing
        ],
    )


def _settings_view(settings: JiraSettings, public_url: str, deliveries: str) -> SettingsView:
    if settings.uses_pat:
        deployment = "Jira Data Center (personal access token)"
        account = "the owner of the personal access token"
    else:
        deployment = "Jira Cloud (email and API token)"
        account = settings.email or "—"
    return SettingsView(
        url=settings.url,
        deployment=deployment,
        account=account,
        jql=settings.jql,
        webhooks_enabled=bool(settings.webhook_secret),
        webhook_url=f"{public_url.rstrip('/')}/webhooks/jira",
        push_after_sync=settings.push_after_sync,
        timeout=f"{settings.timeout:g} s",
        deliveries=deliveries,
    )


def _deliveries(counts: WebhookCounts) -> str:
    total = counts.applied + counts.stale + counts.deleted + counts.ignored
    if not total:
        return f"None received in the last {counts.days} days."
    parts = [
        f"{counts.applied} applied",
        f"{counts.stale} stale (older than the stored copy of the issue, so nothing changed)",
        f"{counts.deleted} deletions",
        f"{counts.ignored} ignored (events the tracker does not use)",
    ]
    return (
        f"In the last {counts.days} days: {', '.join(parts)}; the last one arrived "
        f"{_when(counts.last_received)}."
    )


def _run_row(run: SyncRun) -> RunRow:
    sync = run.kind == "sync"
    mode = ("full" if run.full else "incremental") if sync else "remote links"
    if run.dry_run:
        mode += ", dry run"
    return RunRow(
        id=run.id or 0,
        kind="Sync" if sync else "Push",
        mode=mode,
        status=run.status,
        css=RUN_STATUS_CSS.get(run.status, "run-running"),
        actor=run.actor,
        started=_when(run.started_at),
        finished=_when(run.finished_at) if run.finished_at else "—",
        duration=_duration(run.started_at, run.finished_at),
        pages=str(run.pages) if sync else "—",
        created=str(run.created) if sync else "—",
        updated=str(run.updated),
        unchanged=str(run.unchanged),
        missing=str(run.missing) if sync else "—",
        links=f"+{run.links_added} / −{run.links_removed}" if sync else "—",
        problems=list(run.problems or []),
    )


def _duration(started: datetime, finished: datetime | None) -> str:
    if finished is None:
        return "—"
    seconds = (as_utc(finished) - as_utc(started)).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _when(moment: datetime | None) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S} UTC" if moment else "—"
