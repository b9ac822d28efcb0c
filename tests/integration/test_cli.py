"""The tracker command as scripts and CI use it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker.cli import main
from tracker.domain.access import cli_actor
from tracker.models import Obligation
from tracker.services.links import link_test, link_work_item


def invoke(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=list(args), catch_exceptions=False)


def test_validate_reports_every_problem_with_its_place_and_exits_1(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(
        (SMALL_CATALOG / "alpha.yaml").read_text().replace("severity: high", "severity: huge")
    )
    (tmp_path / "b.yaml").write_text("instrument: {id: BETA\n")
    result = runner.invoke(args=["catalog", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "a.yaml:20: ALPHA-1.1: severity: Input should be" in result.output
    assert "b.yaml:2: YAML syntax error" in result.output
    assert "2 problem(s)" in result.output


def test_validate_accepts_a_good_catalog(runner) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, "catalog", "validate", str(SMALL_CATALOG))
    assert result.exit_code == 0
    assert "valid. 2 instruments, 6 entries (5 obligations in 1 group)" in result.output


def test_load_of_a_broken_catalog_writes_nothing(runner, session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(
        (SMALL_CATALOG / "alpha.yaml").read_text().replace("ALPHA-1.2", "ALPHA-1.1")
    )
    result = runner.invoke(args=["catalog", "load", str(tmp_path)])
    assert result.exit_code == 1
    assert "duplicate id" in result.output
    assert "nothing was loaded" in result.output
    assert session.exec(select(Obligation)).all() == []


def test_load_then_matrix_json_has_the_documented_shape(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    output = invoke(runner, "catalog", "load").output
    assert "2 instruments; 6 entries (5 obligations in 1 group): 6 created" in output
    with transaction(session):
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("t")
        )
        link_test(
            session=session,
            obligation_id="ALPHA-1.1",
            test_id="s/c/t",
            actor=cli_actor("t"),
            before_first_run=True,
        )
    result = invoke(runner, "matrix", "--format", "json")
    data = json.loads(result.stdout)  # notes on the scope go to stderr
    assert set(data) == {"generated_at", "rows", "evidence_scope", "notes"}
    row = next(r for r in data["rows"] if r["id"] == "ALPHA-1.1")
    assert {
        "id",
        "instrument",
        "citation",
        "title",
        "status",
        "implementation",
        "verification",
        "suspect",
        "work_items",
        "tests",
        "explanation",
    } <= set(row)
    assert row["work_items"][0]["key"] == "PRIV-1"
    assert row["tests"] == {"total": 1, "passed": 0, "failed": 0, "not_run": 1, "stale": 0}
    assert [r["id"] for r in data["rows"]] == [
        "ALPHA-1.1",
        "ALPHA-1.2",
        "ALPHA-2",
        "BETA-7",
        "BETA-9",
    ]


def test_matrix_filters_and_writes_csv_and_markdown_files(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    invoke(runner, "catalog", "load")
    out = tmp_path / "m.csv"
    invoke(runner, "matrix", "--format", "csv", "--instrument", "BETA", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["id"] for r in rows] == ["BETA-7", "BETA-9"]
    assert {r["status"] for r in rows} == {"GAP"}
    md = invoke(
        runner, "matrix", "--format", "md", "--status", "GAP", "--instrument", "ALPHA"
    ).output
    assert "| ALPHA-1.1 | Art. 1(1) | Right to erasure | GAP |" in md
    assert "3 obligations." in md


def test_matrix_rejects_an_unknown_status(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["matrix", "--status", "DONE"])
    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.output


def test_schema_check_fails_when_the_file_is_stale(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "schema.json"
    target.write_text("{}")
    assert (
        runner.invoke(args=["catalog", "schema", "--check", "--output", str(target)]).exit_code == 1
    )
    invoke(runner, "catalog", "schema", "--output", str(target))
    assert invoke(runner, "catalog", "schema", "--check", "--output", str(target)).exit_code == 0


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    from tracker import create_app, migrate
    from tracker.config import TestConfig
    from tracker.db import get_engine

    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = app.test_cli_runner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    head = migrate.head_revision(get_engine(app))
    assert f"Database schema is at revision {head}." in result.output


def test_tracker_command_needs_no_app_option() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for group in ("catalog", "db", "matrix", "demo"):
        assert group in result.output
