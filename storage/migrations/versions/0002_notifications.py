"""notifications: digest preference, outbox status, single-use action links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(
            sa.Column("digest", sa.String(length=16), nullable=False, server_default="immediate")
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=40), nullable=False, server_default=""))
        batch.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch.add_column(
            sa.Column("unsubscribe_url", sa.String(length=1000), nullable=False, server_default="")
        )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_table(
        "action_link_use",
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_id"),
    )


def downgrade() -> None:
    op.drop_table("action_link_use")
    op.drop_index("ix_outbox_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("unsubscribe_url")
        batch.drop_column("status")
        batch.drop_column("user_id")
        batch.drop_column("kind")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("digest")
