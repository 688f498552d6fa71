"""Builders shared by the domain unit tests: a fixed clock, a cast of actors, issues in any state.

Everything here is plain data or pure functions so it can feed `pytest.mark.parametrize`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssueCommand,
    IssuePolicy,
    IssueState,
    RaiseIssue,
    RecordDecision,
    ReminderKind,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SendReminder,
    SetDeadline,
    WithdrawIssue,
)
from domain.ladder import DEFAULT_LADDER, Ladder
from domain.roles import SYSTEM_ACTOR, Actor, Role

# A fixed, timezone-aware clock. Nothing in the unit tests reads the real one.
RAISED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = RAISED_AT + timedelta(days=3, hours=4)

THEME = "accessibility"
OTHER_THEME = "gender"
ISSUE_ID = "issue-42"

AUTHOR = Actor(id="fp-author", role=Role.FOCAL_POINT, themes=frozenset({THEME}))


def _cast() -> dict[str, Actor]:
    """One actor per role, plus the focal-point variants that matter to the rules.

    Non-focal-point humans are tagged with the issue's theme on purpose: a theme alone must
    confer nothing, only the focal-point role does. Built from `Role` so that a role added
    later is automatically part of every rights table (and denied unless the table says so).
    """
    actors: dict[str, Actor] = {
        "fp_author": AUTHOR,
        "fp_theme": Actor(
            id="fp-colleague", role=Role.FOCAL_POINT, themes=frozenset({THEME, OTHER_THEME})
        ),
        "fp_other_theme": Actor(
            id="fp-elsewhere", role=Role.FOCAL_POINT, themes=frozenset({OTHER_THEME})
        ),
    }
    for role in Role:
        if role is Role.FOCAL_POINT:
            continue
        if role is Role.SYSTEM:
            actors[role.value] = SYSTEM_ACTOR
        else:
            actors[role.value] = Actor(id=f"{role.value}-1", role=role, themes=frozenset({THEME}))
    return actors


ACTORS: dict[str, Actor] = _cast()


def raise_command(theme: str = THEME) -> RaiseIssue:
    return RaiseIssue(
        issue_id=ISSUE_ID,
        title="Captioning for remote participation",
        description="Remote sessions lack live captioning in all six languages.",
        theme=theme,
        sector="ITU-T",
    )


def make_issue(
    state: IssueState = IssueState.OPEN,
    *,
    level: int = 0,
    requested_level: int | None = None,
    version: int = 1,
    ladder: Ladder = DEFAULT_LADDER,
    policy: IssuePolicy | None = None,
    **extra: Any,
) -> Issue:
    """An issue raised by AUTHOR at RAISED_AT, then moved to `state` and the given levels."""
    issue, _ = Issue.raise_issue(raise_command(), AUTHOR, RAISED_AT, ladder=ladder, policy=policy)
    return issue.model_copy(
        update={
            "state": state,
            "level": level,
            "requested_level": requested_level,
            "version": version,
            **extra,
        }
    )


# Where an issue in each state plausibly sits on the default ladder.
TYPICAL_LEVELS: dict[IssueState, tuple[int, int | None]] = {
    IssueState.OPEN: (0, None),
    IssueState.ESCALATION_REQUESTED: (0, 1),
    IssueState.ESCALATED: (1, None),
    IssueState.DECIDED: (1, None),
    IssueState.RESOLVED: (0, None),
    IssueState.CLOSED: (1, None),
    IssueState.WITHDRAWN: (0, None),
}


def typical_issue(state: IssueState, *, version: int = 1) -> Issue:
    level, requested = TYPICAL_LEVELS[state]
    return make_issue(state, level=level, requested_level=requested, version=version)


# One valid command per command kind of the transition table.
SAMPLE_COMMANDS: dict[str, IssueCommand] = {
    "add_comment": AddComment(body="BDT agrees with the proposal."),
    "resolve": ResolveIssue(resolution="Captioning funded from the TSB budget."),
    "request_escalation": RequestEscalation(reason="No sector can fund it alone."),
    "approve_escalation": ApproveEscalation(note="On the next agenda."),
    "return_escalation": ReturnEscalation(reason="Ask the General Secretariat first."),
    "record_decision": RecordDecision(
        outcome=DecisionOutcome.RESOLVED, text="Fund captioning from 2027."
    ),
    "close": CloseIssue(note="Done."),
    "withdraw": WithdrawIssue(reason="Raised in error."),
    "set_deadline": SetDeadline(
        deadline=NOW + timedelta(days=14), reason="Waiting for the Council's input."
    ),
    "send_reminder": SendReminder(reminder=ReminderKind.DISCUSSION, days_before=3),
}


def actor_with_right(kind: str, issue: Issue) -> Actor:
    """An actor who holds the right to run `kind` on `issue`, so only the state can refuse it."""
    match kind:
        case "add_comment" | "resolve" | "request_escalation":
            return ACTORS["fp_theme"]
        case "approve_escalation" | "return_escalation":
            # The approver of the pending request or, with none pending, of the next level up
            # (of the top level when there is none above).
            if issue.requested_level is not None:
                rung = issue.ladder.level(issue.requested_level)
            else:
                rung = issue.ladder.next_level(issue.level) or issue.ladder.levels[-1]
            return actor_of_role(rung.approver_roles[0])
        case "record_decision":
            role = issue.ladder.level(issue.level or 1).decider_roles[0]
            return actor_of_role(role)
        case "close":
            return ACTORS["chair"]
        case "withdraw":
            return AUTHOR
        case "set_deadline":
            return ACTORS["chair"]
        case "send_reminder":
            return ACTORS[Role.SYSTEM.value]
    raise AssertionError(f"no actor known for command kind {kind!r}")


def actor_of_role(role: Role) -> Actor:
    if role is Role.FOCAL_POINT:
        return ACTORS["fp_theme"]
    return ACTORS[role.value]
