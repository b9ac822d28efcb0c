"""The tracker command never shows a traceback: bad arguments and files give one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from tests.evidence_helpers import case, load_small_catalog, report
from tests.helpers import SMALL_CATALOG
from tracker import create_app
from tracker.cli import ERROR_LOG, UNEXPECTED_EXIT, main
from tracker.config import TestConfig
from tracker.errors import NotFoundError
from tracker.models import TestRun


@pytest.fixture
def instance(app: Flask, tmp_path: Path) -> Path:
    """The app's instance folder, here a temporary one (the error log goes there)."""
    app.instance_path = str(tmp_path)
    return tmp_path


def _report_file(tmp_path: Path, body: bytes) -> str:
    path = tmp_path / "report.xml"
    path.write_bytes(body)
    return str(path)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--commit", "c" * 65, "use at most 64 characters"),
        ("--suite", "s" * 301, "use at most 300 characters"),
        ("--release", "2026\x1b12", "must not contain control characters"),
        ("--branch", "main\n", "must not contain control characters"),
    ],
)
def test_an_ingest_option_that_cannot_be_stored_is_a_usage_error(
    runner: Any, session: Session, tmp_path: Path, option: str, value: str, message: str
) -> None:
    load_small_catalog(session)
    file = _report_file(tmp_path, report(case("test_a", "ALPHA-1.1")))
    result = runner.invoke(args=["results", "ingest", file, option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output and message in result.output
    assert "Traceback" not in result.output
    session.rollback()
    assert session.exec(select(TestRun)).all() == []


NUL = "2026\x0012"


def _row_counts(session: Session) -> dict[str, int]:
    session.rollback()  # see what the command committed
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
    }


@pytest.mark.parametrize(
    ("args", "argument", "message"),
    [
        (["matrix", "--release", NUL], "--release", "must not contain control characters"),
        (["matrix", "--branch", "b" * 201], "--branch", "use at most 200 characters"),
        (["matrix", "--instrument", "I" * 33], "--instrument", "use at most 32 characters"),
        (["gate", "--release", NUL], "--release", "must not contain control characters"),
        (["gate", "--release", "r" * 201], "--release", "use at most 200 characters"),
        (["releases", "create", NUL], "NAME", "must not contain control characters"),
        (["releases", "create", "r" * 201], "NAME", "use at most 200 characters"),
        (["releases", "create", "2026.12", "--date", "2026-12-1\x005"], "--date", "year-month-day"),
        (["releases", "create", "2026.12", "--date", "0999-12-15"], "--date", "between 1900"),
        (["releases", "freeze", NUL], "NAME", "must not contain control characters"),
        (["releases", "diff", "2026.11", "r" * 201], "AFTER", "use at most 200 characters"),
        (["tokens", "create", "--name", NUL, "--scope", "read"], "--name", "control characters"),
        (
            ["tokens", "create", "--name", "ci", "--scope", "read", "--owner", "o" * 255],
            "--owner",
            "use at most 254 characters",
        ),
        (
            ["tokens", "create", "--name", "ci", "--scope", "read", "--branch", "main\x00"],
            "--branch",
            "must not contain control characters",
        ),
        (["tokens", "revoke", "2147483648"], "TOKEN_ID", "a number from 1 to 2147483647"),
        (["users", "create", NUL, "--role", "admin", "--generate"], "EMAIL", "control characters"),
        (
            ["users", "create", "ana@example.com", "--role", "admin", "--name", "n" * 201],
            "--name",
            "use at most 200 characters",
        ),
        (["users", "disable", "e" * 255], "EMAIL", "use at most 254 characters"),
        (["jira", "create-epic", NUL, "--project", "PRIV"], "OBLIGATION", "control characters"),
        (["jira", "create-epic", "ALPHA-1.1", "--project", "P" * 33], "--project", "at most 32"),
        (["catalog", "load", "--actor", NUL], "--actor", "must not contain control characters"),
        (["results", "ingest", "report\x00.xml"], "FILES...", "cannot contain a NUL character"),
        (["audit", "export", "--output", "out\x00.jsonl"], "--output", "a NUL character"),
        (["db", "upgrade", "he\x00ad"], "[REVISION]", "must not contain control characters"),
    ],
    ids=lambda value: value[0] + " " + value[1] if isinstance(value, list) else None,
)
def test_an_argument_that_cannot_be_used_is_a_usage_error_and_writes_nothing(
    runner: Any, session: Session, instance: Path, args: list[str], argument: str, message: str
) -> None:
    before = _row_counts(session)
    result = runner.invoke(args=args, input="")
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{argument}'" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output and "Unexpected error" not in result.output
    assert not (instance / ERROR_LOG).exists()
    assert _row_counts(session) == before


@pytest.mark.parametrize(
    "body",
    [
        report(case("test_x", "ALPHA-1.1", classname="c" * 1001)),
        report(case("test_x", "ALPHA-1.1")).replace(b"test_x", b"test\x00x"),
        report(case("test_x", "ALPHA-1.1")).replace(b"encoding='utf-8'", b"encoding='UTF-7'"),
        b"<testsuites>" + b"<testsuite>" * 100_000,
    ],
    ids=["test id over 1,000 characters", "NUL byte", "UTF-7", "100,000 open elements"],
)
def test_ingest_of_a_hostile_report_is_one_line_and_exit_1(
    runner: Any, session: Session, instance: Path, body: bytes
) -> None:
    load_small_catalog(session)
    result = runner.invoke(args=["results", "ingest", _report_file(instance, body)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "report.xml" in lines[0] and "Nothing was stored" in lines[0]
    session.rollback()
    assert session.exec(select(TestRun)).all() == []


def test_validate_of_a_catalog_nested_500_levels_deep_shows_no_traceback(
    runner: Any, tmp_path: Path, instance: Path
) -> None:
    (tmp_path / "deep.yaml").write_text("instrument: " + "[" * 500 + "]" * 500 + "\n")
    result = runner.invoke(args=["catalog", "validate", str(tmp_path)])
    assert result.exit_code not in (0, None)
    assert "Traceback" not in result.output
    assert result.stderr.strip(), "no word of what is wrong"


def test_a_tracker_error_a_command_lets_through_prints_its_message(
    runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(**_: Any) -> None:
        raise NotFoundError("No release '1999.01': create it first.")

    monkeypatch.setattr("tracker.services.matrix.build_matrix", missing)
    result = runner.invoke(args=["matrix", "--format", "json"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: No release '1999.01': create it first."


def test_an_unexpected_error_is_one_line_with_the_traceback_in_the_log(
    runner: Any, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr("tracker.services.matrix.build_matrix", broken)
    result = runner.invoke(args=["matrix"])
    assert result.exit_code == UNEXPECTED_EXIT
    log = instance / ERROR_LOG
    assert result.stderr.strip() == (
        f"Unexpected error: RuntimeError: the disk is on fire (details in {log})"
    )
    assert "Traceback" not in result.output
    written = log.read_text(encoding="utf-8")
    assert "`tracker matrix` failed" in written and "Traceback" in written
    assert "second line" in written


def test_a_file_that_cannot_be_read_is_a_clear_error(
    runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(_path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "a.yaml"))

    monkeypatch.setattr("tracker.cli.catalog.read_catalog", unreadable)
    result = runner.invoke(args=["catalog", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: Permission denied: {tmp_path / 'a.yaml'}"


def test_a_database_without_the_tables_says_to_upgrade_it(tmp_path: Path) -> None:
    app = create_app(
        TestConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}", CATALOG_PATH=SMALL_CATALOG
    )
    result = app.test_cli_runner().invoke(main, ["matrix"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: The database lacks the tracker's tables (or has an older schema): run "
        "`tracker db upgrade`, then try again."
    )
