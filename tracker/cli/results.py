"""`tracker results`: ingest JUnit XML reports from CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tracker.cli.operator import command_actor
from tracker.cli.params import ColumnText
from tracker.cli.paths import FilePath
from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError
from tracker.models import TestRun


@click.group("results", cls=AppGroup)
def results() -> None:
    """Test results: ingest JUnit XML reports from CI."""


@results.command("ingest")
@click.argument(
    "files", nargs=-1, required=True, type=FilePath(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--suite",
    type=ColumnText(TestRun, "suite"),
    help="Suite name (default: the report's first suite name).",
)
@click.option("--commit", type=ColumnText(TestRun, "commit"), help="Commit the tests ran on.")
@click.option(
    "--branch",
    type=ColumnText(TestRun, "branch"),
    help="Branch the tests ran on (default branch when omitted).",
)
@click.option(
    "--release",
    type=ColumnText(TestRun, "release"),
    help="Release (Jira fix version) the run is for.",
)
@click.option(
    "--environment", type=ColumnText(TestRun, "environment"), help="Environment, e.g. staging."
)
@click.option(
    "--mapping",
    type=FilePath(exists=True, dir_okay=False, path_type=Path),
    help="YAML file mapping test-id patterns to obligations.",
)
@with_appcontext
def results_ingest_command(
    files: tuple[Path, ...],
    suite: str | None,
    commit: str | None,
    branch: str | None,
    release: str | None,
    environment: str | None,
    mapping: Path | None,
) -> None:
    """Ingest JUnit XML files (plain or gzip), each in one transaction."""
    from tracker.integrations.result_mapping import configured_mapping, load_test_mapping
    from tracker.services.ingest import RunOptions, ingest_report

    failed = False
    try:
        test_mapping = load_test_mapping(mapping) if mapping else configured_mapping()
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    for file in files:
        options = RunOptions(
            suite=suite,
            commit=commit,
            branch=branch,
            release=release,
            environment=environment,
            source_name=file.name,
        )
        try:
            with session_scope(get_engine()) as session:
                report = ingest_report(
                    session=session,
                    source=file,
                    options=options,
                    uploaded_by=command_actor("tracker results ingest"),
                    mapping=test_mapping,
                    max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
                    text_limit=current_app.config["MAX_RESULT_TEXT_BYTES"],
                )
        except TrackerError as exc:
            failed = True
            where = ""
            line = getattr(exc, "line", None)
            if line:
                where = f":{line}:{getattr(exc, 'column', None) or 0}"
            click.echo(f"{file}{where}: {exc} Nothing was stored for this file.", err=True)
            continue
        click.echo(f"{file}: {report.summary()}")
    if failed:
        sys.exit(1)
