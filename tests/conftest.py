"""Shared fixtures: engine (SQLite, or PostgreSQL via TRACKER_TEST_DATABASE_URL), app, client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import tracker.models  # noqa: F401 - registers the tables
from tests.helpers import DATA, SMALL_CATALOG, csrf_token, empty_tables  # noqa: F401 - re-exported
from tracker import create_app, migrate
from tracker.config import TestConfig
from tracker.db import make_engine

_database_tests = {"count": 0}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _schema_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    SQLModel.metadata.drop_all(engine)
    _drop_alembic_version(engine)
    # The schema comes from the migrations, as in production.
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _drop_alembic_version(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def engine(_schema_engine: Engine) -> Iterator[Engine]:
    """An engine on an empty schema (tables are emptied before each test)."""
    _database_tests["count"] += 1
    empty_tables(_schema_engine, restart_ids=True)
    yield _schema_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(engine: Engine, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(
        TestConfig, DATABASE_URL=database_url, ENGINE=engine, CATALOG_PATH=SMALL_CATALOG
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest cost: the same code path, without 50 ms per hash."""
    from argon2 import PasswordHasher

    from tracker.services import accounts

    monkeypatch.setattr(
        accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def anonymous(app):  # type: ignore[no-untyped-def]
    """A test client nobody is signed in to."""
    return app.test_client()


@pytest.fixture
def client(app, engine):  # type: ignore[no-untyped-def]
    """A test client signed in as an admin (who may do everything): for tests of behaviour.

    Who may do what is tested with clients of each role in tests/web/test_permissions.py.
    """
    from tests.auth_helpers import make_user, sign_in

    test_client = app.test_client()
    sign_in(test_client, engine, make_user(engine, "admin", email="admin@example.com"))
    return test_client


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    """A CLI runner that runs the `tracker` command against the test app."""
    from tracker.cli import main

    cli_runner = app.test_cli_runner()
    invoke = cli_runner.invoke

    def invoke_tracker(cli=None, args=None, **kwargs):  # type: ignore[no-untyped-def]
        return invoke(cli or main, args, **kwargs)

    cli_runner.invoke = invoke_tracker
    return cli_runner


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    url = os.environ.get("TRACKER_TEST_DATABASE_URL", "sqlite")
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    terminalreporter.write_line(f"database tests: {_database_tests['count']} ran on {backend}")
