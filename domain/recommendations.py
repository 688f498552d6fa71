"""The oversight recommendation aggregate: its transition table, events and rules (DESIGN §3).

Acceptance and implementation are separate axes, as in the JIU's tracking system: management
accepts (or not) a recommendation; its owner then implements it, and the oversight body's
liaison (an auditor) verifies the claim. Pure: the current time and the policy are arguments.
`Recommendation.handle(command, actor, now, policy)` returns the new value and its one event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import IllegalTransition, InvalidCommand, PermissionDenied
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    CreateRecommendation,
    LinkEscalationIssue,
    MarkLongOutstanding,
    RecommendationCommand,
    RecordAcceptance,
    RecordEscalationFailure,
    ReportProgress,
    ReturnToInProgress,
    SendReminder,
    UpdateRecord,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_rules import authorise, check_initial_state, illegal, validate
from domain.recommendation_terms import (
    ACCEPTING,
    ALL_ACCEPTANCE,
    ALL_IMPLEMENTATION,
    DECLINED,
    OPEN_ACCEPTANCE,
    OPEN_IMPLEMENTATION,
    UNDER_WAY,
    Acceptance,
    Implementation,
    RecordData,
    ReminderKind,
    SourceBody,
    is_open,
    slug,
)
from domain.roles import Actor, Role


class Allowed(BaseModel):
    """The states of both axes a command may be taken from."""

    model_config = ConfigDict(frozen=True)

    acceptance: frozenset[Acceptance]
    implementation: frozenset[Implementation]


# The transition table: for each command, where each axis must stand.
ALLOWED_FROM: dict[str, Allowed] = {
    "update_record": Allowed(acceptance=OPEN_ACCEPTANCE, implementation=OPEN_IMPLEMENTATION),
    "record_acceptance": Allowed(
        acceptance=frozenset({Acceptance.UNDER_CONSIDERATION}),
        implementation=frozenset({Implementation.NOT_STARTED}),
    ),
    "report_progress": Allowed(acceptance=ACCEPTING, implementation=UNDER_WAY),
    "claim_implemented": Allowed(acceptance=ACCEPTING, implementation=UNDER_WAY),
    "verify": Allowed(acceptance=ACCEPTING, implementation=frozenset({Implementation.IMPLEMENTED})),
    "return_to_in_progress": Allowed(
        acceptance=ACCEPTING, implementation=frozenset({Implementation.IMPLEMENTED})
    ),
    "close": Allowed(acceptance=ACCEPTING, implementation=UNDER_WAY),
    "send_reminder": Allowed(acceptance=ACCEPTING, implementation=UNDER_WAY),
    "mark_long_outstanding": Allowed(
        acceptance=OPEN_ACCEPTANCE, implementation=OPEN_IMPLEMENTATION
    ),
    # Facts about an issue already opened: recorded whatever happened meanwhile.
    "link_escalation_issue": Allowed(acceptance=ALL_ACCEPTANCE, implementation=ALL_IMPLEMENTATION),
    "escalation_failed": Allowed(acceptance=ALL_ACCEPTANCE, implementation=ALL_IMPLEMENTATION),
}

EVENT_NAMES: dict[str, str] = {
    "create": "RecommendationRecorded",
    "update_record": "RecordUpdated",
    "record_acceptance": "AcceptanceRecorded",
    "report_progress": "ProgressReported",
    "claim_implemented": "ImplementationClaimed",
    "verify": "ImplementationVerified",
    "return_to_in_progress": "ReturnedToInProgress",
    "close": "RecommendationClosed",
    "send_reminder": "ReminderSent",
    "mark_long_outstanding": "BecameLongOutstanding",
    "link_escalation_issue": "EscalationIssueOpened",
    "escalation_failed": "EscalationIssueFailed",
}


class RecommendationEvent(BaseModel):
    """One recorded step. `axis` names the status axis `from_state` and `to_state` belong to."""

    model_config = ConfigDict(frozen=True)

    recommendation_id: str
    sequence: int
    name: str
    actor_id: str
    actor_role: Role
    at: datetime
    axis: Literal["acceptance", "implementation"]
    from_state: str | None
    to_state: str
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def stream(self) -> str:
        return self.recommendation_id

    @property
    def key(self) -> str:
        return f"{self.stream}#{self.sequence}"


class Recommendation(BaseModel):
    """The state of one recommendation. Immutable: every command returns a new value."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: SourceBody
    symbol: str
    number: int
    record: RecordData
    acceptance: Acceptance
    implementation: Implementation
    progress: int = 0
    # The owner's last reported percentage: what progress returns to if a claim is refused.
    reported_progress: int = 0
    acceptance_comment: str | None = None
    closure_justification: str | None = None
    verification_note: str | None = None
    return_reason: str | None = None
    # What the follow-up timers need.
    target_at: datetime | None = None
    target_set_at: datetime | None = None
    reminders_sent: tuple[int, ...] = ()
    overdue_reminders_sent: int = 0
    last_overdue_reminder_at: datetime | None = None
    long_outstanding_at: datetime | None = None
    escalation_issue_id: str | None = None
    escalation_failure: str | None = None
    created_by: str
    version: int = 1
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return is_open(self.acceptance, self.implementation)

    @property
    def awaits_implementation(self) -> bool:
        """Accepted, and its owner has yet to implement it: reminders and overdue apply."""
        return self.acceptance in ACCEPTING and self.implementation in UNDER_WAY

    @property
    def issue_origin(self) -> str:
        """The `origin` of a key issue opened on this recommendation's behalf."""
        return f"recommendation:{self.id}"

    # -- creation -------------------------------------------------------------------------

    @staticmethod
    def check_create(command: CreateRecommendation, actor: Actor) -> None:
        """Raise PermissionDenied or InvalidCommand unless `command` may create a record."""
        if actor.role is not Role.SECRETARIAT:
            raise PermissionDenied("only the secretariat records recommendations")
        if not slug(command.symbol):
            raise InvalidCommand(
                "the report symbol needs at least one latin letter or digit", field="symbol"
            )
        check_initial_state(command)

    @classmethod
    def create(
        cls,
        command: CreateRecommendation,
        actor: Actor,
        now: datetime,
        policy: RecommendationPolicy,
    ) -> tuple[Recommendation, RecommendationEvent]:
        cls.check_create(command, actor)
        record = command.record
        done = command.implementation is Implementation.IMPLEMENTED
        declined = command.acceptance in DECLINED
        rec = cls(
            id=command.recommendation_id,
            source=command.source,
            symbol=command.symbol,
            number=command.number,
            record=record,
            acceptance=command.acceptance,
            implementation=command.implementation,
            progress=100 if done else command.progress,
            reported_progress=command.progress,
            acceptance_comment=command.justification if declined else None,
            closure_justification=None if declined else command.justification,
            target_at=_target_at(record, policy, now),
            target_set_at=now,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        data = {
            **record_values(record),
            "source": rec.source.value,
            "symbol": rec.symbol,
            "number": rec.number,
            "acceptance": rec.acceptance.value,
            "implementation": rec.implementation.value,
            "progress": rec.progress,
            "justification": command.justification,
        }
        event = RecommendationEvent(
            recommendation_id=rec.id,
            sequence=1,
            name=EVENT_NAMES["create"],
            actor_id=actor.id,
            actor_role=actor.role,
            at=now,
            axis="implementation",
            from_state=None,
            to_state=rec.implementation.value,
            data=data,
        )
        return rec, event

    def check_repeat(self, command: CreateRecommendation, actor: Actor) -> None:
        """A repeated creation is answered with the record as it is, if it is the same one."""
        if actor.role is not Role.SECRETARIAT:
            raise PermissionDenied("only the secretariat records recommendations")
        if (command.source, command.symbol, command.number) != (
            self.source,
            self.symbol,
            self.number,
        ):
            raise IllegalTransition(
                action="create",
                state=self.implementation.value,
                allowed_states=[],
                message=f"the id '{self.id}' is taken by {self.symbol} recommendation "
                f"{self.number}; give this report symbol a distinct spelling",
            )

    # -- rules ------------------------------------------------------------------------------

    def already_applied(self, command: RecommendationCommand) -> bool:
        """True for a command that would change nothing (a record sent again unchanged)."""
        if isinstance(command, UpdateRecord):
            return command.record == self.record
        if isinstance(command, LinkEscalationIssue):
            return command.issue_id == self.escalation_issue_id
        return False

    def check(self, command: RecommendationCommand, actor: Actor) -> None:
        """Raise PermissionDenied, IllegalTransition or InvalidCommand if `command` may not run."""
        authorise(self.record.owner_id, command, actor)
        allowed = ALLOWED_FROM[command.kind]
        if self.acceptance not in allowed.acceptance:
            raise illegal(command.kind, "acceptance", self.acceptance, allowed.acceptance)
        if self.implementation not in allowed.implementation:
            raise illegal(
                command.kind, "implementation", self.implementation, allowed.implementation
            )
        validate(command)

    # -- transitions --------------------------------------------------------------------------

    def handle(
        self,
        command: RecommendationCommand,
        actor: Actor,
        now: datetime,
        policy: RecommendationPolicy,
    ) -> tuple[Recommendation, RecommendationEvent]:
        """Apply `command`; return the new recommendation and the event recording the step."""
        self.check(command, actor)
        changes, data = self._changes(command, now, policy)
        new = self.model_copy(update={**changes, "version": self.version + 1, "updated_at": now})
        acceptance_step = isinstance(command, RecordAcceptance)
        event = RecommendationEvent(
            recommendation_id=self.id,
            sequence=new.version,
            name=EVENT_NAMES[command.kind],
            actor_id=actor.id,
            actor_role=actor.role,
            at=now,
            axis="acceptance" if acceptance_step else "implementation",
            from_state=(self.acceptance if acceptance_step else self.implementation).value,
            to_state=(new.acceptance if acceptance_step else new.implementation).value,
            data=data,
        )
        return new, event

    def _changes(
        self, command: RecommendationCommand, now: datetime, policy: RecommendationPolicy
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        match command:
            case UpdateRecord(record=record):
                return self._record_changes(record, now, policy)
            case RecordAcceptance(acceptance=acceptance, comment=comment):
                return (
                    {"acceptance": acceptance, "acceptance_comment": comment},
                    {"acceptance": acceptance.value, "comment": comment},
                )
            case ReportProgress(percentage=percentage, narrative=narrative, evidence=evidence):
                return (
                    {
                        "implementation": Implementation.IN_PROGRESS,
                        "progress": percentage,
                        "reported_progress": percentage,
                    },
                    {"percentage": percentage, "narrative": narrative, "evidence": list(evidence)},
                )
            case ClaimImplemented(narrative=narrative, evidence=evidence):
                return (
                    {"implementation": Implementation.IMPLEMENTED, "progress": 100},
                    {"percentage": 100, "narrative": narrative, "evidence": list(evidence)},
                )
            case VerifyImplementation(note=note):
                return {"implementation": Implementation.VERIFIED, "verification_note": note}, {
                    "note": note
                }
            case ReturnToInProgress(reason=reason):
                return (
                    {
                        "implementation": Implementation.IN_PROGRESS,
                        "progress": self.reported_progress,
                        "return_reason": reason,
                    },
                    {"reason": reason, "percentage": self.reported_progress},
                )
            case CloseRecommendation(outcome=outcome, justification=justification):
                return (
                    {"implementation": outcome, "closure_justification": justification},
                    {"outcome": outcome.value, "justification": justification},
                )
            case SendReminder():
                return self._reminder_changes(command, now, policy)
            case MarkLongOutstanding():
                years = policy.long_outstanding_years
                issued = self.record.issued_on.isoformat()
                return {"long_outstanding_at": now}, {"issued_on": issued, "years": years}
            case LinkEscalationIssue(issue_id=issue_id):
                return {"escalation_issue_id": issue_id}, {"issue_id": issue_id}
            case RecordEscalationFailure(reason=reason):
                return {"escalation_failure": reason}, {"reason": reason}

    def _record_changes(
        self, record: RecordData, now: datetime, policy: RecommendationPolicy
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        before, after = record_values(self.record), record_values(record)
        diff = {
            name: {"from": before[name], "to": value}
            for name, value in after.items()
            if before[name] != value
        }
        changes: dict[str, Any] = {"record": record}
        if record.target_date != self.record.target_date:
            changes.update(
                target_at=_target_at(record, policy, self.created_at),
                target_set_at=now,
                reminders_sent=(),
                overdue_reminders_sent=0,
                last_overdue_reminder_at=None,
            )
        if record.issued_on != self.record.issued_on:
            changes["long_outstanding_at"] = None
        if (record.owner_id, record.theme) != (self.record.owner_id, self.record.theme):
            changes["escalation_failure"] = None  # worth another attempt
        return changes, {"changes": diff}

    def _reminder_changes(
        self, command: SendReminder, now: datetime, policy: RecommendationPolicy
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"reminder": command.reminder.value}
        if command.reminder is ReminderKind.DUE:
            data["days_before"] = command.days_before
            sent = (*self.reminders_sent, command.days_before or 0)
            return {"reminders_sent": sent}, data
        count = self.overdue_reminders_sent + 1
        data["count"] = count
        data["copy_secretariat"] = count > policy.overdue_reminders_before_copy
        return {"overdue_reminders_sent": count, "last_overdue_reminder_at": now}, data


def record_values(record: RecordData) -> dict[str, Any]:
    """The record as JSON-ready values (dates as ISO text, risk ids as a list)."""
    return record.model_dump(mode="json")


def _target_at(
    record: RecordData, policy: RecommendationPolicy, anchor: datetime
) -> datetime | None:
    if record.target_date is None:
        return None
    return policy.moment(record.target_date, anchor)
