"""The `tracker` command: Flask's CLI bound to the app factory, with groups by noun."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import Session

from tracker import create_app, migrate
from tracker.catalog import read_catalog
from tracker.db import get_engine, session_scope
from tracker.domain.catalog_schema import catalog_json_schema
from tracker.domain.matrix import MatrixFilter, apply_filter, to_csv, to_json, to_markdown
from tracker.domain.status import Status
from tracker.errors import TrackerError
from tracker.services.catalog import load_catalog
from tracker.services.evidence import EvidenceScope
from tracker.services.matrix import build_matrix

SCHEMA_FILE = "schema.json"


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Privacy obligations tracker: catalog, links to Jira and tests, traceability matrix."""


# --- db -----------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or update the database schema (run after every upgrade of the tracker)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    click.echo(f"Database schema is at revision {migrate.current_revision(engine)}.")


# --- catalog ------------------------------------------------------------------------------


@main.group()
def catalog() -> None:
    """The obligation catalog (YAML files owned by legal)."""


def _catalog_path(path: Path | None) -> Path:
    return path if path is not None else Path(current_app.config["CATALOG_PATH"])


@catalog.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def catalog_validate(path: Path | None) -> None:
    """Check every catalog file and list every problem with file:line, id and field."""
    target = _catalog_path(path)
    try:
        result = read_catalog(target)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if not result.ok:
        click.echo(f"{len(result.problems)} problem(s) in {target}.", err=True)
        sys.exit(1)
    assessable = sum(1 for item in result.obligations if item.spec.assessable)
    click.echo(
        f"{target}: valid. {len(result.instruments)} instruments, "
        f"{len(result.obligations)} entries ({assessable} assessable obligations)."
    )


@catalog.command("load")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--actor", default="catalog load", show_default=True, help="Name in the audit log.")
@with_appcontext
def catalog_load(path: Path | None, actor: str) -> None:
    """Validate the catalog, then load it in one transaction (all or nothing)."""
    target = _catalog_path(path)
    try:
        result = read_catalog(target)
        if not result.ok:
            for problem in result.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(
                f"{len(result.problems)} problem(s) in {target}; nothing was loaded."
            )
        with session_scope(get_engine()) as session:
            report = load_catalog(session=session, catalog=result, actor=actor)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


@catalog.command("schema")
@click.option("--check", is_flag=True, help="Fail if the file is not up to date, write nothing.")
@click.option("--output", type=click.Path(path_type=Path), help="Where to write it.")
@with_appcontext
def catalog_schema(check: bool, output: Path | None) -> None:
    """Write the JSON Schema editors use to validate catalog files (schema.json)."""
    target = output or Path(current_app.config["CATALOG_PATH"]) / SCHEMA_FILE
    text = render_schema()
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{target} is out of date: run `tracker catalog schema`.")
        click.echo(f"{target} is up to date.")
        return
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {target}.")


def render_schema() -> str:
    """Return the JSON Schema text exactly as stored in the catalog folder."""
    return json.dumps(catalog_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- matrix -------------------------------------------------------------------------------


@main.command("matrix")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md"]), default="json")
@click.option("--instrument", help="Only this instrument, e.g. GDPR.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--tag", help="Only obligations with this tag.")
@click.option("--release", help="Evidence from this release only.")
@click.option("--branch", help="Evidence from this branch (default: the default branch).")
@click.option("--environment", help="Evidence from this environment only.")
@click.option("--output", type=click.Path(path_type=Path), help="Write to a file, not stdout.")
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
    """Export the traceability matrix as JSON, CSV or Markdown."""
    scope = EvidenceScope(
        release=release,
        branch=branch,
        environment=environment,
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )
    with Session(get_engine()) as session:
        data = build_matrix(session=session, scope=scope)
    rows = apply_filter(data.rows, MatrixFilter(instrument=instrument, status=status, tag=tag))
    if fmt == "json":
        text = json.dumps(to_json(rows, data.generated_at), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = to_csv(rows)
    else:
        text = to_markdown(rows, data.generated_at)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(rows)} rows to {output}.", err=True)


# --- demo ---------------------------------------------------------------------------------


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo data, then exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Set up the database, load the bundled catalog and demo data, and start the service."""
    from tracker.services.demo import prepare_demo

    try:
        messages = prepare_demo(current_app._get_current_object())  # type: ignore[attr-defined]
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    for message in messages:
        click.echo(message)
    if no_serve:
        return
    click.echo(f"Open http://{host}:{port}/ (Ctrl-C stops the service).")
    current_app.run(host=host, port=port, debug=False, use_reloader=False)
