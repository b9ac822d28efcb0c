"""Asking the `tracker` command for help imports none of the heavy libraries its commands use."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest

from tracker.cli import COMMANDS, SUMMARIES

#: What `--help` must not import: each costs tens of milliseconds on every call in CI.
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "jira", "huey", "redis", "requests")
HEAVY_OWN = ("tracker.models", "tracker.sandbox", "tracker.db", "tracker.web", "tracker.services")

_SNIPPET = """
import json, sys
from tracker.cli import main
try:
    main(sys.argv[1:], prog_name="tracker")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _help_in_new_process(*args: str) -> tuple[str, list[str]]:
    """Run `tracker ARGS` in a new interpreter; return its output and the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _SNIPPET, *args], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return done.stdout, report["modules"]


def _heavy(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name.split(".")[0] in HEAVY or name.startswith(HEAVY_OWN) or name == "yaml"
    ]


@pytest.mark.parametrize("args", [["--help"], ["matrix", "--help"]])
def test_help_imports_no_database_model_queue_or_jira_library(args: list[str]) -> None:
    output, modules = _help_in_new_process(*args)
    assert "Usage: tracker" in output
    assert _heavy(modules) == []


def test_the_command_list_shows_every_command_with_its_own_help() -> None:
    output, _ = _help_in_new_process("--help")
    listed = output.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert f"  {name} " in listed, f"{name} is missing from `tracker --help`"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_summary_is_the_command_help_itself(name: str) -> None:
    assert name in SUMMARIES, (
        f"add the first line of `tracker {name}`'s help to SUMMARIES in tracker/cli/__init__.py "
        "(`tracker --help` shows it without importing the command)"
    )
    module, attribute = COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(module), attribute)
    summary = click.Command(name, help=SUMMARIES[name])
    for limit in (45, 1000):
        assert summary.get_short_help_str(limit) == command.get_short_help_str(limit)
