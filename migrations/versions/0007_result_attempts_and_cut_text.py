"""test results: every attempt of a retried test, and the full size of text cut to the limit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("testresult", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("testresult", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("message_size")
