"""Who may do what to an issue: every command against every role (SYSTEM included).

Each case names the actors who hold the right; every other actor in the cast, which has one
actor per `Role` plus focal points of the theme, of another theme, and the author, is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from domain.errors import PermissionDenied
from domain.issues import (
    ALLOWED_FROM,
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssueCommand,
    IssueState,
    RecordDecision,
    ReminderKind,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SendReminder,
    SetDeadline,
    WithdrawIssue,
)
from domain.roles import Role
from tests.unit.builders import ACTORS, NOW, make_issue, raise_command


@dataclass(frozen=True)
class RightsCase:
    name: str
    issue: Callable[[], Issue]
    command: IssueCommand
    permitted: frozenset[str]  # keys into ACTORS


THEME_FOCAL_POINTS = frozenset({"fp_author", "fp_theme"})


def _open() -> Issue:
    return make_issue(IssueState.OPEN)


def _requested(level: int, requested: int) -> Callable[[], Issue]:
    return lambda: make_issue(
        IssueState.ESCALATION_REQUESTED, level=level, requested_level=requested
    )


def _escalated(level: int) -> Callable[[], Issue]:
    return lambda: make_issue(IssueState.ESCALATED, level=level)


def _resolved() -> Issue:
    return make_issue(IssueState.RESOLVED)


def _decided() -> Issue:
    return make_issue(IssueState.DECIDED, level=1)


_DECISION = RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Fund captioning from 2027.")

RIGHTS_CASES: list[RightsCase] = [
    RightsCase(
        "comment",
        _open,
        AddComment(body="BDT agrees."),
        THEME_FOCAL_POINTS | {"chair", "secretariat", "executive"},
    ),
    RightsCase("resolve", _open, ResolveIssue(resolution="TSB pays."), THEME_FOCAL_POINTS),
    RightsCase(
        "request_escalation",
        _open,
        RequestEscalation(reason="No budget."),
        THEME_FOCAL_POINTS | {"system"},
    ),
    RightsCase(
        "approve_escalation_to_level_1",
        _requested(0, 1),
        ApproveEscalation(),
        frozenset({"chair"}),
    ),
    RightsCase(
        "approve_escalation_to_level_2",
        _requested(1, 2),
        ApproveEscalation(),
        frozenset({"executive"}),
    ),
    RightsCase(
        "return_escalation_from_level_1_request",
        _requested(0, 1),
        ReturnEscalation(reason="Ask GS."),
        frozenset({"chair"}),
    ),
    RightsCase(
        "return_escalation_from_level_2_request",
        _requested(1, 2),
        ReturnEscalation(reason="Ask GS."),
        frozenset({"executive"}),
    ),
    RightsCase(
        "record_decision_at_level_1",
        _escalated(1),
        _DECISION,
        frozenset({"chair", "secretariat"}),
    ),
    RightsCase("record_decision_at_level_2", _escalated(2), _DECISION, frozenset({"executive"})),
    RightsCase(
        "close_resolved",
        _resolved,
        CloseIssue(),
        THEME_FOCAL_POINTS | {"chair", "secretariat"},
    ),
    RightsCase(
        "close_decided",
        _decided,
        CloseIssue(),
        THEME_FOCAL_POINTS | {"chair", "secretariat"},
    ),
    RightsCase(
        "withdraw", _open, WithdrawIssue(reason="Raised in error."), frozenset({"fp_author"})
    ),
    RightsCase(
        "set_deadline",
        _open,
        SetDeadline(deadline=NOW + timedelta(days=14), reason="Council first."),
        frozenset({"chair", "secretariat"}),
    ),
    RightsCase(
        "send_discussion_reminder",
        _open,
        SendReminder(reminder=ReminderKind.DISCUSSION, days_before=3),
        frozenset({"system"}),
    ),
    RightsCase(
        "send_approval_pending_reminder",
        _requested(0, 1),
        SendReminder(reminder=ReminderKind.APPROVAL_PENDING),
        frozenset({"system"}),
    ),
]

PERMITTED = [
    pytest.param(case, key, id=f"{case.name}-by-{key}")
    for case in RIGHTS_CASES
    for key in ACTORS
    if key in case.permitted
]
REFUSED = [
    pytest.param(case, key, id=f"{case.name}-by-{key}")
    for case in RIGHTS_CASES
    for key in ACTORS
    if key not in case.permitted
]


# -- the tables themselves ----------------------------------------------------------------------


def test_cast_has_an_actor_for_every_role() -> None:
    assert {actor.role for actor in ACTORS.values()} == set(Role)


def test_rights_cases_cover_every_command_kind() -> None:
    assert {case.command.kind for case in RIGHTS_CASES} == set(ALLOWED_FROM)


def test_rights_cases_name_only_actors_of_the_cast() -> None:
    for case in RIGHTS_CASES:
        assert case.permitted <= set(ACTORS), case.name


# -- raising ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(ACTORS))
def test_only_a_focal_point_of_the_theme_may_raise_an_issue_in_it(key: str) -> None:
    actor = ACTORS[key]

    if key in THEME_FOCAL_POINTS:
        issue, event = Issue.raise_issue(raise_command(), actor, NOW)
        assert (issue.author_id, event.actor_id) == (actor.id, actor.id)
    else:
        with pytest.raises(PermissionDenied):
            Issue.raise_issue(raise_command(), actor, NOW)


def test_focal_point_of_another_theme_may_raise_in_their_own_theme() -> None:
    issue, _ = Issue.raise_issue(raise_command(theme="gender"), ACTORS["fp_other_theme"], NOW)

    assert issue.theme == "gender"


# -- every other command ------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "key"), PERMITTED)
def test_actor_holding_the_right_may_run_the_command(case: RightsCase, key: str) -> None:
    issue = case.issue()
    actor = ACTORS[key]

    new, event = issue.handle(case.command, actor, NOW)

    assert new.version == issue.version + 1
    assert (event.actor_id, event.actor_role) == (actor.id, actor.role)


@pytest.mark.parametrize(("case", "key"), REFUSED)
def test_actor_without_the_right_is_refused_and_issue_is_unchanged(
    case: RightsCase, key: str
) -> None:
    issue = case.issue()
    before = issue.model_dump()

    with pytest.raises(PermissionDenied) as caught:
        issue.handle(case.command, ACTORS[key], NOW)

    assert caught.value.code == "permission_denied"
    assert issue.model_dump() == before


def test_withdrawal_is_by_the_authors_id_not_by_role_or_theme() -> None:
    issue = make_issue(IssueState.OPEN)
    colleague = ACTORS["fp_theme"]  # same role, same theme, different id

    assert colleague.role is Role.FOCAL_POINT and colleague.is_focal_point_of(issue.theme)
    with pytest.raises(PermissionDenied):
        issue.handle(WithdrawIssue(reason="Not mine."), colleague, NOW)


def test_the_system_may_raise_an_issue_on_behalf_of_a_named_origin() -> None:
    from domain.issues import Issue, RaiseIssue
    from domain.roles import SYSTEM_ACTOR

    command = RaiseIssue(
        issue_id="i-1", title="Overdue recommendation", description="d", theme="gender",
        sector="GS", origin="recommendation:JIU:JIU/REP/2023/4:2",
    )  # fmt: skip
    issue, event = Issue.raise_issue(command, SYSTEM_ACTOR, NOW)

    assert (issue.author_id, issue.origin) == ("system", "recommendation:JIU:JIU/REP/2023/4:2")
    assert event.data["origin"] == issue.origin


def test_the_system_may_not_raise_an_issue_without_an_origin() -> None:
    from domain.errors import PermissionDenied
    from domain.issues import Issue, RaiseIssue
    from domain.roles import SYSTEM_ACTOR

    command = RaiseIssue(
        issue_id="i-2", title="Title", description="d", theme="gender", sector="GS"
    )
    with pytest.raises(PermissionDenied):
        Issue.raise_issue(command, SYSTEM_ACTOR, NOW)
