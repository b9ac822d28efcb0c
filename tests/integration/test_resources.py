"""Where the tracker finds its folders and keeps its instance, run from the source checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker import create_app, migrate, resources
from tracker.cli import main
from tracker.config import TestConfig, default_database_url, instance_path

CHECKOUT = Path(__file__).resolve().parents[2]


def test_a_source_checkout_reads_its_own_folders_and_keeps_instance_in_it() -> None:
    assert resources.is_source_checkout()
    assert resources.templates_path() == CHECKOUT / "templates"
    assert resources.migrations_path() == CHECKOUT / "migrations"
    assert resources.catalog_path() == CHECKOUT / "requirements_catalog"
    assert instance_path({}) == CHECKOUT / "instance"
    assert default_database_url({}) == f"sqlite:///{CHECKOUT / 'instance' / 'tracker.db'}"


def test_tracker_instance_path_moves_the_instance_folder_and_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert instance_path({"TRACKER_INSTANCE_PATH": "~/tracker-data"}) == tmp_path / "tracker-data"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    app = create_app(TestConfig, web=False)
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'elsewhere' / 'tracker.db'}"


def test_db_upgrade_names_the_instance_folder(tmp_path: Path) -> None:
    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = app.test_cli_runner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0
    assert (
        f"Instance folder (generated secret key, default SQLite database): {app.instance_path}"
        in (result.output)
    )


def test_db_upgrade_without_migrations_says_to_reinstall_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "MIGRATIONS_PATH", tmp_path / "no-migrations")
    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = app.test_cli_runner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "The database migrations are missing from this installation" in result.output
    assert "pip install ." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
