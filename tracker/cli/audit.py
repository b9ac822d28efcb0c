"""`tracker audit`: verify the hash chain of the audit trail, export it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.cli.paths import FilePath
from tracker.db import get_engine


@click.group("audit", cls=AppGroup)
def audit() -> None:
    """The audit trail (append-only, hash-chained)."""


@audit.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Walk the whole chain; exit 1 naming the first event changed, removed or reordered."""
    from tracker.services.audit import verify_audit_trail

    with Session(get_engine()) as session:
        report = verify_audit_trail(session=session)
    if report.problem is not None:
        where = f"event #{report.problem.seq}" if report.problem.seq else "the trail"
        click.echo(
            f"The audit trail was tampered with at {where}: {report.problem.reason}. "
            f"{report.checked} event(s) before it are intact.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"The audit trail is intact: {report.checked} event(s) verified.")


@audit.command("export")
@click.option("--output", type=FilePath(path_type=Path), help="Write to a file, not stdout.")
@with_appcontext
def audit_export_command(output: Path | None) -> None:
    """Write every event as JSON Lines, oldest first, with its hashes."""
    from tracker.services.audit import AuditFilter, event_json, iter_events

    handle = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        with Session(get_engine()) as session:
            for event in iter_events(session=session, audit_filter=AuditFilter()):
                handle.write(json.dumps(event_json(event), sort_keys=True) + "\n")
    finally:
        if output:
            handle.close()
