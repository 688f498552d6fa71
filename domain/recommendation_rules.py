"""Who may send which command to a recommendation, and what its data must satisfy."""

from __future__ import annotations

from enum import StrEnum

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
from domain.recommendation_terms import (
    ACCEPTING,
    CLOSURES,
    DECLINED,
    Acceptance,
    Implementation,
)
from domain.roles import Actor, Role


def authorise(owner_id: str, command: RecommendationCommand, actor: Actor) -> None:
    """Raise PermissionDenied unless `actor` may send `command` (owned by `owner_id`)."""
    role = actor.role
    owner = actor.id == owner_id
    match command:
        case UpdateRecord() | RecordAcceptance():
            if role is not Role.SECRETARIAT:
                raise PermissionDenied(
                    "only the secretariat manages recommendation records and acceptance"
                )
        case ReportProgress() | ClaimImplemented():
            if not owner:
                raise PermissionDenied(
                    f"only the recommendation's owner ({owner_id}) may report "
                    "its progress or claim its implementation"
                )
        case VerifyImplementation() | ReturnToInProgress():
            if role is not Role.AUDITOR:
                raise PermissionDenied("only an auditor may verify an implementation or return it")
        case CloseRecommendation():
            if not (owner or role is Role.SECRETARIAT):
                raise PermissionDenied(
                    "only the owner or the secretariat may close a recommendation"
                )
        case (
            SendReminder()
            | MarkLongOutstanding()
            | LinkEscalationIssue()
            | RecordEscalationFailure()
        ):
            if role is not Role.SYSTEM:
                raise PermissionDenied("this step is taken by the system only")


def check_initial_state(command: CreateRecommendation) -> None:
    """The state an import may start from must be one the lifecycle could have reached."""
    acceptance, implementation = command.acceptance, command.implementation
    if implementation is Implementation.VERIFIED:
        raise InvalidCommand(
            "only an auditor verifies an implementation: record it as implemented, "
            "and the auditor verifies it",
            field="implementation",
        )
    if acceptance not in ACCEPTING and implementation is not Implementation.NOT_STARTED:
        raise InvalidCommand(
            f"a recommendation that is {acceptance.value} has no implementation to follow; "
            "leave implementation as not_started",
            field="implementation",
        )
    if acceptance not in ACCEPTING and command.progress:
        raise InvalidCommand(
            f"a recommendation that is {acceptance.value} has no progress", field="progress"
        )
    needs_reason = acceptance in DECLINED or implementation in CLOSURES
    if needs_reason and command.justification is None:
        what = acceptance.value if acceptance in DECLINED else implementation.value
        raise InvalidCommand(
            f"a recommendation {what} needs a justification", field="justification"
        )


def validate(command: RecommendationCommand) -> None:
    if isinstance(command, RecordAcceptance):
        if command.acceptance is Acceptance.UNDER_CONSIDERATION:
            raise InvalidCommand(
                "record a decision: accepted, partially_accepted, not_accepted or not_relevant",
                field="acceptance",
            )
        if command.acceptance in DECLINED and command.comment is None:
            raise InvalidCommand(
                f"say why the recommendation is {command.acceptance.value}", field="comment"
            )


def illegal(
    action: str,
    axis: str,
    state: StrEnum,
    allowed: frozenset[Acceptance] | frozenset[Implementation],
) -> IllegalTransition:
    names = sorted(s.value for s in allowed)
    return IllegalTransition(
        action=action,
        state=state.value,
        allowed_states=names,
        message=f"cannot {action.replace('_', ' ')} while the recommendation's {axis} is "
        f"{state.value}; allowed only when it is {', '.join(names)}",
    )
