"""the data generation: one counter row that writes which can change a status move on

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    generation = op.create_table(
        "datageneration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # A fresh token: nothing cached before this upgrade (in Redis, say) can match it.
    op.bulk_insert(
        generation,
        [{"id": 1, "value": 0, "token": secrets.token_hex(8), "changed_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("datageneration")
