"""The `tracker` command: Flask's CLI bound to the app factory, with one group per noun.

Each group's module is imported only when that command runs, so that a quick command (such
as an auditor's `tracker snapshot verify`) does not pay for importing everything.

No command shows a traceback: an argument that cannot be used (a control character, too long
for where it is stored, a number no record has) is a usage error naming it (exit 2, checked by
the types of `tracker.cli.params` before the command runs); a tracker error that a command lets
through prints its message (exit 1), so do a file that cannot be read and a database without
the tables (exit 1), and anything unexpected prints one line and writes the traceback to
tracker-errors.log in the instance folder (exit 70).
"""

from __future__ import annotations

import atexit
import gc
import sys

# Most commands are short processes that import large libraries (SQLAlchemy, pydantic, the
# models): Python's cyclic garbage collector, run every 700 new objects, spends a third of
# that import time walking objects that live as long as the process, and walks them all again
# when the process exits. Collect far less often, and not at exit (once the databases are
# closed): a command's work still collects its garbage. The commands that keep running
# (LONG_RUNNING) go back to Python's settings. See bench/README.md, "Start-up and the same job".
_DEFAULT_THRESHOLDS = gc.get_threshold()
gc.set_threshold(50_000, 50, 100)


def _close_then_freeze() -> None:
    db = sys.modules.get("tracker.db")
    if db is not None:
        db.dispose_engines()  # SQLite then folds its write-ahead log into the file
    gc.freeze()


atexit.register(_close_then_freeze)

import importlib  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import IO, Any  # noqa: E402

import click  # noqa: E402
from flask.cli import FlaskGroup, ScriptInfo  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.errors import TrackerError  # noqa: E402

#: Exit status of an unexpected error (EX_SOFTWARE): not 1, which `tracker gate` uses for
#: "blocked", nor 2, which means a usage error.
UNEXPECTED_EXIT = 70
ERROR_LOG = "tracker-errors.log"

#: command name: (module, attribute)
COMMANDS = {
    "db": ("tracker.cli.db", "db"),
    "catalog": ("tracker.cli.catalog", "catalog"),
    "datamap": ("tracker.cli.datamap", "datamap"),
    "applicability": ("tracker.cli.applicability", "applicability"),
    "reviews": ("tracker.cli.reviews", "reviews"),
    "matrix": ("tracker.cli.matrix", "matrix_command"),
    "publish": ("tracker.cli.publish", "publish_command"),
    "demo": ("tracker.cli.demo", "demo_command"),
    "jira": ("tracker.cli.jira", "jira"),
    "jira-sandbox": ("tracker.sandbox.cli", "jira_sandbox_command"),
    "results": ("tracker.cli.results", "results"),
    "releases": ("tracker.cli.releases", "releases"),
    "gate": ("tracker.cli.gate", "gate_command"),
    "users": ("tracker.cli.users", "users"),
    "tokens": ("tracker.cli.tokens", "tokens"),
    "audit": ("tracker.cli.audit", "audit"),
    "snapshot": ("tracker.cli.snapshot", "snapshot"),
    "worker": ("tracker.cli.worker", "worker_command"),
    "serve": ("tracker.cli.worker", "serve_command"),
    "jobs": ("tracker.cli.jobs", "jobs"),
}


#: command name: its one-line help, shown by `tracker --help` without importing its module
#: (a command missing here still works; `tracker --help` then imports it to ask).
SUMMARIES = {
    "db": "Database schema.",
    "catalog": "The obligation catalog (YAML files owned by legal).",
    "datamap": "The data map: processing activities, systems and DPIAs (YAML owned by privacy).",
    "applicability": "Applicability proposed from the data map: list the proposals, confirm them.",
    "reviews": "Periodic reviews: list what is due per owner, record a review outside a campaign.",
    "matrix": "Export the traceability matrix as JSON, CSV, Markdown or HTML.",
    "publish": (
        "Update the schema, load the catalog, ingest reports and write the matrix, in one step."
    ),
    "demo": "Start a local Jira sandbox, load the catalog, sync, push, ingest a report, and serve.",
    "jira": "Jira: pull work items, show obligations on epics, create epics for gaps.",
    "jira-sandbox": "Serve a local Jira stand-in that speaks Jira's REST API, until Ctrl-C.",
    "results": "Test results: ingest JUnit XML reports from CI.",
    "releases": (
        "Releases: Jira fix versions (one per name across projects) and releases made here."
    ),
    "gate": "Decide whether a release may ship: exit 0 ready, 1 blocked, 2 usage or setup error.",
    "users": "Accounts: who may sign in, with which role.",
    "tokens": "API tokens for CI uploads and the read API.",
    "audit": "The audit trail (append-only, hash-chained).",
    "snapshot": "Frozen release snapshots: verify one offline, make a signing key.",
    "worker": "Run queued jobs and the schedules until Ctrl-C (on any number of machines).",
    "serve": "Serve the tracker (gunicorn when installed) and, without Redis, run its jobs too.",
    "jobs": "Background jobs: syncs, pushes, epics, large ingests, freezes, readiness records.",
}


#: Commands that serve or inspect the web app; every other command gets an app without it.
WEB_COMMANDS = frozenset({"demo", "serve", "run", "routes", "shell"})
#: Commands that keep running until stopped: Python's own garbage collection for them.
LONG_RUNNING = frozenset({"demo", "serve", "run", "shell", "worker", "jira-sandbox"})


class TrackerGroup(FlaskGroup):
    """Flask's command group, loading the tracker's own commands on demand.

    Listing the commands loads neither the app (it adds no commands of its own) nor Flask's
    plugin commands (they still run when named), and `tracker --help` takes each command's
    line from SUMMARIES: asking for help imports no command module.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the tracker's commands with Flask's own."""
        return sorted(set(click.Group.list_commands(self, ctx)) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the list of commands, each with its one-line help."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command: click.Command | None
            if name in SUMMARIES:
                # Shortened as click shortens the command's own help.
                command = click.Command(name, help=SUMMARIES[name])
            else:
                # Flask's own (run, shell, routes) are at hand; asking Flask loads its plugins.
                command = self.commands.get(name) or self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return a tracker command, or one of Flask's."""
        if cmd_name in LONG_RUNNING:
            gc.set_threshold(*_DEFAULT_THRESHOLDS)
            atexit.unregister(_close_then_freeze)
        if cmd_name in COMMANDS:
            info = ctx.ensure_object(ScriptInfo)
            if cmd_name not in WEB_COMMANDS and info.create_app is create_app:
                # Command-line work needs the configuration and the database, not the pages.
                info.create_app = partial(create_app, web=False)
            module, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn whatever error escapes it into one line and an exit status."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except TrackerError as error:
            raise click.ClickException(_one_line(str(error))) from None
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(f"{error.strerror or error}{where}") from None
        except Exception as error:  # noqa: BLE001 - the last resort: never a traceback
            if _schema_missing(error):
                raise click.ClickException(
                    "The database lacks the tracker's tables (or has an older schema): run "
                    "`tracker db upgrade`, then try again."
                ) from None
            raise _unexpected(ctx, error) from None


class UnexpectedError(click.ClickException):
    """An error no command expected, shown as one line (its traceback went to the log)."""

    exit_code = UNEXPECTED_EXIT

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message as it is (without click's 'Error: ' before 'Unexpected error')."""
        click.echo(self.format_message(), err=True, file=file)


@click.group(cls=TrackerGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Privacy obligations tracker: catalog, links to Jira and tests, traceability matrix."""


def _unexpected(ctx: click.Context, error: Exception) -> UnexpectedError:
    log = _write_traceback(ctx, error)
    return UnexpectedError(
        f"Unexpected error: {type(error).__name__}: {_one_line(str(error))} (details in {log})"
    )


#: PostgreSQL's codes for an undefined table and an undefined column.
_UNDEFINED = frozenset({"42P01", "42703"})


def _schema_missing(error: Exception) -> bool:
    # Only a command that used the database can fail with its error: SQLAlchemy is imported
    # here, not for every command (nor for `tracker --help`).
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _UNDEFINED:
        return True
    text = str(error.orig)  # SQLite has no codes, only its words
    return text.startswith(("no such table", "no such column"))


def _one_line(text: str, limit: int = 300) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "(no message)"
    return first if len(first) <= limit else first[:limit] + "…"


def _write_traceback(ctx: click.Context, error: Exception) -> str:
    """Append the error's traceback to the instance folder's error log; return the log's path."""
    try:
        folder = Path(ctx.ensure_object(ScriptInfo).load_app().instance_path)
    except Exception:  # noqa: BLE001 - the app itself may be what failed
        folder = Path(tempfile.gettempdir())
    path = folder / ERROR_LOG
    logger = logging.getLogger("tracker.cli.errors")
    logger.propagate = False  # into the file only: never a traceback on the terminal
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return "no log: the instance folder cannot be written"
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    try:
        command = ctx.invoked_subcommand or ctx.info_name or "tracker"
        logger.error("`tracker %s` failed", command, exc_info=error)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return str(path)
