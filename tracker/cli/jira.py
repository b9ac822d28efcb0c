"""`tracker jira`: sync work items, push remote links, create epics for gaps."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.cli.operator import command_actor
from tracker.cli.params import ColumnText
from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError
from tracker.models import EpicRequest


@click.group("jira", cls=AppGroup)
def jira() -> None:
    """Jira: pull work items, show obligations on epics, create epics for gaps."""


@jira.command("sync")
@click.option("--full", is_flag=True, help="Read every issue in scope, not only changes.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@with_appcontext
def jira_sync_command(full: bool, dry_run: bool) -> None:
    """Pull work items from Jira (incremental unless --full), then push if TRACKER_JIRA_PUSH=1."""
    from tracker.integrations.jira_setup import public_url, require_gateway
    from tracker.services.jira_push import push_links
    from tracker.services.jira_sync import sync_jira

    try:
        settings, gateway = require_gateway()
        bar = _SyncProgress()
        try:
            report = sync_jira(
                engine=get_engine(),
                gateway=gateway,
                jql=settings.jql,
                full=full,
                dry_run=dry_run,
                actor=command_actor("tracker jira sync"),
                progress=bar.advance,
                on_total=bar.start,
            )
        finally:
            bar.close()
        click.echo(f"Sync run #{report.run_id} {report.status}. {report.summary()}")
        for problem in report.problems:
            click.echo(f"  - {problem}", err=True)
        if report.status == "failed":
            sys.exit(1)
        if settings.push_after_sync and not dry_run:
            pushed = push_links(
                engine=get_engine(),
                gateway=gateway,
                public_url=public_url(),
                actor=command_actor("tracker jira sync"),
            )
            click.echo("Push: " + pushed.summary())
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc


class _SyncProgress:
    """A progress bar over the issues a sync reads (a running count if Jira gave no total)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._seen = 0

    def start(self, total: int | None) -> None:
        if total:
            self._bar = click.progressbar(
                length=total, label="Reading issues from Jira", file=sys.stderr
            )
            self._bar.__enter__()

    def advance(self, count: int) -> None:
        self._seen += count
        if self._bar is not None:
            self._bar.update(count)
        else:
            click.echo(f"\rRead {self._seen} issues from Jira...", nl=False, err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
        else:
            click.echo("", err=True)


@jira.command("push")
@click.option("--dry-run", is_flag=True, help="Print the planned remote-link changes only.")
@click.option("--full", is_flag=True, help="Send every remote link again, even unchanged ones.")
@with_appcontext
def jira_push_command(dry_run: bool, full: bool) -> None:
    """Put one remote link per obligation on every linked Jira issue, with its status."""
    from tracker.integrations.jira_setup import public_url, require_gateway
    from tracker.services.jira_push import plan_push, push_links

    try:
        _settings, gateway = require_gateway()
        if dry_run:
            report = push_links(
                engine=get_engine(),
                gateway=gateway,
                public_url=public_url(),
                actor=command_actor("tracker jira push"),
                dry_run=True,
                full=full,
            )
            for change in report.planned:
                click.echo(change.describe())
            click.echo(report.summary())
            return
        with Session(get_engine()) as session:
            total = len(plan_push(session=session, public_url=public_url(), full=full)[0])
        with click.progressbar(length=total, label="Pushing remote links", file=sys.stderr) as bar:
            report = push_links(
                engine=get_engine(),
                gateway=gateway,
                public_url=public_url(),
                actor=command_actor("tracker jira push"),
                full=full,
                progress=bar.update,
            )
        click.echo(report.summary())
        for key, message in sorted(report.failed.items()):
            click.echo(f"  - {key}: {message}", err=True)
        if report.failed:
            sys.exit(1)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc


@jira.command("create-epic")
@click.argument("obligation", type=ColumnText(EpicRequest, "obligation_id"))
@click.option(
    "--project",
    required=True,
    type=ColumnText(EpicRequest, "project_key"),
    help="Jira project key, e.g. PRIV.",
)
@with_appcontext
def jira_create_epic_command(obligation: str, project: str) -> None:
    """Create (once) an epic for an obligation that is a gap, and link it."""
    from tracker.integrations.jira_setup import public_url, require_gateway
    from tracker.services.jira_epics import create_epic

    try:
        _settings, gateway = require_gateway()
        with session_scope(get_engine()) as session:
            outcome = create_epic(
                session=session,
                gateway=gateway,
                obligation_id=obligation,
                project_key=project,
                actor=command_actor("tracker jira create-epic"),
                public_url=public_url(),
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome.message)
