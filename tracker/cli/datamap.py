"""`tracker datamap`: validate, load and export the data map, write its JSON Schema."""

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
from tracker.data_map.reader import read_data_map
from tracker.db import get_engine, session_scope
from tracker.domain.data_map_schema import data_map_json_schema
from tracker.errors import TrackerError
from tracker.models import AuditEvent
from tracker.services.data_map import load_data_map, stored_obligation_ids
from tracker.services.data_map_pages import art30_from_store

SCHEMA_FILE = "schema.json"


@click.group("datamap", cls=AppGroup)
def datamap() -> None:
    """The data map: processing activities, systems and DPIAs (YAML owned by privacy)."""


def _data_map_path(path: Path | None) -> Path:
    return path if path is not None else Path(current_app.config["DATA_MAP_PATH"])


@datamap.command("validate")
@click.argument("path", required=False, type=FilePath(path_type=Path))
@with_appcontext
def datamap_validate(path: Path | None) -> None:
    """Check every data map file and list every problem with file:line, id and field.

    DPIA mitigations are checked against the catalog's files (CATALOG_PATH).
    """
    target = _data_map_path(path)
    catalog_path = Path(current_app.config["CATALOG_PATH"])
    known: frozenset[str] | None
    try:
        known = read_catalog(catalog_path).ids
    except TrackerError as exc:
        known = None
        click.echo(
            f"The catalog at {catalog_path} cannot be read ({exc}), so the obligations that "
            "DPIA mitigations name were not checked.",
            err=True,
        )
    try:
        result = read_data_map(target, known_obligations=known)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    exit_on_problems(result.problems, ok=result.ok, target=target)
    click.echo(f"{target}: valid. {result.summary()}.")


@datamap.command("load")
@click.argument("path", required=False, type=FilePath(path_type=Path))
@click.option(
    "--actor",
    default="tracker datamap load",
    show_default=True,
    type=ColumnText(AuditEvent, "actor"),
    help="Name in the audit log.",
)
@with_appcontext
def datamap_load(path: Path | None, actor: str) -> None:
    """Validate the data map, then load it in one transaction (all or nothing).

    DPIA mitigations must name obligations of the catalog loaded in the tracker.
    """
    target = _data_map_path(path)
    try:
        with session_scope(get_engine()) as session:
            known = stored_obligation_ids(session)
            result = read_data_map(target, known_obligations=known)
            if not result.ok:
                for problem in result.problems:
                    click.echo(str(problem), err=True)
                hint = (
                    "" if known else " The tracker has no catalog yet: run `tracker catalog load`."
                )
                raise click.ClickException(
                    f"{len(result.problems)} problem(s) in {target}; nothing was loaded.{hint}"
                )
            report = load_data_map(session=session, data_map=result, actor=command_actor(actor))
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


@datamap.command("export")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["csv", "xlsx"]),
    required=True,
    help="CSV (the Art. 30 record) or XLSX (the record and its systems, two sheets).",
)
@click.option(
    "--output",
    required=True,
    type=FilePath(path_type=Path, dir_okay=False),
    help="The file to write.",
)
@with_appcontext
def datamap_export(export_format: str, output: Path) -> None:
    """Write the loaded data map as a GDPR Art. 30 record of processing activities."""
    from tracker.integrations.art30_export import to_csv, to_xlsx

    with session_scope(get_engine()) as session:
        record = art30_from_store(session)
    if not record.record:
        raise click.ClickException(
            "The tracker holds no processing activity: run `tracker datamap load` first."
        )
    if export_format == "csv":
        output.write_text(to_csv(record), encoding="utf-8", newline="")
    else:
        output.write_bytes(to_xlsx(record))
    click.echo(f"Wrote {len(record.record)} processing activities to {output}.")


TAXONOMY_KINDS = {
    "categories": "data_category",
    "subjects": "data_subject",
    "uses": "data_use",
}


@datamap.command("taxonomy")
@click.argument("kind", type=click.Choice(sorted(TAXONOMY_KINDS)))
@click.argument("prefix", required=False, default="", type=BoundedText(200))
def datamap_taxonomy(kind: str, prefix: str) -> None:
    """List the Fides taxonomy keys the data map may use (data categories, subjects or uses).

    With PREFIX, only the keys that start with it, e.g. `user.health`.
    """
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    items = getattr(DEFAULT_TAXONOMY, TAXONOMY_KINDS[kind])
    shown = sorted(
        (item for item in items if item.fides_key.startswith(prefix)),
        key=lambda item: item.fides_key,
    )
    if not shown:
        raise click.ClickException(
            f"No {kind} key starts with '{prefix}': run `tracker datamap taxonomy {kind}`."
        )
    width = max(len(item.fides_key) for item in shown)
    for item in shown:
        click.echo(f"{item.fides_key:<{width}}  {item.name or ''}")


@datamap.command("schema")
@click.option("--check", is_flag=True, help="Fail if the file is not up to date, write nothing.")
@click.option("--output", type=FilePath(path_type=Path), help="Where to write it.")
@with_appcontext
def datamap_schema(check: bool, output: Path | None) -> None:
    """Write the JSON Schema editors use to validate data map files (schema.json)."""
    target = output or Path(current_app.config["DATA_MAP_PATH"]) / SCHEMA_FILE
    text = render_schema()
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{target} is out of date: run `tracker datamap schema`.")
        click.echo(f"{target} is up to date.")
        return
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {target}.")


def render_schema() -> str:
    """Return the JSON Schema text exactly as stored in the data map folder."""
    return json.dumps(data_map_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
