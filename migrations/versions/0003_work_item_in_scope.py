"""work items remember whether the sync's JQL covers them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:44:32.469182
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workitem", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_scope", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("workitem", schema=None) as batch_op:
        batch_op.drop_column("in_scope")
