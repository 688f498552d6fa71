"""oversight recommendations, their progress, the risk register and their links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (name, columns): what the compliance dashboard groups and filters on.
RECOMMENDATION_INDEXES = (
    ("ix_recommendation_source_year", ["source", "report_year"]),
    ("ix_recommendation_theme_states", ["theme_code", "acceptance", "implementation"]),
    ("ix_recommendation_states_target", ["acceptance", "implementation", "target_date"]),
    ("ix_recommendation_owner_states", ["owner_id", "acceptance", "implementation"]),
    ("ix_recommendation_priority_states", ["priority", "acceptance", "implementation"]),
)


# Issues the system raises for overdue recommendations name it as their author: it needs a
# directory entry for the foreign key. Inactive, without a token, it receives no mail.
SYSTEM_USER = {
    "id": "system",
    "name": "iscflow",
    "email": "system@iscflow.invalid",
    "role": "system",
    "sector_code": None,
    "language": "en",
    "digest": "immediate",
    "active": False,
    "created_at": datetime(2026, 12, 5, tzinfo=UTC),
}


def _users() -> sa.TableClause:
    return sa.table(
        "app_user",
        *(sa.column(name) for name in SYSTEM_USER),
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "recommendation",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("addressee", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("theme_code", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("acceptance", sa.String(length=32), nullable=False),
        sa.Column("implementation", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("acceptance_comment", sa.String(), nullable=True),
        sa.Column("closure_justification", sa.String(), nullable=True),
        sa.Column("verification_note", sa.String(), nullable=True),
        sa.Column("return_reason", sa.String(), nullable=True),
        sa.Column("escalation_issue_id", sa.String(length=64), nullable=True),
        sa.Column("long_outstanding_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["theme_code"], ["theme.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "symbol", "number", name="uq_recommendation_key"),
    )
    for name, columns in RECOMMENDATION_INDEXES:
        op.create_index(name, "recommendation", columns)
    op.create_table(
        "risk",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("inherent_likelihood", sa.Integer(), nullable=False),
        sa.Column("inherent_impact", sa.Integer(), nullable=False),
        sa.Column("residual_likelihood", sa.Integer(), nullable=False),
        sa.Column("residual_impact", sa.Integer(), nullable=False),
        sa.Column("inherent_score", sa.Integer(), nullable=False),
        sa.Column("residual_score", sa.Integer(), nullable=False),
        sa.Column("treatment", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_residual_score", "risk", ["residual_score"])
    op.create_table(
        "progress_update",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("recommendation_id", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("percentage", sa.Integer(), nullable=False),
        sa.Column("narrative", sa.String(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_progress_update_recommendation_id", "progress_update", ["recommendation_id"]
    )
    op.create_table(
        "recommendation_risk",
        sa.Column("recommendation_id", sa.String(length=160), nullable=False),
        sa.Column("risk_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendation.id"]),
        sa.ForeignKeyConstraint(["risk_id"], ["risk.id"]),
        sa.PrimaryKeyConstraint("recommendation_id", "risk_id"),
    )
    op.create_index("ix_recommendation_risk_risk_id", "recommendation_risk", ["risk_id"])
    op.execute(_users().insert().values(**SYSTEM_USER))


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM app_user WHERE id = 'system' "
            "AND NOT EXISTS (SELECT 1 FROM issue WHERE author_id = 'system')"
        )
    )
    op.drop_index("ix_recommendation_risk_risk_id", table_name="recommendation_risk")
    op.drop_table("recommendation_risk")
    op.drop_index("ix_progress_update_recommendation_id", table_name="progress_update")
    op.drop_table("progress_update")
    op.drop_index("ix_risk_residual_score", table_name="risk")
    op.drop_table("risk")
    for name, _ in reversed(RECOMMENDATION_INDEXES):
        op.drop_index(name, table_name="recommendation")
    op.drop_table("recommendation")
