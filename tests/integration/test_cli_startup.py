"""Asking the `tracker` command for help imports none of the heavy libraries its commands use."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

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


def _help_in_new_process(*args: str, env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Run `tracker ARGS` in a new interpreter; return its output and the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _SNIPPET, *args],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
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


#: The web stack: a command-line step that serves no page imports none of it.
WEB = ("tracker.web", "flask_login", "flask_wtf", "flask_limiter", "authlib", "wtforms")
#: What the steps of the same job have no use for (the test below names the step's own needs).
NOT_FOR_THE_JOB = ("jira", "huey", "redis", "requests", "tracker.sandbox", "tracker.jobs")

_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="privacy" tests="1"><testcase classname="tests.t" name="test_erasure">
<properties><property name="obligations" value="ALPHA-1.1"/></properties></testcase></testsuite>
"""


def _unwanted(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in modules if any(name == n or name.startswith(n + ".") for n in names)]


def _job_env(tmp_path: Path) -> dict[str, str]:
    return {
        "TRACKER_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'job.db'}",
        "TRACKER_TEST_MAPPING": "",
    }


def test_db_upgrade_imports_no_models_orm_pydantic_or_web_stack(tmp_path: Path) -> None:
    output, modules = _help_in_new_process("db", "upgrade", env=_job_env(tmp_path))
    assert "Database schema is at revision" in output
    # A new SQLite database comes from the schema snapshot: SQLAlchemy Core, not Alembic
    # nor the 31 SQLModel tables.
    heavy = ("sqlmodel", "pydantic", "tracker.models", "sqlalchemy.orm", *WEB, *NOT_FOR_THE_JOB)
    assert _unwanted(modules, (*heavy, "alembic")) == []
    # On a database that has tables the migrations run: Alembic, still without the models.
    output, modules = _help_in_new_process("db", "upgrade", env=_job_env(tmp_path))
    assert "Database schema is at revision" in output
    assert "alembic" in modules
    assert _unwanted(modules, heavy) == []


def test_ingest_and_matrix_import_no_web_stack_queue_or_jira(tmp_path: Path) -> None:
    env = _job_env(tmp_path)
    _help_in_new_process("db", "upgrade", env=env)
    report = tmp_path / "report.xml"
    report.write_text(_REPORT, encoding="utf-8")
    output, modules = _help_in_new_process("results", "ingest", str(report), env=env)
    assert "1 tests, 1 passed" in output, output
    # Without a mapping file the ingest reads no YAML.
    assert _unwanted(modules, (*WEB, *NOT_FOR_THE_JOB, "yaml")) == []
    page = tmp_path / "matrix.html"
    _, modules = _help_in_new_process("matrix", "--format", "html", "--output", str(page), env=env)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert _unwanted(modules, (*WEB, *NOT_FOR_THE_JOB, "yaml", "alembic")) == []
