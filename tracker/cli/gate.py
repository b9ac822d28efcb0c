"""`tracker gate`: exit 0 when a release passes its policy, 1 when it is blocked, 2 on errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.cli.params import BoundedText
from tracker.cli.paths import FilePath
from tracker.db import get_engine, session_scope
from tracker.errors import Problem, TrackerError
from tracker.web.inputs import LONGEST_RELEASE_NAME


@click.command("gate")
@click.option(
    "--release",
    "release",
    required=True,
    type=BoundedText(LONGEST_RELEASE_NAME),
    help="The release, e.g. 2026.12.",
)
@click.option(
    "--policy",
    type=FilePath(path_type=Path),
    help="Gate policy YAML file (default: TRACKER_GATE_POLICY, else the default policy).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text")
@click.option("--output", type=FilePath(path_type=Path), help="Write to a file, not stdout.")
@with_appcontext
def gate_command(release: str, policy: Path | None, fmt: str, output: Path | None) -> None:
    """Decide whether a release may ship: exit 0 ready, 1 blocked, 2 usage or setup error."""
    from tracker.services.gate import gate_json, gate_junit, gate_text
    from tracker.services.gate_policy import PolicyError, configured_policy
    from tracker.services.release_readiness import record_readiness, release_readiness

    try:
        spec = configured_policy(current_app.config, policy)
        with session_scope(get_engine()) as session:
            readiness = release_readiness(
                session=session,
                release=release,
                policy=spec,
                default_branch=current_app.config["DEFAULT_BRANCH"],
            )
            if policy is None:  # the burn-down follows the configured policy
                record_readiness(session=session, readiness=readiness)
    except PolicyError as exc:
        _fail(str(exc), exc.problems)
    except TrackerError as exc:
        _fail(str(exc), [])
    if fmt == "json":
        text = json.dumps(gate_json(readiness), indent=2) + "\n"
    elif fmt == "junit":
        text = gate_junit(readiness)
    else:
        text = gate_text(readiness)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(gate_text(readiness).splitlines()[0], err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(0 if readiness.verdict.ready else 1)


def _fail(message: str, problems: list[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)
