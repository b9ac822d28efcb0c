"""`tracker matrix`: export the traceability matrix as JSON, CSV, Markdown or HTML."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.cli.params import BoundedText, ColumnText
from tracker.cli.paths import FilePath
from tracker.domain.status import Status


@click.command("matrix")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md", "html"]), default="json")
@click.option(
    "--instrument", type=ColumnText("Instrument", "id"), help="Only this instrument, e.g. GDPR."
)
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--tag", type=BoundedText(), help="Only obligations with this tag.")
@click.option(
    "--release", type=ColumnText("TestRun", "release"), help="Evidence from this release only."
)
@click.option(
    "--branch",
    type=ColumnText("TestRun", "branch"),
    help="Evidence from this branch (default: the default branch).",
)
@click.option(
    "--environment",
    type=ColumnText("TestRun", "environment"),
    help="Evidence from this environment only.",
)
@click.option("--output", type=FilePath(path_type=Path), help="Write to a file, not stdout.")
@with_appcontext
def matrix_command(
    fmt: str,
    instrument: str | None,
    status: str | None,
    tag: str | None,
    release: str | None,
    branch: str | None,
    environment: str | None,
    output: Path | None,
) -> None:
    """Export the traceability matrix as JSON, CSV, Markdown or HTML."""
    # Here, not at the top: `tracker matrix --help` needs none of them.
    from sqlmodel import Session

    from tracker.db import get_engine
    from tracker.domain.matrix import MatrixFilter, apply_filter, to_csv, to_markdown
    from tracker.services.evidence import EvidenceScope
    from tracker.services.matrix import build_matrix, matrix_document

    scope = EvidenceScope(
        release=release,
        branch=branch,
        environment=environment,
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )
    with Session(get_engine()) as session:
        data = build_matrix(session=session, scope=scope)
    rows = apply_filter(data.rows, MatrixFilter(instrument=instrument, status=status, tag=tag))
    for note in data.notes:
        # On stderr: the export itself stays exactly the format asked for.
        click.echo(f"Note: {note}", err=True)
    if fmt == "json":
        text = json.dumps(matrix_document(data, rows, scope), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = to_csv(rows)
    elif fmt == "html":
        from tracker.domain.matrix_html import to_html

        text = to_html(rows, data.generated_at, scope=scope.describe(), notes=data.notes)
    else:
        text = to_markdown(rows, data.generated_at)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(rows)} rows to {output}.", err=True)
