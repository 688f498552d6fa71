"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from domain.calendar import EARLIEST_MOMENT, LATEST_MOMENT, within_calendar
from domain.issues import DecisionOutcome, Issue, IssueState
from domain.roles import Role
from storage.db import utc, utc_or_none
from storage.models import AuditEventRow, CommentRow, IssueRow

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _in_calendar(moment: datetime) -> datetime:
    if not within_calendar(moment):
        raise ValueError(
            f"must lie between {EARLIEST_MOMENT:%Y-%m-%d} and {LATEST_MOMENT:%Y-%m-%d}"
        )
    return moment


# Ids and numbers in paths and bodies that reach the database: its INTEGER columns hold no
# more (32 bits on PostgreSQL).
SQL_INTEGER_MAX = 2**31 - 1
# Ids and meeting numbers start at 1.
RowId = Annotated[int, Path(ge=1, le=SQL_INTEGER_MAX)]


# A deadline or meeting date: with a time zone, and within the business calendar's years.
Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RaiseIssueBody(_Body):
    title: Title
    description: Text
    theme: Code
    sector: Code | None = Field(default=None, description="the author's sector when omitted")
    id: uuid.UUID | None = Field(
        default=None,
        description="client-chosen id; sending the same id again returns the same issue",
    )


class CommentBody(_Body):
    body: Text


class ResolveBody(_Body):
    resolution: Text


class EscalationRequestBody(_Body):
    reason: Text


class ApproveBody(_Body):
    note: Text | None = None


class ReturnBody(_Body):
    reason: Text
    new_deadline: Moment | None = Field(
        default=None, description="new discussion deadline; the policy's default when omitted"
    )


class DecisionBody(_Body):
    outcome: DecisionOutcome
    text: Text
    new_deadline: Moment | None = Field(
        default=None, description="for referred_back: the new discussion deadline"
    )


class CloseBody(_Body):
    note: Text | None = None


class WithdrawBody(_Body):
    reason: Text


class DeadlineBody(_Body):
    deadline: Moment = Field(description="the new discussion deadline (with a time zone)")
    reason: Text | None = None


class IssuePublic(BaseModel):
    id: str
    title: str
    description: str
    theme: str
    sector: str
    author_id: str
    state: IssueState
    level: int
    requested_level: int | None
    discussion_deadline: datetime | None
    resolution: str | None
    decision: str | None
    decision_outcome: DecisionOutcome | None
    origin: str | None = Field(
        default=None, description="what raised the issue when not a person, e.g. a recommendation"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_issue(cls, issue: Issue) -> IssuePublic:
        return cls.model_validate(issue.model_dump(exclude={"ladder", "policy"}))

    @classmethod
    def from_row(cls, row: IssueRow) -> IssuePublic:
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            theme=row.theme_code,
            sector=row.sector_code,
            author_id=row.author_id,
            state=IssueState(row.state),
            level=row.level,
            requested_level=row.requested_level,
            discussion_deadline=utc_or_none(row.discussion_deadline),
            resolution=row.resolution,
            decision=row.decision,
            decision_outcome=DecisionOutcome(row.decision_outcome)
            if row.decision_outcome
            else None,
            origin=row.origin,
            version=row.version,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
        )


class IssueList(BaseModel):
    items: list[IssuePublic]
    total: int
    limit: int
    offset: int


class CommentPublic(BaseModel):
    id: str
    author_id: str
    author_role: Role
    body: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: CommentRow) -> CommentPublic:
        return cls(
            id=row.id,
            author_id=row.author_id,
            author_role=Role(row.author_role),
            body=row.body,
            created_at=utc(row.created_at),
        )


class AuditEntryPublic(BaseModel):
    sequence: int
    action: str
    actor_id: str
    actor_role: Role
    from_state: str | None
    to_state: str | None
    payload: dict[str, Any]
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEntryPublic:
        return cls(
            sequence=row.sequence,
            action=row.action,
            actor_id=row.actor_id,
            actor_role=Role(row.actor_role),
            from_state=row.from_state,
            to_state=row.to_state,
            payload=row.payload,
            occurred_at=utc(row.occurred_at),
        )


class IssueDetail(IssuePublic):
    comments: list[CommentPublic]
    audit_trail: list[AuditEntryPublic]


class MePublic(BaseModel):
    id: str
    name: str
    email: str
    role: Role
    sector: str | None
    themes: list[str]
    language: str


class ThemePublic(BaseModel):
    code: str
    name: str


class SectorPublic(BaseModel):
    code: str
    name: str
    bureau: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    model_config = ConfigDict(extra="allow")


class ErrorResponse(BaseModel):
    error: ErrorDetail
