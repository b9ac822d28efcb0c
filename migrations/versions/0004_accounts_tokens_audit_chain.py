"""accounts, scoped tokens with owners, hash-chained append-only audit trail

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracker.domain.audit_chain import GENESIS_HASH, AuditContent, event_hash

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % on % is refused.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGERS = [
    "CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON auditevent "
    "FOR EACH ROW EXECUTE FUNCTION tracker_audit_append_only()",
    "CREATE TRIGGER auditevent_no_truncate BEFORE TRUNCATE ON auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_audit_append_only()",
    "CREATE TRIGGER auditchainhead_no_delete BEFORE DELETE OR TRUNCATE ON auditchainhead "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_audit_append_only()",
    "CREATE TRIGGER auditchainhead_forward_only BEFORE UPDATE ON auditchainhead "
    "FOR EACH ROW EXECUTE FUNCTION tracker_audit_head_forward_only()",
]
HEAD_FORWARD_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF NEW.seq < OLD.seq OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'The audit trail is append-only: its head only moves forward.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "useraccount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("sso_subject", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("sso_subject"),
    )

    op.create_table(
        "loginsession",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["useraccount.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loginsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loginsession_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(sa.Column("suites", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("branches", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "created_by",
                sa.String(length=200),
                server_default="",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("migrated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_apitoken_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_apitoken_owner_id_useraccount", "useraccount", ["owner_id"], ["id"]
        )
    # Every token made before scopes existed could upload results: it keeps exactly that.
    tokens = sa.table("apitoken", sa.column("scopes", sa.JSON()), sa.column("migrated", sa.Boolean()))
    op.execute(tokens.update().values(scopes=["results:write"], migrated=True))

    with op.batch_alter_table("applicabilitydecision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decided_role", sa.String(length=16), nullable=True)
        )

    with op.batch_alter_table("testrun", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_testrun_token_id_apitoken", "apitoken", ["token_id"], ["id"])

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "actor_ref",
                sa.String(length=64),
                server_default="system",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("actor_role", sa.String(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("hash", sa.String(length=64), nullable=True)
        )

    head_seq, head_hash = _chain_existing_events()

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "prev_hash", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.alter_column(
            "hash", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.create_unique_constraint("uq_auditevent_seq", ["seq"])
        batch_op.create_index(batch_op.f("ix_auditevent_actor_ref"), ["actor_ref"], unique=False)

    head = op.create_table(
        "auditchainhead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": head_seq, "hash": head_hash}])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(HEAD_FORWARD_FUNCTION)
        for trigger in APPEND_ONLY_TRIGGERS:
            op.execute(trigger)


def _chain_existing_events() -> tuple[int, str]:
    """Give the events written before the chain existed their sequence numbers and hashes."""
    bind = op.get_bind()
    events = sa.table(
        "auditevent",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("actor_ref", sa.String()),
        sa.column("actor_role", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity_type", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    prev_hash, seq = GENESIS_HASH, 0
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq += 1
        content = AuditContent(
            seq=seq,
            at=row["at"],
            actor=row["actor"],
            actor_ref=row["actor_ref"],
            actor_role=row["actor_role"],
            action=row["action"],
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            before=row["before"],
            after=row["after"],
        )
        digest = event_hash(content, prev_hash)
        bind.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    return seq, prev_hash


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in (
            ("auditevent_append_only", "auditevent"),
            ("auditevent_no_truncate", "auditevent"),
            ("auditchainhead_no_delete", "auditchainhead"),
            ("auditchainhead_forward_only", "auditchainhead"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tracker_audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS tracker_audit_head_forward_only()")
    op.drop_table("auditchainhead")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_actor_ref"))
        batch_op.drop_constraint("uq_auditevent_seq", type_="unique")
        for column in ("hash", "prev_hash", "actor_role", "actor_ref", "seq"):
            batch_op.drop_column(column)
    with op.batch_alter_table("applicabilitydecision", schema=None) as batch_op:
        batch_op.drop_column("decided_role")
    with op.batch_alter_table("testrun", schema=None) as batch_op:
        batch_op.drop_constraint("fk_testrun_token_id_apitoken", type_="foreignkey")
        batch_op.drop_column("token_id")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_constraint("fk_apitoken_owner_id_useraccount", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_apitoken_owner_id"))
        for column in ("expires_at", "migrated", "created_by", "owner_id", "branches", "suites"):
            batch_op.drop_column(column)
        batch_op.drop_column("scopes")
    op.drop_table("loginsession")
    op.drop_table("useraccount")
