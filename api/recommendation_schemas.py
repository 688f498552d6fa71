"""Request and response bodies of the recommendation endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import AuditEntryPublic
from domain.compliance import is_overdue, long_outstanding_cutoff
from domain.recommendation_commands import CreateRecommendation
from domain.recommendation_terms import (
    Acceptance,
    Addressee,
    Code,
    Day,
    Implementation,
    Link,
    Priority,
    RecordData,
    RiskRef,
    SourceBody,
    Symbol,
    Text,
    Title,
    is_open,
)
from domain.recommendations import Recommendation
from domain.risks import RiskLevel, level
from storage.db import utc, utc_or_none
from storage.models import ProgressUpdateRow, RecommendationRow, RiskRow


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordBody(_Body):
    """What the secretariat keeps about a recommendation."""

    issued_on: Day = Field(description="the day the report was issued (its year groups it)")
    title: Title
    text: Text = Field(description="the recommendation as the body wrote it")
    addressee: Addressee = Addressee.EXECUTIVE_HEAD
    owner: Code = Field(description="the id of the focal point who owns its implementation")
    theme: Code
    priority: Priority = Priority.MEDIUM
    target_date: Day | None = None
    risks: Annotated[list[RiskRef], Field(max_length=50)] = Field(
        default=[], description="ids of the risks it mitigates (from the risk register)"
    )

    def record(self) -> RecordData:
        return RecordData(
            issued_on=self.issued_on,
            title=self.title,
            text=self.text,
            addressee=self.addressee,
            owner_id=self.owner,
            theme=self.theme,
            priority=self.priority,
            target_date=self.target_date,
            risk_ids=tuple(self.risks),
        )


class CreateRecommendationBody(RecordBody):
    source: SourceBody
    symbol: Symbol = Field(description="the report's symbol, e.g. JIU/REP/2020/5")
    number: int = Field(ge=1, le=9999, description="the recommendation's number in the report")
    acceptance: Acceptance = Field(
        default=Acceptance.UNDER_CONSIDERATION, description="when recording an older one"
    )
    implementation: Implementation = Implementation.NOT_STARTED
    progress: int = Field(default=0, ge=0, le=100)
    justification: Text | None = Field(
        default=None, description="required for not_accepted, not_relevant and closures"
    )

    def command(self) -> CreateRecommendation:
        return CreateRecommendation(
            source=self.source,
            symbol=self.symbol,
            number=self.number,
            record=self.record(),
            acceptance=self.acceptance,
            implementation=self.implementation,
            progress=self.progress,
            justification=self.justification,
        )


class AcceptanceBody(_Body):
    acceptance: Acceptance
    comment: Text | None = Field(default=None, description="required when not accepted")


class ProgressBody(_Body):
    percentage: int = Field(ge=0, le=100)
    narrative: Text
    evidence: Annotated[list[Link], Field(max_length=20)] = []


class ImplementedBody(_Body):
    narrative: Text
    evidence: Annotated[list[Link], Field(min_length=1, max_length=20)] = Field(
        description="links to what shows the implementation, for the auditor to verify"
    )


class VerifyBody(_Body):
    note: Text | None = None


class ReturnBody(_Body):
    reason: Text


class ClosureBody(_Body):
    outcome: Literal[Implementation.OVERTAKEN_BY_EVENTS, Implementation.NOT_IMPLEMENTED]
    justification: Text


class Standing(BaseModel):
    """How late a recommendation is on a given day."""

    overdue: bool
    long_outstanding: bool


def standing(
    acceptance: Acceptance,
    implementation: Implementation,
    issued_on: date,
    target: date | None,
    *,
    today: date,
    years: int,
) -> Standing:
    cutoff = long_outstanding_cutoff(today, years)
    return Standing(
        overdue=is_overdue(acceptance, implementation, target, today),
        long_outstanding=is_open(acceptance, implementation) and issued_on <= cutoff,
    )


class RecommendationPublic(BaseModel):
    id: str
    source: SourceBody
    symbol: str
    number: int
    report_year: int
    issued_on: date
    title: str
    text: str
    addressee: Addressee
    owner: str
    theme: str
    priority: Priority
    target_date: date | None
    risks: list[str]
    acceptance: Acceptance
    implementation: Implementation
    progress: int
    acceptance_comment: str | None
    closure_justification: str | None
    verification_note: str | None
    return_reason: str | None
    overdue: bool = Field(description="accepted, not implemented, and past its target date")
    long_outstanding: bool = Field(description="open and issued more than N years ago")
    escalation_issue_id: str | None = Field(
        description="the key issue opened because it was overdue with high priority"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(
        cls, row: RecommendationRow, risks: list[str], *, today: date, years: int
    ) -> RecommendationPublic:
        acceptance, implementation = Acceptance(row.acceptance), Implementation(row.implementation)
        late = standing(
            acceptance, implementation, row.issued_on, row.target_date, today=today, years=years
        )
        return cls(
            id=row.id,
            source=SourceBody(row.source),
            symbol=row.symbol,
            number=row.number,
            report_year=row.report_year,
            issued_on=row.issued_on,
            title=row.title,
            text=row.text,
            addressee=Addressee(row.addressee),
            owner=row.owner_id,
            theme=row.theme_code,
            priority=Priority(row.priority),
            target_date=row.target_date,
            risks=risks,
            acceptance=acceptance,
            implementation=implementation,
            progress=row.progress,
            acceptance_comment=row.acceptance_comment,
            closure_justification=row.closure_justification,
            verification_note=row.verification_note,
            return_reason=row.return_reason,
            escalation_issue_id=row.escalation_issue_id,
            version=row.version,
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
            **late.model_dump(),
        )

    @classmethod
    def from_rec(cls, rec: Recommendation, *, today: date, years: int) -> RecommendationPublic:
        record = rec.record
        late = standing(
            rec.acceptance,
            rec.implementation,
            record.issued_on,
            record.target_date,
            today=today,
            years=years,
        )
        return cls(
            id=rec.id,
            source=rec.source,
            symbol=rec.symbol,
            number=rec.number,
            report_year=record.report_year,
            issued_on=record.issued_on,
            title=record.title,
            text=record.text,
            addressee=record.addressee,
            owner=record.owner_id,
            theme=record.theme,
            priority=record.priority,
            target_date=record.target_date,
            risks=list(record.risk_ids),
            acceptance=rec.acceptance,
            implementation=rec.implementation,
            progress=rec.progress,
            acceptance_comment=rec.acceptance_comment,
            closure_justification=rec.closure_justification,
            verification_note=rec.verification_note,
            return_reason=rec.return_reason,
            escalation_issue_id=rec.escalation_issue_id,
            version=rec.version,
            created_at=rec.created_at,
            updated_at=rec.updated_at,
            **late.model_dump(),
        )


class RecommendationList(BaseModel):
    items: list[RecommendationPublic]
    total: int
    limit: int
    offset: int


class RiskSummary(BaseModel):
    """A risk next to a recommendation that mitigates it."""

    id: str
    title: str
    residual_score: int
    residual_level: RiskLevel

    @classmethod
    def from_row(cls, row: RiskRow) -> RiskSummary:
        return cls(
            id=row.id,
            title=row.title,
            residual_score=row.residual_score,
            residual_level=level(row.residual_score),
        )


class ProgressPublic(BaseModel):
    kind: Literal["ProgressReported", "ImplementationClaimed"]
    percentage: int
    narrative: str
    evidence: list[str]
    actor_id: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: ProgressUpdateRow) -> ProgressPublic:
        return cls.model_validate(
            {
                "kind": row.kind,
                "percentage": row.percentage,
                "narrative": row.narrative,
                "evidence": row.evidence,
                "actor_id": row.actor_id,
                "created_at": utc_or_none(row.created_at),
            }
        )


class LinkedIssue(BaseModel):
    id: str
    title: str
    state: str


class RecommendationDetail(RecommendationPublic):
    risk_details: list[RiskSummary]
    progress_updates: list[ProgressPublic]
    escalation_issue: LinkedIssue | None
    audit_trail: list[AuditEntryPublic]
