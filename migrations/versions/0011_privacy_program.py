"""the privacy program: data map, DPIAs, applicability proposals, retention duties, reviews

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:30:12.705430
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasystem",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("jira_project", sa.String(length=16), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dpia",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("review_every_days", sa.Integer(), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dpia", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dpia_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "dpiasignoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dpia_id", sa.String(length=80), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("signed_role", sa.String(length=16), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dpiasignoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dpiasignoff_dpia_id"), ["dpia_id"], unique=False)

    op.create_table(
        "processingactivity",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dpia_required", sa.Boolean(), nullable=False),
        sa.Column("review_every_days", sa.Integer(), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reviewcampaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("work_item_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["reviewcampaign.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index("ix_review_item", ["item_kind", "item_id"], unique=False)

    op.create_table(
        "applicabilityproposal",
        sa.Column("obligation_id", sa.String(length=80), nullable=False),
        sa.Column("proposal", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligation.id"],
        ),
        sa.PrimaryKeyConstraint("obligation_id"),
    )
    op.create_table(
        "retentionduty",
        sa.Column("obligation_id", sa.String(length=80), nullable=False),
        sa.Column("data_category", sa.String(length=120), nullable=False),
        sa.Column("system_id", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligation.id"],
        ),
        sa.PrimaryKeyConstraint("obligation_id"),
    )
    with op.batch_alter_table("retentionduty", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retentionduty_data_category"), ["data_category"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_retentionduty_system_id"), ["system_id"], unique=False)

    with op.batch_alter_table("applicabilitydecision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis_proposal", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("basis_fingerprint", sa.String(length=64), nullable=True))

    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("review_every_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_column("review_every_days")
        batch_op.drop_column("owner")

    with op.batch_alter_table("applicabilitydecision", schema=None) as batch_op:
        batch_op.drop_column("basis_fingerprint")
        batch_op.drop_column("basis_proposal")

    with op.batch_alter_table("retentionduty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retentionduty_system_id"))
        batch_op.drop_index(batch_op.f("ix_retentionduty_data_category"))

    op.drop_table("retentionduty")
    op.drop_table("applicabilityproposal")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item")
        batch_op.drop_index(batch_op.f("ix_review_campaign_id"))

    op.drop_table("review")
    op.drop_table("reviewcampaign")
    op.drop_table("processingactivity")
    with op.batch_alter_table("dpiasignoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpiasignoff_dpia_id"))

    op.drop_table("dpiasignoff")
    with op.batch_alter_table("dpia", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpia_activity_id"))

    op.drop_table("dpia")
    op.drop_table("datasystem")
