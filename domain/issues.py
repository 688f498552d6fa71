"""The key-issue aggregate: its states, commands, events and transition table (DESIGN §3).

Every method is pure: the current time is an argument and nothing is read from a clock.
`Issue.handle(command, actor, now)` checks the actor's right and the transition, and returns
the new issue together with the one event that records the step.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from domain.errors import IllegalTransition, InvalidCommand, PermissionDenied
from domain.ladder import DEFAULT_LADDER, Ladder
from domain.policy import IssuePolicy
from domain.roles import Actor, Role


class IssueState(StrEnum):
    OPEN = "open"
    ESCALATION_REQUESTED = "escalation_requested"
    ESCALATED = "escalated"
    DECIDED = "decided"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


TERMINAL_STATES = frozenset({IssueState.CLOSED, IssueState.WITHDRAWN})


class ReminderKind(StrEnum):
    DISCUSSION = "discussion"  # to the focal points, before the discussion deadline
    APPROVAL_PENDING = "approval_pending"  # to the approver of a pending escalation request


class DecisionOutcome(StrEnum):
    RESOLVED = "resolved"
    REFERRED_BACK = "referred_back"
    ESCALATED_FURTHER = "escalated_further"
    DEFERRED = "deferred"


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RaiseIssue(_Command):
    kind: Literal["raise_issue"] = "raise_issue"
    issue_id: Code
    title: Title
    description: Text
    theme: Code
    sector: Code
    # Set when the system raises an issue on behalf of another entity (a recommendation).
    origin: Annotated[str, StringConstraints(max_length=200)] | None = None


class AddComment(_Command):
    kind: Literal["add_comment"] = "add_comment"
    body: Text


class ResolveIssue(_Command):
    kind: Literal["resolve"] = "resolve"
    resolution: Text


class RequestEscalation(_Command):
    kind: Literal["request_escalation"] = "request_escalation"
    reason: Text


class ApproveEscalation(_Command):
    kind: Literal["approve_escalation"] = "approve_escalation"
    note: Text | None = None


class ReturnEscalation(_Command):
    kind: Literal["return_escalation"] = "return_escalation"
    reason: Text
    new_deadline: AwareDatetime | None = None


class RecordDecision(_Command):
    kind: Literal["record_decision"] = "record_decision"
    outcome: DecisionOutcome
    text: Text
    new_deadline: AwareDatetime | None = None
    # Identifies the decision where it was taken (a meeting's agenda item): delivering the
    # same decision twice records it once.
    reference: Annotated[str, StringConstraints(max_length=120)] | None = None


class CloseIssue(_Command):
    kind: Literal["close"] = "close"
    note: Text | None = None


class WithdrawIssue(_Command):
    kind: Literal["withdraw"] = "withdraw"
    reason: Text


class SetDeadline(_Command):
    kind: Literal["set_deadline"] = "set_deadline"
    deadline: AwareDatetime
    reason: Text | None = None


class SendReminder(_Command):
    """Taken by the system on a timer: records that a reminder went out."""

    kind: Literal["send_reminder"] = "send_reminder"
    reminder: ReminderKind
    days_before: int | None = None


IssueCommand = (
    RaiseIssue
    | AddComment
    | ResolveIssue
    | RequestEscalation
    | ApproveEscalation
    | ReturnEscalation
    | RecordDecision
    | CloseIssue
    | WithdrawIssue
    | SetDeadline
    | SendReminder
)


# The transition table: for each command, the states it may be taken from.
ALLOWED_FROM: dict[str, frozenset[IssueState]] = {
    "add_comment": frozenset(
        {
            IssueState.OPEN,
            IssueState.ESCALATION_REQUESTED,
            IssueState.ESCALATED,
            IssueState.DECIDED,
            IssueState.RESOLVED,
        }
    ),
    "resolve": frozenset({IssueState.OPEN}),
    "request_escalation": frozenset({IssueState.OPEN}),
    "approve_escalation": frozenset({IssueState.ESCALATION_REQUESTED}),
    "return_escalation": frozenset({IssueState.ESCALATION_REQUESTED}),
    "record_decision": frozenset({IssueState.ESCALATED}),
    "close": frozenset({IssueState.DECIDED, IssueState.RESOLVED}),
    "withdraw": frozenset({IssueState.OPEN}),
    "set_deadline": frozenset({IssueState.OPEN}),
    "send_reminder": frozenset({IssueState.OPEN, IssueState.ESCALATION_REQUESTED}),
}

# Event names, one per command (a decision's name depends on its outcome).
EVENT_NAMES: dict[str, str] = {
    "raise_issue": "IssueRaised",
    "add_comment": "CommentAdded",
    "resolve": "IssueResolved",
    "request_escalation": "EscalationRequested",
    "approve_escalation": "EscalationApproved",
    "return_escalation": "EscalationReturned",
    "record_decision": "DecisionRecorded",
    "close": "IssueClosed",
    "withdraw": "IssueWithdrawn",
    "set_deadline": "DeadlineChanged",
    "send_reminder": "ReminderSent",
}


class IssueEvent(BaseModel):
    """One recorded step of an issue: what happened, who did it, when, and why."""

    model_config = ConfigDict(frozen=True)

    issue_id: str
    sequence: int
    name: str
    actor_id: str
    actor_role: Role
    at: datetime
    from_state: IssueState | None
    to_state: IssueState
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def stream(self) -> str:
        return f"issue-{self.issue_id}"

    @property
    def key(self) -> str:
        """Idempotency key of the event: unique per stream and sequence."""
        return f"{self.stream}#{self.sequence}"


class Issue(BaseModel):
    """The state of one key issue. Immutable: every command returns a new value."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    description: str
    theme: str
    sector: str
    author_id: str
    state: IssueState
    level: int = 0
    requested_level: int | None = None
    discussion_deadline: datetime | None = None
    resolution: str | None = None
    decision: str | None = None
    decision_outcome: DecisionOutcome | None = None
    origin: str | None = None
    last_decision_reference: str | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime
    # What the reminder timers need (all empty on issues recorded before reminders existed).
    deadline_set_at: datetime | None = None
    last_activity_at: datetime | None = None
    last_reminder_at: datetime | None = None
    reminders_sent: tuple[int, ...] = ()
    escalation_requested_at: datetime | None = None
    approver_reminders_sent: int = 0
    ladder: Ladder = DEFAULT_LADDER
    policy: IssuePolicy = IssuePolicy()

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    # -- creation -------------------------------------------------------------------------

    @staticmethod
    def check_raise(command: RaiseIssue, actor: Actor) -> None:
        if actor.role is Role.SYSTEM and command.origin:
            return  # raised on behalf of the entity named in `origin`
        if not actor.is_focal_point_of(command.theme):
            raise PermissionDenied(
                f"only a focal point of theme '{command.theme}' may raise an issue in it"
            )

    @classmethod
    def raise_issue(
        cls,
        command: RaiseIssue,
        actor: Actor,
        now: datetime,
        *,
        ladder: Ladder = DEFAULT_LADDER,
        policy: IssuePolicy | None = None,
    ) -> tuple[Issue, IssueEvent]:
        cls.check_raise(command, actor)
        policy = policy or IssuePolicy()
        issue = cls(
            id=command.issue_id,
            title=command.title,
            description=command.description,
            theme=command.theme,
            sector=command.sector,
            author_id=actor.id,
            state=IssueState.OPEN,
            origin=command.origin,
            discussion_deadline=policy.discussion_deadline(now),
            deadline_set_at=now,
            created_at=now,
            updated_at=now,
            ladder=ladder,
            policy=policy,
        )
        event = IssueEvent(
            issue_id=issue.id,
            sequence=1,
            name=EVENT_NAMES["raise_issue"],
            actor_id=actor.id,
            actor_role=actor.role,
            at=now,
            from_state=None,
            to_state=IssueState.OPEN,
            data={
                "title": issue.title,
                "theme": issue.theme,
                "sector": issue.sector,
                "discussion_deadline": _iso(issue.discussion_deadline),
                **({"origin": issue.origin} if issue.origin else {}),
            },
        )
        return issue, event

    # -- rules ------------------------------------------------------------------------------

    def already_applied(self, command: IssueCommand) -> bool:
        """True for a decision delivered again from where it was taken."""
        return (
            isinstance(command, RecordDecision)
            and command.reference is not None
            and command.reference == self.last_decision_reference
        )

    def check(self, command: IssueCommand, actor: Actor, now: datetime | None = None) -> None:
        """Raise PermissionDenied, IllegalTransition or InvalidCommand if `command` may not run."""
        if self.already_applied(command):
            return
        if isinstance(command, RaiseIssue):
            # A repeated creation by its author is answered with the issue as it is; the id
            # is not free for anyone else.
            if actor.id != self.author_id:
                raise IllegalTransition(
                    action="raise_issue",
                    state=self.state.value,
                    allowed_states=[],
                    message=f"an issue with id '{self.id}' already exists",
                )
            return
        self._authorise(command, actor)
        allowed = ALLOWED_FROM[command.kind]
        if self.state not in allowed:
            raise IllegalTransition(
                action=command.kind,
                state=self.state.value,
                allowed_states=sorted(s.value for s in allowed),
            )
        self._validate(command, now)

    def _authorise(self, command: IssueCommand, actor: Actor) -> None:
        role = actor.role
        theme_fp = actor.is_focal_point_of(self.theme)
        match command:
            case AddComment():
                if not (theme_fp or role in {Role.CHAIR, Role.SECRETARIAT, Role.EXECUTIVE}):
                    raise PermissionDenied(
                        "only the theme's focal points, the chair, the secretariat or the "
                        "executive may comment on this issue"
                    )
            case ResolveIssue():
                if not theme_fp:
                    raise PermissionDenied("only a focal point of the theme may resolve the issue")
            case RequestEscalation():
                if not (theme_fp or role is Role.SYSTEM):
                    raise PermissionDenied("only a focal point of the theme may request escalation")
            case ApproveEscalation() | ReturnEscalation():
                # With no request pending, any approver may ask (and hears it is not pending).
                rungs = (
                    (self.ladder.level(self.requested_level),)
                    if self.requested_level is not None
                    else self.ladder.levels
                )
                roles = _roles(r.approver_roles for r in rungs)
                if role not in roles:
                    raise PermissionDenied(
                        f"only the {_who(roles)} may approve or return an escalation to this level"
                    )
            case RecordDecision():
                rungs = (
                    (self.ladder.level(self.level),)
                    if self.state is IssueState.ESCALATED and self.level
                    else self.ladder.levels
                )
                roles = _roles(r.decider_roles for r in rungs)
                if role not in roles:
                    raise PermissionDenied(f"only the {_who(roles)} may record a decision here")
            case CloseIssue():
                if not (role in {Role.CHAIR, Role.SECRETARIAT} or theme_fp):
                    raise PermissionDenied(
                        "only the chair, the secretariat or a focal point of the theme may close"
                    )
            case WithdrawIssue():
                if actor.id != self.author_id:
                    raise PermissionDenied("only the author may withdraw the issue")
            case SetDeadline():
                if role not in {Role.CHAIR, Role.SECRETARIAT}:
                    raise PermissionDenied("only the chair or the secretariat may move a deadline")
            case SendReminder():
                if role is not Role.SYSTEM:
                    raise PermissionDenied("reminders are sent by the system only")
            case RaiseIssue():
                pass

    def _validate(self, command: IssueCommand, now: datetime | None) -> None:
        if (
            isinstance(command, RecordDecision)
            and command.outcome is DecisionOutcome.ESCALATED_FURTHER
            and self.ladder.next_level(self.level) is None
        ):
            raise InvalidCommand(
                "the issue is already at the top of the escalation ladder", field="outcome"
            )
        if (
            isinstance(command, RecordDecision)
            and command.new_deadline is not None
            and command.outcome is not DecisionOutcome.REFERRED_BACK
        ):
            raise InvalidCommand(
                "a new deadline applies only to a decision that refers the issue back",
                field="new_deadline",
            )
        deadline = getattr(command, "new_deadline", None) or getattr(command, "deadline", None)
        if deadline is not None and now is not None and deadline <= now:
            field = "deadline" if isinstance(command, SetDeadline) else "new_deadline"
            raise InvalidCommand("the new deadline must be in the future", field=field)

    # -- transitions --------------------------------------------------------------------------

    def handle(
        self, command: IssueCommand, actor: Actor, now: datetime
    ) -> tuple[Issue, IssueEvent]:
        """Apply `command`; return the new issue and the event recording the step."""
        self.check(command, actor, now)
        changes, data = self._changes(command, now)
        new = self.model_copy(update={**changes, "version": self.version + 1, "updated_at": now})
        event = IssueEvent(
            issue_id=self.id,
            sequence=new.version,
            name=EVENT_NAMES[command.kind],
            actor_id=actor.id,
            actor_role=actor.role,
            at=now,
            from_state=self.state,
            to_state=new.state,
            data=data,
        )
        return new, event

    def _changes(
        self, command: IssueCommand, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        match command:
            case AddComment(body=body):
                return {"last_activity_at": now}, {"body": body}
            case ResolveIssue(resolution=text):
                return {"state": IssueState.RESOLVED, "resolution": text}, {"resolution": text}
            case RequestEscalation(reason=reason):
                target = self.level + 1
                return (
                    {
                        "state": IssueState.ESCALATION_REQUESTED,
                        "requested_level": target,
                        **_pending_from(now),
                    },
                    {"reason": reason, "level": target},
                )
            case ApproveEscalation(note=note):
                target = self.requested_level or self.level + 1
                return (
                    {"state": IssueState.ESCALATED, "level": target, "requested_level": None},
                    {"note": note, "level": target},
                )
            case ReturnEscalation(reason=reason, new_deadline=deadline):
                deadline = deadline or self.policy.discussion_deadline(now)
                return (
                    {
                        "state": IssueState.OPEN,
                        "level": 0,
                        "requested_level": None,
                        "discussion_deadline": deadline,
                        "reminders_sent": (),
                        "deadline_set_at": now,
                    },
                    {"reason": reason, "discussion_deadline": _iso(deadline)},
                )
            case RecordDecision():
                return self._decision_changes(command, now)
            case CloseIssue(note=note):
                return {"state": IssueState.CLOSED}, {"note": note}
            case WithdrawIssue(reason=reason):
                return {"state": IssueState.WITHDRAWN}, {"reason": reason}
            case SetDeadline(deadline=deadline, reason=reason):
                return (
                    {"discussion_deadline": deadline, "reminders_sent": (), "deadline_set_at": now},
                    {"discussion_deadline": _iso(deadline), "reason": reason},
                )
            case SendReminder():
                return self._reminder_changes(command, now)
            case RaiseIssue():
                raise IllegalTransition(
                    action="raise_issue", state=self.state.value, allowed_states=[]
                )

    def _decision_changes(
        self, command: RecordDecision, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"outcome": command.outcome.value, "text": command.text}
        base: dict[str, Any] = {
            "decision": command.text,
            "decision_outcome": command.outcome,
            "last_decision_reference": command.reference,
        }
        if command.reference is not None:
            data["reference"] = command.reference
        match command.outcome:
            case DecisionOutcome.RESOLVED:
                return {**base, "state": IssueState.DECIDED}, data
            case DecisionOutcome.REFERRED_BACK:
                deadline = command.new_deadline or self.policy.discussion_deadline(now)
                data["discussion_deadline"] = _iso(deadline)
                return (
                    {
                        **base,
                        "state": IssueState.OPEN,
                        "level": 0,
                        "discussion_deadline": deadline,
                        "reminders_sent": (),
                        "deadline_set_at": now,
                    },
                    data,
                )
            case DecisionOutcome.ESCALATED_FURTHER:
                target = self.level + 1
                data["level"] = target
                return (
                    {
                        **base,
                        "state": IssueState.ESCALATION_REQUESTED,
                        "requested_level": target,
                        **_pending_from(now),
                    },
                    data,
                )
            case DecisionOutcome.DEFERRED:
                return base, data

    def _reminder_changes(
        self, command: SendReminder, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"reminder": command.reminder.value}
        if command.reminder is ReminderKind.DISCUSSION:
            sent = (*self.reminders_sent, command.days_before or 0)
            data["days_before"] = command.days_before
            return {"reminders_sent": sent, "last_reminder_at": now}, data
        count = self.approver_reminders_sent + 1
        data["count"] = count
        data["copy_secretariat"] = count > self.policy.approver_reminders_before_copy
        return {"approver_reminders_sent": count, "last_reminder_at": now}, data


def _pending_from(now: datetime) -> dict[str, Any]:
    """A new escalation request starts its approver's reminder count afresh."""
    return {"escalation_requested_at": now, "approver_reminders_sent": 0, "last_reminder_at": None}


def _roles(groups: Iterable[tuple[Role, ...]]) -> tuple[Role, ...]:
    seen: dict[Role, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def _who(roles: tuple[Role, ...]) -> str:
    return " or ".join(r.value for r in roles) or "nobody"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
