"""Inserting many rows at once: COPY on PostgreSQL, executemany elsewhere, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Table, any_, bindparam
from sqlmodel import Session

from tracker.generation import note_write

M = TypeVar("M")


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into table within the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), list(rows))
        return
    # psycopg's COPY streams rows without building (and parsing) statements with tens of
    # thousands of placeholders, which is what executemany turns into for large batches.
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    # COPY goes to the driver's cursor, past the hook that watches SQLAlchemy's statements.
    note_write(connection, table.name)
    driver_connection: Any = connection.connection.driver_connection
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in columns])


def table_of(model: type[Any]) -> Table:
    """Return a model's table: Core inserts skip the ORM's per-row work on bulk data."""
    table: Table = model.__table__
    return table


def model_of(model: type[M], values: Sequence[Any]) -> M:
    """Return a model object (not loaded by any session) from a Core row of its table's
    columns, in the table's order: a read on a hot path skips the ORM's loading."""
    return model(**dict(zip(table_of(model).c.keys(), values, strict=True)))


def one_of_parameter(dialect: str, column: Any, name: str) -> Any:
    """Return `column IN :name` for a statement built once and run with the list as `name`.

    On PostgreSQL `= ANY(:name)`: one array parameter however many values (see is_one_of).
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def is_one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """Return `column IN values`; on PostgreSQL `= ANY(array)`, one parameter however many."""
    if session.connection().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
