"""The `tracker` command: Flask's CLI bound to the app factory, with one group per noun.

Each group's module is imported only when that command runs, so that a quick command (such
as an auditor's `tracker snapshot verify`) does not pay for importing everything.
"""

from __future__ import annotations

import importlib
from functools import partial

import click
from flask.cli import FlaskGroup, ScriptInfo

from tracker import create_app

#: command name: (module, attribute)
COMMANDS = {
    "db": ("tracker.cli.db", "db"),
    "catalog": ("tracker.cli.catalog", "catalog"),
    "matrix": ("tracker.cli.matrix", "matrix_command"),
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
}


#: Commands that serve or inspect the web app; every other command gets an app without it.
WEB_COMMANDS = frozenset({"demo", "run", "routes", "shell"})


class TrackerGroup(FlaskGroup):
    """Flask's command group, loading the tracker's own commands on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the tracker's commands with Flask's own."""
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return a tracker command, or one of Flask's."""
        if cmd_name in COMMANDS:
            info = ctx.ensure_object(ScriptInfo)
            if cmd_name not in WEB_COMMANDS and info.create_app is create_app:
                # Command-line work needs the configuration and the database, not the pages.
                info.create_app = partial(create_app, web=False)
            module, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=TrackerGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Privacy obligations tracker: catalog, links to Jira and tests, traceability matrix."""
