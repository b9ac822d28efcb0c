"""`tracker publish`: the whole CI job in one process, from the catalog and reports to the matrix.

It runs the same commands a pipeline would run one by one (`db upgrade`, `catalog load`,
`results ingest`, `matrix`), with the same checks and messages, but pays for starting Python
and importing the tracker once instead of four times.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.cli.params import ColumnText
from tracker.cli.paths import FilePath

FORMATS = ("html", "md", "json", "csv")


@click.command("publish")
@click.argument("reports", nargs=-1, type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--catalog",
    "catalog_path",
    type=FilePath(path_type=Path),
    help="Catalog folder or file (default: the configured catalog).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option(
    "--output",
    type=FilePath(path_type=Path),
    help="Where to write the matrix (default: traceability-matrix.<format>).",
)
@click.option("--commit", type=ColumnText("TestRun", "commit"), help="Commit the tests ran on.")
@click.option(
    "--branch",
    type=ColumnText("TestRun", "branch"),
    help="Branch the tests ran on; the matrix shows that branch's evidence (default branch).",
)
@click.option(
    "--release",
    type=ColumnText("TestRun", "release"),
    help="Release (Jira fix version) the run is for; the matrix shows that release's evidence.",
)
@click.option(
    "--environment",
    type=ColumnText("TestRun", "environment"),
    help="Environment the tests ran in; the matrix shows that environment's evidence.",
)
@click.pass_context
@with_appcontext
def publish_command(
    ctx: click.Context,
    reports: tuple[Path, ...],
    catalog_path: Path | None,
    fmt: str,
    output: Path | None,
    commit: str | None,
    branch: str | None,
    release: str | None,
    environment: str | None,
) -> None:
    """Update the schema, load the catalog, ingest reports and write the matrix, in one step.

    The same as running `tracker db upgrade`, `tracker catalog load`, `tracker results ingest
    REPORTS` and `tracker matrix --output FILE` one after the other, in one process: the first
    step that fails stops the rest (exit 1), and a catalog with problems loads nothing.
    """
    target = output or Path(f"traceability-matrix.{fmt}")
    if target.is_dir() or not target.resolve().parent.is_dir():
        # Checked before any step runs: the matrix is the last one.
        raise click.BadParameter(
            f"cannot write the matrix to {target}: give a file in a folder that exists.",
            param_hint="'--output'",
        )
    from tracker.cli.catalog import catalog_load
    from tracker.cli.db import db_upgrade
    from tracker.cli.matrix import matrix_command
    from tracker.cli.results import results_ingest_command

    ctx.invoke(db_upgrade)
    ctx.invoke(catalog_load, path=catalog_path, actor="tracker publish")
    if reports:
        ctx.invoke(
            results_ingest_command,
            files=reports,
            commit=commit,
            branch=branch,
            release=release,
            environment=environment,
        )
    ctx.invoke(
        matrix_command,
        fmt=fmt,
        release=release,
        branch=branch,
        environment=environment,
        output=target,
    )
