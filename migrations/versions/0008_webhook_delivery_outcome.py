"""webhook deliveries record their outcome, and identifiers are stored hashed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:30:00.000000
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhookdelivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=16), server_default="applied", nullable=False)
        )
    # Identifiers are now kept as "sha256:<hex>" of Jira's header, so a retry of a delivery
    # received before the upgrade is still recognised. Except for identifiers over 200
    # characters: they were stored cut to 200, so the hash is of the cut value and a retry of
    # such a delivery is not recognised and is applied once more. Harmless: Jira retries
    # within hours, and the retry carries the same issue state (same `updated`), which changes
    # nothing that the first delivery did not.
    connection = op.get_bind()
    deliveries = sa.table("webhookdelivery", sa.column("identifier", sa.String))
    stored = connection.execute(sa.select(deliveries.c.identifier)).scalars().all()
    for identifier in stored:
        if identifier.startswith(("sha256:", "body-sha256:")):
            continue
        digest = "sha256:" + hashlib.sha256(identifier.encode("utf-8")).hexdigest()
        connection.execute(
            deliveries.update()
            .where(deliveries.c.identifier == identifier)
            .values(identifier=digest)
        )


def downgrade() -> None:
    # The hashed identifiers stay hashed: the header values they came from are not kept.
    with op.batch_alter_table("webhookdelivery", schema=None) as batch_op:
        batch_op.drop_column("outcome")
