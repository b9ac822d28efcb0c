"""sync lock records its holder's host and process id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("synclock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("host", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("synclock", schema=None) as batch_op:
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
