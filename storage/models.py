"""SQLModel tables of the read model, the audit trail and the outbox.

The workflows are the single writers of issue state; these tables are what they persist
through activities, and what the API reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every engine (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: iscflow stores aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


class SectorRow(SQLModel, table=True):
    __tablename__ = "sector"

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=200)
    bureau: str = Field(max_length=16)


class ThemeRow(SQLModel, table=True):
    __tablename__ = "theme"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    active: bool = True


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    role: str = Field(max_length=32)
    sector_code: str | None = Field(default=None, foreign_key="sector.code", max_length=16)
    language: str = Field(default="en", max_length=8)
    # "immediate": one mail per notification; "daily": held for the digest.
    digest: str = Field(default="immediate", max_length=16)
    active: bool = True
    created_at: datetime = _ts()
    # argon2id encoded hash for web sign-in; None: API tokens only.
    password_hash: str | None = Field(default=None, max_length=200)


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random value; only its SHA-256 is kept."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=64)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=64)
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough.
    token_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=100)
    created_at: datetime = _ts()
    expires_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)


class ThemeMembershipRow(SQLModel, table=True):
    __tablename__ = "theme_membership"

    theme_code: str = Field(foreign_key="theme.code", primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", primary_key=True, max_length=64)
    sector_code: str = Field(foreign_key="sector.code", max_length=16)


class IssueRow(SQLModel, table=True):
    __tablename__ = "issue"
    __table_args__ = (Index("ix_issue_theme_state", "theme_code", "state"),)

    id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    description: str
    theme_code: str = Field(foreign_key="theme.code", max_length=64)
    sector_code: str = Field(foreign_key="sector.code", max_length=16)
    author_id: str = Field(foreign_key="app_user.id", index=True, max_length=64)
    state: str = Field(index=True, max_length=32)
    level: int = 0
    requested_level: int | None = None
    discussion_deadline: datetime | None = _ts(nullable=True)
    resolution: str | None = None
    decision: str | None = None
    decision_outcome: str | None = Field(default=None, max_length=32)
    # Where the issue came from when not from a person, e.g. "recommendation:<key>".
    origin: str | None = Field(default=None, max_length=200, index=True)
    version: int
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)


class CommentRow(SQLModel, table=True):
    __tablename__ = "comment"

    id: str = Field(primary_key=True, max_length=100)
    issue_id: str = Field(foreign_key="issue.id", index=True, max_length=64)
    author_id: str = Field(max_length=64)
    author_role: str = Field(max_length=32)
    body: str
    created_at: datetime = _ts()


class AuditEventRow(SQLModel, table=True):
    """Append-only record of every domain event, one stream per entity."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("stream", "sequence", name="uq_audit_stream_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=120)
    sequence: int
    idempotency_key: str = Field(unique=True, max_length=200)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(index=True, max_length=100)
    action: str = Field(max_length=64)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = _ts()
    recorded_at: datetime = _ts()
    # SHA-256 of the canonical content, chained to the previous row of the same stream.
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str = Field(default="", max_length=64)


class AuditStreamHeadRow(SQLModel, table=True):
    """The last row of each audit stream: appends lock it, checkpoints read it."""

    __tablename__ = "audit_stream_head"

    stream: str = Field(primary_key=True, max_length=120)
    sequence: int
    hash: str = Field(max_length=64)


class AuditCheckpointRow(SQLModel, table=True):
    """A signed Merkle root over all stream heads at one moment."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _ts()
    merkle_root: str = Field(max_length=64)
    stream_count: int
    heads: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    signature: str = Field(max_length=200)
    public_key: str = Field(max_length=100)


class OutboxRow(SQLModel, table=True):
    """Notifications written in the same transaction as the event that causes them.

    status: pending → sent; retrying after a failed attempt; held for a digest → digested.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    event_key: str = Field(index=True, max_length=200)
    kind: str = Field(default="", max_length=40)
    user_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", index=True, max_length=16)
    unsubscribe_url: str = Field(default="", max_length=1000)
    recipient: str = Field(max_length=320)
    language: str = Field(default="en", max_length=8)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str
    # An iCalendar invitation (text/calendar) sent with the message, if any.
    calendar: str | None = None
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    last_error: str | None = None


class ActionLinkUseRow(SQLModel, table=True):
    """A signed action link, once used; the primary key makes a link single-use."""

    __tablename__ = "action_link_use"

    link_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=64)
    issue_id: str = Field(max_length=64)
    used_at: datetime = _ts()


class MappingEntryRow(SQLModel, table=True):
    """ISCG mapping table: who is responsible for a topic of common interest, per sector."""

    __tablename__ = "mapping_entry"
    __table_args__ = (UniqueConstraint("topic", "sector_code", name="uq_mapping_topic_sector"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=200, index=True)
    theme_code: str | None = Field(default=None, foreign_key="theme.code", max_length=64)
    sector_code: str = Field(foreign_key="sector.code", max_length=16)
    entity: str = Field(max_length=200)
    contact: str = Field(default="", max_length=320)
    updated_at: datetime = _ts()


class MeetingRow(SQLModel, table=True):
    """A task-force meeting; numbers continue the real sequence (past ones are records)."""

    __tablename__ = "meeting"

    number: int = Field(primary_key=True)
    title: str = Field(max_length=200)
    starts_at: datetime = _ts(index=True)
    place: str = Field(default="", max_length=200)
    virtual_link: str = Field(default="", max_length=500)
    state: str = Field(max_length=32, index=True)
    historical: bool = False
    agenda_sent_at: datetime | None = _ts(nullable=True)
    held_at: datetime | None = _ts(nullable=True)
    minutes_recorded_at: datetime | None = _ts(nullable=True)
    version: int = 1
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class AgendaItemRow(SQLModel, table=True):
    """One item of a meeting's agenda and, once taken, its decision."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_number", "item_id", name="uq_agenda_item"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_number: int = Field(foreign_key="meeting.number", index=True)
    item_id: str = Field(max_length=80)
    position: int
    kind: str = Field(max_length=32)  # "issue" or "theme_update"
    issue_id: str | None = Field(default=None, max_length=64, index=True)
    theme_code: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=300)
    outcome: str | None = Field(default=None, max_length=32)
    decision_text: str | None = None


class RecommendationRow(SQLModel, table=True):
    """An oversight recommendation as its workflow last recorded it (both status axes)."""

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("source", "symbol", "number", name="uq_recommendation_key"),
        # The compliance dashboard groups and filters on these (docs/recommendations.md).
        Index("ix_recommendation_source_year", "source", "report_year"),
        Index("ix_recommendation_theme_states", "theme_code", "acceptance", "implementation"),
        Index("ix_recommendation_states_target", "acceptance", "implementation", "target_date"),
        Index("ix_recommendation_owner_states", "owner_id", "acceptance", "implementation"),
        Index("ix_recommendation_priority_states", "priority", "acceptance", "implementation"),
    )

    id: str = Field(primary_key=True, max_length=160)
    source: str = Field(max_length=32)
    symbol: str = Field(max_length=64)
    number: int
    report_year: int
    issued_on: date
    title: str = Field(max_length=200)
    text: str
    addressee: str = Field(max_length=32)
    owner_id: str = Field(foreign_key="app_user.id", max_length=64)
    theme_code: str = Field(foreign_key="theme.code", max_length=64)
    priority: str = Field(max_length=16)
    target_date: date | None = None
    acceptance: str = Field(max_length=32)
    implementation: str = Field(max_length=32)
    progress: int = 0
    acceptance_comment: str | None = None
    closure_justification: str | None = None
    verification_note: str | None = None
    return_reason: str | None = None
    # The key issue opened because the recommendation was overdue with high priority.
    escalation_issue_id: str | None = Field(default=None, max_length=64)
    long_outstanding_at: datetime | None = _ts(nullable=True)
    version: int
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ProgressUpdateRow(SQLModel, table=True):
    """A progress report or implementation claim by a recommendation's owner."""

    __tablename__ = "progress_update"

    id: str = Field(primary_key=True, max_length=200)  # the event's key
    recommendation_id: str = Field(foreign_key="recommendation.id", index=True, max_length=160)
    kind: str = Field(max_length=32)  # the event's name
    percentage: int
    narrative: str
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor_id: str = Field(max_length=64)
    created_at: datetime = _ts()


class RiskRow(SQLModel, table=True):
    """A risk of the organisation's register, scored before and after treatment."""

    __tablename__ = "risk"

    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=200)
    description: str
    owner_id: str = Field(foreign_key="app_user.id", max_length=64)
    inherent_likelihood: int
    inherent_impact: int
    residual_likelihood: int
    residual_impact: int
    inherent_score: int
    residual_score: int = Field(index=True)
    treatment: str
    version: int = 1
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class RecommendationRiskRow(SQLModel, table=True):
    """A recommendation mitigates a risk."""

    __tablename__ = "recommendation_risk"

    recommendation_id: str = Field(
        foreign_key="recommendation.id", primary_key=True, max_length=160
    )
    risk_id: str = Field(foreign_key="risk.id", primary_key=True, index=True, max_length=32)
