"""the data generation's change log: which obligations each recent move changed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datagenerationchange",
        sa.Column("value", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("obligation_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("value"),
    )


def downgrade() -> None:
    op.drop_table("datagenerationchange")
