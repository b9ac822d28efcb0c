"""`tracker catalog`: validate, load and export the obligation catalog, write its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tracker.catalog import read_catalog
from tracker.cli.operator import command_actor
from tracker.cli.params import BoundedText, ColumnText
from tracker.cli.paths import FilePath, exit_on_problems
from tracker.db import get_engine, session_scope
from tracker.domain.catalog_schema import catalog_json_schema
from tracker.errors import TrackerError
from tracker.models import AuditEvent
from tracker.services.applicability_refresh import refresh_proposals
from tracker.services.catalog import load_catalog

SCHEMA_FILE = "schema.json"


@click.group("catalog", cls=AppGroup)
def catalog() -> None:
    """The obligation catalog (YAML files owned by legal)."""


def _catalog_path(path: Path | None) -> Path:
    return path if path is not None else Path(current_app.config["CATALOG_PATH"])


@catalog.command("validate")
@click.argument("path", required=False, type=FilePath(path_type=Path))
@with_appcontext
def catalog_validate(path: Path | None) -> None:
    """Check every catalog file and list every problem with file:line, id and field."""
    target = _catalog_path(path)
    try:
        result = read_catalog(target)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    exit_on_problems(result.problems, ok=result.ok, target=target)
    click.echo(f"{target}: valid. {len(result.instruments)} instruments, {result.size()}.")


@catalog.command("load")
@click.argument("path", required=False, type=FilePath(path_type=Path))
@click.option(
    "--actor",
    default="tracker catalog load",
    show_default=True,
    type=ColumnText(AuditEvent, "actor"),
    help="Name in the audit log.",
)
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
            loaded_by = command_actor(actor)
            report = load_catalog(session=session, catalog=result, actor=loaded_by)
            # New or changed applicability tags change what the data map proposes.
            proposals = refresh_proposals(session=session, actor=loaded_by)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())
    click.echo(proposals.summary())


@catalog.command("schema")
@click.option("--check", is_flag=True, help="Fail if the file is not up to date, write nothing.")
@click.option("--output", type=FilePath(path_type=Path), help="Where to write it.")
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


@catalog.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["oscal-catalog", "oscal-profile"]),
    help="oscal-catalog: every current obligation; oscal-profile: those that apply.",
)
@click.option("--output", type=FilePath(path_type=Path), help="Write to a file, not stdout.")
@click.option(
    "--catalog-href",
    type=BoundedText(500),
    help="oscal-profile only: where the profile finds the catalog (default: catalog.json, "
    "the catalog written next to it).",
)
@with_appcontext
def catalog_export(fmt: str, output: Path | None, catalog_href: str | None) -> None:
    """Export the loaded catalog (and what applies of it) as OSCAL JSON."""
    from sqlmodel import Session

    from tracker.services.catalog_export import (
        DEFAULT_CATALOG_HREF,
        export_oscal_catalog,
        export_oscal_profile,
    )

    if catalog_href is not None and fmt != "oscal-profile":
        raise click.UsageError("--catalog-href goes with --format oscal-profile only.")
    try:
        with Session(get_engine()) as session:
            if fmt == "oscal-catalog":
                export = export_oscal_catalog(session=session)
            else:
                export = export_oscal_profile(
                    session=session, catalog_href=catalog_href or DEFAULT_CATALOG_HREF
                )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    if output is None:
        click.echo(export.text, nl=False)
        return
    try:
        output.write_text(export.text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote {output}: {export.summary()}", err=True)
