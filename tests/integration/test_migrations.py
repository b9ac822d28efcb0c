"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from tracker import migrate
from tracker.db import make_engine


@pytest.fixture
def empty_engine(tmp_path):  # type: ignore[no-untyped-def]
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    # A separate PostgreSQL schema so the shared test schema is left alone.
    base = make_engine(url)
    with base.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    engine = make_engine(url, connect_args={"options": "-csearch_path=migration_check"})
    yield engine
    engine.dispose()
    with base.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    base.dispose()


def test_migrations_and_models_agree(empty_engine) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(empty_engine) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)
