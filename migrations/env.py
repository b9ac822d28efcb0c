"""Alembic environment: the tracker's SQLModel metadata, on the connection or URL given."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def _target_metadata() -> Any:
    """Return the models' metadata, or None when the tracker only applies the migrations.

    Applying them needs no models (the migrations name their own columns): `tracker db
    upgrade` says so and starts without importing SQLModel's 31 tables. The `alembic` command
    (autogenerate, check) always compares with the models.
    """
    if config.attributes.get("apply_only"):
        return None
    from sqlmodel import SQLModel

    import tracker.models  # noqa: F401 - registers the tables on SQLModel.metadata

    return SQLModel.metadata


target_metadata = _target_metadata()


def run_migrations_offline() -> None:
    """Emit SQL for the URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on the connection handed over by the tracker, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, _context: Any) -> str | bool:
    """Write SQLModel's column types as the plain SQLAlchemy types they create in the database.

    A migration then imports no SQLModel (nor pydantic) when it is applied.
    """
    if kind == "type":
        name = type(item).__name__
        if name == "AutoString":
            length = item.impl.length
            return f"sa.String(length={length})" if length else "sa.String()"
        if name == "UTCDateTime":
            return "sa.DateTime(timezone=True)"
    return False


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
