"""The `tracker` command: Flask's CLI bound to the app factory, with one group per noun."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from tracker import create_app
from tracker.cli.audit import audit
from tracker.cli.catalog import catalog
from tracker.cli.db import db
from tracker.cli.demo import demo_command
from tracker.cli.gate import gate_command
from tracker.cli.jira import jira
from tracker.cli.matrix import matrix_command
from tracker.cli.releases import releases
from tracker.cli.results import results
from tracker.cli.snapshot import snapshot
from tracker.cli.tokens import tokens
from tracker.cli.users import users
from tracker.sandbox.cli import jira_sandbox_command


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Privacy obligations tracker: catalog, links to Jira and tests, traceability matrix."""


for _command in (
    db,
    catalog,
    matrix_command,
    demo_command,
    jira,
    results,
    releases,
    gate_command,
    users,
    tokens,
    audit,
    snapshot,
):
    main.add_command(_command)
main.add_command(jira_sandbox_command, "jira-sandbox")
