"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from tracker import migrate, schema_snapshot
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


@pytest.mark.parametrize("use_snapshot", [True, False], ids=["snapshot", "migrations"])
def test_migrations_and_models_agree(empty_engine, use_snapshot: bool) -> None:  # type: ignore[no-untyped-def]
    # On SQLite a new database is made from the schema snapshot unless told otherwise; on
    # PostgreSQL both run the migrations.
    migrate.upgrade(empty_engine, use_snapshot=use_snapshot)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(empty_engine) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)


def test_upgrading_chains_existing_audit_events_and_keeps_what_old_tokens_could_do(
    empty_engine,  # type: ignore[no-untyped-def]
) -> None:
    from sqlmodel import Session

    from tracker.services.audit import verify_audit_trail

    migrate.upgrade(empty_engine, "0003")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO apitoken (name, prefix, token_hash, created_at) "
                "VALUES ('ci', 'trk_abc', :hash, CURRENT_TIMESTAMP)"
            ),
            {"hash": "a" * 64},
        )
        for number in range(3):
            connection.execute(
                text(
                    "INSERT INTO auditevent (at, actor, action, entity_type, entity_id, after) "
                    "VALUES (CURRENT_TIMESTAMP, 'web user', 'link.added', 'obligation', :id, :after)"
                ),
                {"id": f"GDPR-{number}", "after": '{"work_item": "PRIV-1"}'},
            )
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        report = verify_audit_trail(session=session)
        assert report.ok and report.checked == 3 and report.head_seq == 3
        scopes, migrated, expires = session.execute(
            text("SELECT scopes, migrated, expires_at FROM apitoken")
        ).one()
    assert migrated and expires is None
    assert (json.loads(scopes) if isinstance(scopes, str) else scopes) == ["results:write"]


def test_the_sqlite_snapshot_is_what_the_migrations_make() -> None:
    assert schema_snapshot.snapshot_path().read_text(encoding="utf-8") == (
        schema_snapshot.migrated_dump()
    ), (
        "migrations/sqlite_head.sql differs from what the migrations make on SQLite: after "
        "adding or changing a migration, run `python -m tracker.schema_snapshot`"
    )


def test_a_new_sqlite_database_from_the_snapshot_is_the_migrated_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    with engine.connect() as connection:
        generation = connection.execute(text("SELECT value, token FROM datageneration")).one()
    assert generation.value == 1 and len(generation.token) == 16  # moved on, a token of its own
    engine.dispose()
    assert schema_snapshot.dump(tmp_path / "new.db") == schema_snapshot.migrated_dump()
    # The next upgrade finds the database at the newest revision and changes nothing.
    migrate.upgrade(engine)
    assert schema_snapshot.dump(tmp_path / "new.db") == schema_snapshot.migrated_dump()
    engine.dispose()


def test_a_snapshot_older_than_the_newest_migration_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    real = migrate._run_migrations

    def counted(engine, connection, revision):  # type: ignore[no-untyped-def]
        ran.append(revision)
        real(engine, connection, revision)

    monkeypatch.setattr(migrate, "_run_migrations", counted)
    monkeypatch.setattr(schema_snapshot, "newest_migration", lambda folder=None: "9999")
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate.upgrade(engine)
    assert ran == ["head"]
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()
