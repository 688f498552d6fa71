"""tamper-evident audit trail: hash chain, stream heads, checkpoints; ISCG mapping table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from domain.audit import AuditContent, row_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END""",
)
POSTGRES_TRIGGERS = (
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit rows are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
)


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    op.create_table(
        "audit_stream_head",
        sa.Column("stream", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("stream_count", sa.Integer(), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "mapping_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("theme_code", sa.String(length=64), nullable=True),
        sa.Column("sector_code", sa.String(length=16), nullable=False),
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sector_code"], ["sector.code"]),
        sa.ForeignKeyConstraint(["theme_code"], ["theme.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic", "sector_code", name="uq_mapping_topic_sector"),
    )
    op.create_index("ix_mapping_entry_topic", "mapping_entry", ["topic"])
    _chain_existing_rows()
    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def _chain_existing_rows() -> None:
    """Hash the rows written before the chain existed, stream by stream, in order."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, stream, sequence, idempotency_key, entity_type, entity_id, action,"
            " actor_id, actor_role, from_state, to_state, payload, occurred_at"
            " FROM audit_event ORDER BY stream, sequence"
        )
    ).mappings()
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        payload = row["payload"]
        occurred = row["occurred_at"]
        if isinstance(occurred, str):
            occurred = datetime.fromisoformat(occurred)
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        content = AuditContent(
            stream=row["stream"],
            sequence=row["sequence"],
            idempotency_key=row["idempotency_key"],
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            action=row["action"],
            actor_id=row["actor_id"],
            actor_role=row["actor_role"],
            from_state=row["from_state"],
            to_state=row["to_state"],
            payload=json.loads(payload) if isinstance(payload, str) else payload,
            occurred_at=occurred,
        )
        prev = heads.get(row["stream"], (0, None))[1]
        digest = row_hash(content, prev)
        bind.execute(
            sa.text("UPDATE audit_event SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": prev, "hash": digest, "id": row["id"]},
        )
        heads[row["stream"]] = (row["sequence"], digest)
    for stream, (sequence, digest) in heads.items():
        bind.execute(
            sa.text("INSERT INTO audit_stream_head (stream, sequence, hash) VALUES (:s, :n, :h)"),
            {"s": stream, "n": sequence, "h": digest},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
    else:
        op.execute("DROP TRIGGER audit_event_no_update ON audit_event")
        op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    op.drop_index("ix_mapping_entry_topic", table_name="mapping_entry")
    op.drop_table("mapping_entry")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_stream_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
