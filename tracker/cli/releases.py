"""`tracker releases`: list releases (Jira fix versions and the tracker's own), create one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.cli.operator import command_actor
from tracker.cli.params import BoundedText, ColumnText, IsoDate
from tracker.cli.paths import FilePath
from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError
from tracker.models import TrackerRelease
from tracker.web.inputs import LONGEST_RELEASE_NAME

#: A release looked up by name, from Jira or made here.
RELEASE_NAME = BoundedText(LONGEST_RELEASE_NAME)


@click.group("releases", cls=AppGroup)
def releases() -> None:
    """Releases: Jira fix versions (one per name across projects) and releases made here."""


@releases.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_appcontext
def releases_list_command(fmt: str) -> None:
    """List releases, newest first, with date, state and projects."""
    from tracker.services.releases import list_releases

    with Session(get_engine()) as session:
        rows = list_releases(session=session)
    if fmt == "json":
        click.echo(json.dumps([release.as_json() for release in rows], indent=2))
        return
    if not rows:
        click.echo("No releases. Sync Jira fix versions, or: tracker releases create 2026.12")
    for release in rows:
        day = release.release_date.isoformat() if release.release_date else "no date"
        where = ", ".join(release.projects) or "tracker"
        click.echo(f"{release.name}  {day}  {release.state}  ({where})")


@releases.command("create")
@click.argument("name", type=ColumnText(TrackerRelease, "name"))
@click.option("--date", "day", type=IsoDate(), help="Release date, e.g. 2026-12-15.")
@with_appcontext
def releases_create_command(name: str, day: date | None) -> None:
    """Create a release in the tracker (Jira fix versions of the same name join it)."""
    from tracker.services.releases import create_release

    try:
        with session_scope(get_engine()) as session:
            release = create_release(
                session=session,
                name=name,
                release_date=day,
                actor=command_actor("tracker releases create"),
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Release {release.name} created.")


@releases.command("freeze")
@click.argument("name", type=RELEASE_NAME)
@click.option(
    "--policy",
    type=FilePath(path_type=Path),
    help="Gate policy YAML file (default: TRACKER_GATE_POLICY, else the default policy).",
)
@click.option("--output", type=FilePath(path_type=Path), help="Also write the snapshot here.")
@click.option("--oscal", type=FilePath(path_type=Path), help="Also write OSCAL results here.")
@with_appcontext
def releases_freeze_command(
    name: str, policy: Path | None, output: Path | None, oscal: Path | None
) -> None:
    """Freeze the release as it is now: a sealed snapshot that verifies offline."""
    from tracker.integrations.oscal import assessment_results
    from tracker.services.gate_policy import PolicyError, configured_policy
    from tracker.services.release_readiness import release_readiness
    from tracker.services.snapshots import freeze_release, snapshot_json

    try:
        spec = configured_policy(current_app.config, policy)
        with session_scope(get_engine()) as session:
            readiness = release_readiness(
                session=session,
                release=name,
                policy=spec,
                default_branch=current_app.config["DEFAULT_BRANCH"],
            )
            snapshot = freeze_release(
                session=session,
                readiness=readiness,
                actor=command_actor("tracker releases freeze"),
                signing_key=current_app.config.get("SNAPSHOT_SIGNING_KEY"),
            )
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(str(exc)) from exc
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    document = snapshot_json(snapshot)
    if output:
        output.write_text(snapshot.document, encoding="utf-8")
    if oscal:
        results = assessment_results(document, tracker_url=current_app.config["PUBLIC_URL"])
        oscal.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    verdict = "ready" if snapshot.ready else "blocked"
    click.echo(
        f"Snapshot #{snapshot.id} of {snapshot.release} ({verdict}) frozen: hash {snapshot.hash}."
    )


@releases.command("diff")
@click.argument("before", type=RELEASE_NAME)
@click.argument("after", type=RELEASE_NAME)
@with_appcontext
def releases_diff_command(before: str, after: str) -> None:
    """Show what changed from one release to another (newest snapshots, or as they are now)."""
    from tracker.domain.release_diff import diff_documents
    from tracker.models import utcnow
    from tracker.services.snapshots import release_document

    actor = command_actor("tracker releases diff")
    try:
        with Session(get_engine()) as session:
            documents = [
                release_document(
                    session=session,
                    release=name,
                    default_branch=current_app.config["DEFAULT_BRANCH"],
                    actor=actor,
                )
                for name in (before, after)
            ]
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    diff = diff_documents(documents[0], documents[1], utcnow().date().isoformat())
    click.echo(f"From {diff.before} to {diff.after}:")
    if diff.empty:
        click.echo("  nothing changed.")
    for label, values in (
        ("added", diff.added),
        ("no longer in scope", diff.removed),
        ("lapsed sign-offs", diff.lapsed_signoffs),
    ):
        if values:
            click.echo(f"  {label}: {', '.join(values)}")
    for version in diff.new_versions:
        click.echo(f"  {version.obligation_id}: new version {version.before} -> {version.after}")
    for change in diff.changes:
        click.echo(f"  {change.obligation_id} {change.axis}: {change.before} -> {change.after}")
    for ob_id, number in diff.new_exceptions:
        click.echo(f"  new exception #{number} for {ob_id}")
    for ob_id, number in diff.ended_exceptions:
        click.echo(f"  exception #{number} for {ob_id} ended (expired or withdrawn)")


@releases.command("record")
@with_appcontext
def releases_record_command() -> None:
    """Record today's count of blockers of every release not yet released (the burn-down)."""
    from tracker.services.release_readiness import record_readiness, release_readiness
    from tracker.services.releases import list_releases

    with session_scope(get_engine()) as session:
        open_releases = [
            release.name
            for release in list_releases(session=session)
            if not release.released and not release.archived
        ]
        for name in open_releases:
            readiness = release_readiness(
                session=session, release=name, default_branch=current_app.config["DEFAULT_BRANCH"]
            )
            record_readiness(session=session, readiness=readiness)
            blocking = len(readiness.verdict.blocking)
            click.echo(f"{name}: {blocking} of {len(readiness.rows)} obligations block it.")
    if not open_releases:
        click.echo("No open releases to record.")


@releases.command("policy-schema")
@click.option("--output", type=FilePath(path_type=Path), help="Write to a file, not stdout.")
def releases_policy_schema_command(output: Path | None) -> None:
    """Print the JSON Schema of gate policy files, for editors that validate YAML."""
    from tracker.domain.gate_policy import policy_json_schema

    text = json.dumps(policy_json_schema(), indent=2, sort_keys=True) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
