"""task-force meetings and agendas; where an issue came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=200), nullable=True))
    op.create_index("ix_issue_origin", "issue", ["origin"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("calendar", sa.String(), nullable=True))
    op.create_table(
        "meeting",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("virtual_link", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("historical", sa.Boolean(), nullable=False),
        sa.Column("agenda_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_meeting_starts_at", "meeting", ["starts_at"])
    op.create_index("ix_meeting_state", "meeting", ["state"])
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_number", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=True),
        sa.Column("theme_code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("decision_text", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["meeting_number"], ["meeting.number"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_number", "item_id", name="uq_agenda_item"),
    )
    op.create_index("ix_agenda_item_meeting_number", "agenda_item", ["meeting_number"])
    op.create_index("ix_agenda_item_issue_id", "agenda_item", ["issue_id"])


def downgrade() -> None:
    op.drop_index("ix_agenda_item_issue_id", table_name="agenda_item")
    op.drop_index("ix_agenda_item_meeting_number", table_name="agenda_item")
    op.drop_table("agenda_item")
    op.drop_index("ix_meeting_state", table_name="meeting")
    op.drop_index("ix_meeting_starts_at", table_name="meeting")
    op.drop_table("meeting")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("calendar")
    op.drop_index("ix_issue_origin", table_name="issue")
    with op.batch_alter_table("issue") as batch:
        batch.drop_column("origin")
