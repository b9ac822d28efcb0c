"""`tracker datamap`: validate, load (all or nothing), export the Art. 30 record, schema."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.helpers import DATA, SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.config import DEFAULT_CATALOG_PATH, DEFAULT_DATA_MAP_PATH
from tracker.domain.access import cli_actor
from tracker.models import AuditEvent, ProcessingActivity
from tracker.services.catalog import load_catalog

SMALL_MAP = DATA / "data_map_small"


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(args=list(args), catch_exceptions=False)


@pytest.fixture
def catalog(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("c"))
    session.rollback()


def _activities(session: Session) -> list[str]:
    session.rollback()
    return sorted(row.id for row in session.exec(select(ProcessingActivity)).all())


def test_validate_accepts_the_bundled_data_map_against_the_bundled_catalog(
    runner: CliRunner, app: Flask
) -> None:
    app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
    result = invoke(runner, "datamap", "validate")
    assert result.exit_code == 0, result.output
    assert f"{DEFAULT_DATA_MAP_PATH}: valid. 5 processing activities on 8 systems" in result.output


def test_validate_lists_every_problem_with_file_line_and_exits_1(
    runner: CliRunner, tmp_path: Path
) -> None:
    shutil.copytree(SMALL_MAP, tmp_path / "map")
    activities = tmp_path / "map" / "activities.yaml"
    text = activities.read_text(encoding="utf-8")
    activities.write_text(
        text.replace(
            "systems: [crm]\n    jurisdictions", "systems: [crm, ledger]\n    jurisdictions"
        ).replace("period: 2 years", "period: forever"),
        encoding="utf-8",
    )
    # The test app's catalog is the small one, whose ids the DPIA's mitigation names.
    result = runner.invoke(args=["datamap", "validate", str(tmp_path / "map")])
    assert result.exit_code == 1
    assert "activities.yaml:30: newsletter: systems.1: unknown system 'ledger'" in result.output
    assert "activities.yaml:35: newsletter: retention.0.period:" in result.output
    assert "'forever' is not a retention period" in result.output
    assert "2 problem(s)" in result.output


def test_validate_checks_mitigations_against_the_catalog_files(
    runner: CliRunner, app: Flask, tmp_path: Path
) -> None:
    shutil.copytree(SMALL_MAP, tmp_path / "map")
    app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH  # has no ALPHA-1.1
    result = runner.invoke(args=["datamap", "validate", str(tmp_path / "map")])
    assert result.exit_code == 1
    assert "dpias.yaml:16: dpia-newsletter: risks.0.mitigations.0.obligations: unknown " in (
        result.output
    )


def test_load_stores_the_data_map_and_a_second_load_changes_nothing(
    runner: CliRunner, session: Session, catalog: None
) -> None:
    result = invoke(runner, "datamap", "load", str(SMALL_MAP), "--actor", "privacy lead")
    assert result.exit_code == 0, result.output
    assert "2 processing activities on 2 systems, 1 DPIA. activities: 2 added" in result.output
    assert _activities(session) == ["newsletter", "sign-up"]
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "activity.created")).all()
    assert len(created) == 2 and all(e.actor.startswith("privacy lead") for e in created)
    again = invoke(runner, "datamap", "load", str(SMALL_MAP))
    assert "activities: 2 unchanged; systems: 2 unchanged; DPIAs: 1 unchanged" in again.output


def test_load_of_a_broken_data_map_lists_every_problem_and_loads_nothing(
    runner: CliRunner, session: Session, catalog: None, tmp_path: Path
) -> None:
    shutil.copytree(SMALL_MAP, tmp_path / "map")
    activities = tmp_path / "map" / "activities.yaml"
    text = activities.read_text(encoding="utf-8")
    activities.write_text(text.replace("jurisdictions: [EU]", "jurisdictions: [EU, Mars]"))
    result = runner.invoke(args=["datamap", "load", str(tmp_path / "map")])
    assert result.exit_code == 1
    assert "activities.yaml:31: newsletter: jurisdictions.1: unknown jurisdiction 'Mars'" in (
        result.output
    )
    assert "1 problem(s)" in result.output and "nothing was loaded" in result.output
    assert _activities(session) == []


def test_load_before_the_catalog_says_to_load_the_catalog_first(
    runner: CliRunner, session: Session
) -> None:
    result = runner.invoke(args=["datamap", "load", str(SMALL_MAP)])
    assert result.exit_code == 1
    assert "unknown obligation 'ALPHA-1.1'" in result.output
    assert "run `tracker catalog load`" in result.output
    assert _activities(session) == []


def test_export_writes_the_art30_record_as_csv_and_xlsx(
    runner: CliRunner, catalog: None, tmp_path: Path
) -> None:
    invoke(runner, "datamap", "load", str(SMALL_MAP))
    target = tmp_path / "record.csv"
    result = invoke(runner, "datamap", "export", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0 and "Wrote 2 processing activities" in result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row["Activity id"] for row in rows] == ["newsletter", "sign-up"]
    sign_up = rows[1]
    assert sign_up["Legal basis (per jurisdiction)"] == "EU: contract"
    assert sign_up["Categories of personal data"] == "user.contact.email; user.name"
    assert sign_up["Transfers to third countries and safeguards"] == (
        "to US (Mail sender Ltd.): standard contractual clauses"
    )
    assert sign_up["Retention (period and trigger per data category)"] == (
        "user.contact.email, user.name: 30 days from account closed (in web-app, crm)"
    )
    assert rows[0]["Technical and organisational measures"] == (
        "DPIA dpia-newsletter; mitigating obligations: ALPHA-1.1"
    )

    book_path = tmp_path / "record.xlsx"
    invoke(runner, "datamap", "export", "--format", "xlsx", "--output", str(book_path))
    book = load_workbook(book_path)
    assert book.sheetnames == ["Art. 30 record", "Systems"]
    sheet = book["Art. 30 record"]
    assert sheet["A2"].value == "newsletter" and sheet["A3"].value == "sign-up"
    assert [cell.value for cell in book["Systems"]["A"]] == ["System id", "crm", "web-app"]


def test_export_without_a_loaded_data_map_says_to_load_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "record.csv"
    result = runner.invoke(args=["datamap", "export", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 1 and "tracker datamap load" in result.output
    assert not target.exists()


def test_schema_writes_the_json_schema_and_check_finds_it_stale(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "schema.json"
    target.write_text("{}\n", encoding="utf-8")
    stale = runner.invoke(args=["datamap", "schema", "--check", "--output", str(target)])
    assert stale.exit_code == 1 and "out of date" in stale.output
    invoke(runner, "datamap", "schema", "--output", str(target))
    assert invoke(runner, "datamap", "schema", "--check", "--output", str(target)).exit_code == 0
    assert '"title": "Data map (records of processing activities)"' in target.read_text()


def test_taxonomy_lists_the_fides_keys_the_data_map_may_use(runner: CliRunner) -> None:
    result = invoke(runner, "datamap", "taxonomy", "categories", "user.health")
    assert result.exit_code == 0
    keys = [line.split()[0] for line in result.output.splitlines()]
    assert keys[0] == "user.health_and_medical" and len(keys) == 4
    assert all(key.startswith("user.health") for key in keys)
    assert "customer " in invoke(runner, "datamap", "taxonomy", "subjects").output
    missing = runner.invoke(args=["datamap", "taxonomy", "uses", "nothing.like.this"])
    assert missing.exit_code == 1 and "No uses key starts with" in missing.output
