"""SQLModel tables of the read model, the audit trail and the outbox.

The workflows are the single writers of issue state; these tables are what they persist
through activities, and what the API reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
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
