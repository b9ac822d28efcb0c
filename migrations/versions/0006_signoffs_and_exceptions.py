"""sign-offs, exceptions and frozen snapshots per release

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT = sa.String


def upgrade() -> None:
    op.create_table(
        "signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release", TEXT(length=200), nullable=False),
        sa.Column("obligation_id", TEXT(length=80), nullable=False),
        sa.Column("obligation_version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", TEXT(length=64), nullable=False),
        sa.Column("status", TEXT(length=32), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signed_by", TEXT(length=200), nullable=False),
        sa.Column("signed_by_ref", TEXT(length=64), nullable=False),
        sa.Column("signed_role", TEXT(length=16), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signoff", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signoff_release_obligation", ["release", "obligation_id"], unique=False
        )
    op.create_table(
        "releaseexception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release", TEXT(length=200), nullable=False),
        sa.Column("obligation_id", TEXT(length=80), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("compensating_control", sa.Text(), nullable=False),
        sa.Column("risk_owner", TEXT(length=200), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("requested_by", TEXT(length=200), nullable=False),
        sa.Column("requested_by_ref", TEXT(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", TEXT(length=200), nullable=True),
        sa.Column("approved_by_ref", TEXT(length=64), nullable=True),
        sa.Column("approved_role", TEXT(length=16), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["obligation_id"], ["obligation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("releaseexception", schema=None) as batch_op:
        batch_op.create_index(
            "ix_releaseexception_release", ["release", "obligation_id"], unique=False
        )


    op.create_table(
        "readinessrecord",
        sa.Column("release", TEXT(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("blocking", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("release", "day"),
    )
    op.create_table(
        "releasesnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release", TEXT(length=200), nullable=False),
        sa.Column("hash", TEXT(length=64), nullable=False),
        sa.Column("previous_hash", TEXT(length=64), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("frozen_by", TEXT(length=200), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    with op.batch_alter_table("releasesnapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releasesnapshot_release"), ["release"], unique=False)


def downgrade() -> None:
    op.drop_table("releasesnapshot")
    op.drop_table("readinessrecord")
    op.drop_table("releaseexception")
    op.drop_table("signoff")
