"""The `tracker` command: Flask's CLI bound to the app factory, with groups by noun."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

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
@click.option("--sandbox-port", default=8081, show_default=True, type=int, help="Jira sandbox.")
@click.option("--no-serve", is_flag=True, help="Prepare the demo data, then exit.")
@click.option("--no-jira", is_flag=True, help="Do not start the Jira sandbox.")
@with_appcontext
def demo_command(host: str, port: int, sandbox_port: int, no_serve: bool, no_jira: bool) -> None:
    """Start a local Jira sandbox, load the catalog, sync, push, ingest a report, and serve."""
    from tracker.demo import prepare_demo, start_demo_jira

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    tracker_url = f"http://{host}:{port}"
    app.config["PUBLIC_URL"] = tracker_url
    jira_demo = None
    if not no_jira:
        jira_demo = start_demo_jira(sandbox_port=sandbox_port, tracker_url=tracker_url)
        app.config["JIRA_SETTINGS"] = jira_demo.settings
        click.echo(f"Jira sandbox (demo product PRIV, APP, WEB) at {jira_demo.settings.url}")
    server = None
    if not no_serve:
        # Listen before preparing, so the sandbox's webhooks reach the tracker from the start.
        from werkzeug.serving import make_server

        server = make_server(host, port, app, threaded=True)
        threading.Thread(target=server.serve_forever, name="tracker-demo", daemon=True).start()
    try:
        for message in prepare_demo(app, jira_demo.settings if jira_demo else None):
            click.echo(message)
        if server is not None:
            click.echo(f"Open {tracker_url}/ (Ctrl-C stops the tracker and the sandbox).")
            _wait_for_interrupt()
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if server is not None:
            server.shutdown()
        if jira_demo is not None:
            jira_demo.server.stop()


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")


# --- jira ---------------------------------------------------------------------------------


def _register_sandbox() -> None:
    from tracker.sandbox.cli import jira_sandbox_command

    main.add_command(jira_sandbox_command, "jira-sandbox")


_register_sandbox()


@main.group()
def jira() -> None:
    """Jira: pull work items, show obligations on epics, create epics for gaps."""


def _public_url() -> str:
    return str(current_app.config["PUBLIC_URL"])


@jira.command("sync")
@click.option("--full", is_flag=True, help="Read every issue in scope, not only changes.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@with_appcontext
def jira_sync_command(full: bool, dry_run: bool) -> None:
    """Pull work items from Jira (incremental unless --full), then push if TRACKER_JIRA_PUSH=1."""
    from tracker.jira_config import require_gateway
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
                actor="tracker jira sync",
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
            pushed = push_links(engine=get_engine(), gateway=gateway, public_url=_public_url())
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
    from tracker.jira_config import require_gateway
    from tracker.services.jira_push import plan_push, push_links

    try:
        _settings, gateway = require_gateway()
        if dry_run:
            report = push_links(
                engine=get_engine(),
                gateway=gateway,
                public_url=_public_url(),
                dry_run=True,
                full=full,
            )
            for change in report.planned:
                click.echo(change.describe())
            click.echo(report.summary())
            return
        with Session(get_engine()) as session:
            total = len(plan_push(session=session, public_url=_public_url(), full=full)[0])
        with click.progressbar(length=total, label="Pushing remote links", file=sys.stderr) as bar:
            report = push_links(
                engine=get_engine(),
                gateway=gateway,
                public_url=_public_url(),
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
@click.argument("obligation")
@click.option("--project", required=True, help="Jira project key, e.g. PRIV.")
@with_appcontext
def jira_create_epic_command(obligation: str, project: str) -> None:
    """Create (once) an epic for an obligation that is a gap, and link it."""
    from tracker.jira_config import require_gateway
    from tracker.services.jira_epics import create_epic

    try:
        _settings, gateway = require_gateway()
        with session_scope(get_engine()) as session:
            outcome = create_epic(
                session=session,
                gateway=gateway,
                obligation_id=obligation,
                project_key=project,
                actor="tracker jira create-epic",
                public_url=_public_url(),
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome.message)


# --- test results and tokens --------------------------------------------------------------


@main.group()
def results() -> None:
    """Test results: ingest JUnit XML reports from CI."""


@results.command("ingest")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--suite", help="Suite name (default: the report's first suite name).")
@click.option("--commit", help="Commit the tests ran on.")
@click.option("--branch", help="Branch the tests ran on (default branch when omitted).")
@click.option("--release", help="Release (Jira fix version) the run is for.")
@click.option("--environment", help="Environment, e.g. staging.")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
    from tracker.integrations.test_mapping import load_test_mapping
    from tracker.services.ingest import RunOptions, ingest_report
    from tracker.test_mapping_config import configured_mapping

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
                    uploaded_by="tracker results ingest",
                    mapping=test_mapping,
                    max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
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


@main.group()
def tokens() -> None:
    """API tokens for CI uploads."""


@tokens.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. ci.")
@with_appcontext
def tokens_create_command(name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    from tracker.services.tokens import create_token

    try:
        with session_scope(get_engine()) as session:
            token = create_token(session=session, name=name, actor="tracker tokens create")
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token.secret)
    click.echo(
        f"Token #{token.id} '{token.name}' created. Copy it now: it is not shown again. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens.command("list")
@with_appcontext
def tokens_list_command() -> None:
    """List tokens (never their secrets)."""
    from tracker.services.tokens import list_tokens

    with Session(get_engine()) as session:
        rows = list_tokens(session=session)
    if not rows:
        click.echo("No tokens. Create one with: tracker tokens create --name ci")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        used = (
            f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        )
        click.echo(f"#{token.id}  {token.name}  {token.prefix}...  {state}, {used}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke_command(token_id: int) -> None:
    """Revoke a token by its number (see `tracker tokens list`)."""
    from tracker.services.tokens import revoke_token

    try:
        with session_scope(get_engine()) as session:
            token = revoke_token(session=session, token_id=token_id, actor="tracker tokens revoke")
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Token #{token.id} '{token.name}' is revoked.")
