"""Commands on a recommendation: what the secretariat, its owner, an auditor or the system do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.recommendation_terms import (
    Acceptance,
    Code,
    Implementation,
    Link,
    RecordData,
    ReminderKind,
    SourceBody,
    Symbol,
    Text,
    recommendation_id,
)


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateRecommendation(_Command):
    """Record a recommendation; an import may give the state it has already reached."""

    kind: Literal["create"] = "create"
    source: SourceBody
    symbol: Symbol
    number: int = Field(ge=1, le=9999)
    record: RecordData
    acceptance: Acceptance = Acceptance.UNDER_CONSIDERATION
    implementation: Implementation = Implementation.NOT_STARTED
    progress: int = Field(default=0, ge=0, le=100)
    justification: Text | None = None

    @property
    def recommendation_id(self) -> str:
        return recommendation_id(self.source, self.symbol, self.number)


class UpdateRecord(_Command):
    """Replace the record's data; the status axes are left as they are."""

    kind: Literal["update_record"] = "update_record"
    record: RecordData


class RecordAcceptance(_Command):
    kind: Literal["record_acceptance"] = "record_acceptance"
    acceptance: Acceptance
    comment: Text | None = None


class ReportProgress(_Command):
    kind: Literal["report_progress"] = "report_progress"
    percentage: int = Field(ge=0, le=100)
    narrative: Text
    evidence: tuple[Link, ...] = Field(default=(), max_length=20)


class ClaimImplemented(_Command):
    kind: Literal["claim_implemented"] = "claim_implemented"
    narrative: Text
    evidence: tuple[Link, ...] = Field(min_length=1, max_length=20)


class VerifyImplementation(_Command):
    kind: Literal["verify"] = "verify"
    note: Text | None = None


class ReturnToInProgress(_Command):
    kind: Literal["return_to_in_progress"] = "return_to_in_progress"
    reason: Text


class CloseRecommendation(_Command):
    kind: Literal["close"] = "close"
    outcome: Literal[Implementation.OVERTAKEN_BY_EVENTS, Implementation.NOT_IMPLEMENTED]
    justification: Text


class SendReminder(_Command):
    """Taken by the system on a timer: records that the owner was reminded."""

    kind: Literal["send_reminder"] = "send_reminder"
    reminder: ReminderKind
    days_before: int | None = None


class MarkLongOutstanding(_Command):
    kind: Literal["mark_long_outstanding"] = "mark_long_outstanding"


class LinkEscalationIssue(_Command):
    """Records the key issue the system opened because the recommendation is overdue."""

    kind: Literal["link_escalation_issue"] = "link_escalation_issue"
    issue_id: Code


class RecordEscalationFailure(_Command):
    kind: Literal["escalation_failed"] = "escalation_failed"
    reason: Text


RecommendationCommand = (
    UpdateRecord
    | RecordAcceptance
    | ReportProgress
    | ClaimImplemented
    | VerifyImplementation
    | ReturnToInProgress
    | CloseRecommendation
    | SendReminder
    | MarkLongOutstanding
    | LinkEscalationIssue
    | RecordEscalationFailure
)
