"""The escalation ladder is configuration: its shape is validated, and the issue follows it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.errors import InvalidCommand, PermissionDenied
from domain.issues import (
    ApproveEscalation,
    DecisionOutcome,
    Issue,
    IssueState,
    RecordDecision,
    RequestEscalation,
)
from domain.ladder import DEFAULT_LADDER, Ladder, LadderLevel
from domain.roles import Role
from tests.unit.builders import ACTORS, AUTHOR, NOW, make_issue, raise_command


def _rung(number: int, approver: Role = Role.CHAIR, decider: Role = Role.CHAIR) -> LadderLevel:
    return LadderLevel(
        level=number, name=f"Level {number}", approver_roles=(approver,), decider_roles=(decider,)
    )


# Level 3 uses roles that appear nowhere else in any ladder, so only configuration can explain
# who is allowed to act there.
THREE_LEVELS = Ladder(
    levels=(
        _rung(1, approver=Role.CHAIR, decider=Role.CHAIR),
        _rung(2, approver=Role.EXECUTIVE, decider=Role.EXECUTIVE),
        _rung(3, approver=Role.AUDITOR, decider=Role.ADMIN),
    )
)


def _decide(outcome: DecisionOutcome) -> RecordDecision:
    return RecordDecision(outcome=outcome, text=f"Decision: {outcome.value}.")


# -- shape --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "numbers",
    [(1, 3), (2, 3), (2, 1), (1, 1)],
    ids=["gap", "not-starting-at-1", "out-of-order", "duplicate"],
)
def test_ladder_levels_not_numbered_one_to_n_are_rejected(numbers: tuple[int, ...]) -> None:
    rungs = tuple(_rung(n) for n in numbers)

    with pytest.raises(ValidationError, match="numbered 1, 2"):
        Ladder(levels=rungs)


def test_ladder_level_numbered_below_one_is_rejected() -> None:
    with pytest.raises(ValidationError):
        _rung(0)


def test_ladder_without_levels_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Ladder(levels=())


def test_ladder_level_without_approver_or_decider_roles_is_rejected() -> None:
    with pytest.raises(ValidationError):
        LadderLevel(level=1, name="L1", approver_roles=(), decider_roles=(Role.CHAIR,))
    with pytest.raises(ValidationError):
        LadderLevel(level=1, name="L1", approver_roles=(Role.CHAIR,), decider_roles=())


def test_ladder_numbered_one_to_n_is_accepted_and_looked_up_by_number() -> None:
    assert [rung.level for rung in THREE_LEVELS.levels] == [1, 2, 3]
    assert THREE_LEVELS.level(3).decider_roles == (Role.ADMIN,)
    assert THREE_LEVELS.next_level(0) == THREE_LEVELS.level(1)
    assert THREE_LEVELS.next_level(2) == THREE_LEVELS.level(3)
    assert THREE_LEVELS.next_level(3) is None


@pytest.mark.parametrize("number", [0, 4, -1])
def test_ladder_lookup_outside_its_levels_raises_key_error(number: int) -> None:
    with pytest.raises(KeyError):
        THREE_LEVELS.level(number)


def test_default_ladder_is_task_force_then_coordination_committee() -> None:
    first, second = DEFAULT_LADDER.levels

    assert (first.level, first.approver_roles, first.decider_roles) == (
        1,
        (Role.CHAIR,),
        (Role.CHAIR, Role.SECRETARIAT),
    )
    assert (second.level, second.approver_roles, second.decider_roles) == (
        2,
        (Role.EXECUTIVE,),
        (Role.EXECUTIVE,),
    )


# -- an issue on a three-level ladder -----------------------------------------------------------


def _at_level_two() -> Issue:
    return make_issue(IssueState.ESCALATED, level=2, ladder=THREE_LEVELS)


def test_three_level_ladder_lets_an_issue_climb_from_raising_to_level_three() -> None:
    issue, _ = Issue.raise_issue(raise_command(), AUTHOR, NOW, ladder=THREE_LEVELS)

    issue, _ = issue.handle(RequestEscalation(reason="No budget."), AUTHOR, NOW)
    issue, _ = issue.handle(ApproveEscalation(), ACTORS["chair"], NOW)
    assert (issue.state, issue.level) == (IssueState.ESCALATED, 1)

    issue, _ = issue.handle(_decide(DecisionOutcome.ESCALATED_FURTHER), ACTORS["chair"], NOW)
    issue, _ = issue.handle(ApproveEscalation(), ACTORS["executive"], NOW)
    assert (issue.state, issue.level) == (IssueState.ESCALATED, 2)

    issue, _ = issue.handle(_decide(DecisionOutcome.ESCALATED_FURTHER), ACTORS["executive"], NOW)
    assert (issue.state, issue.requested_level) == (IssueState.ESCALATION_REQUESTED, 3)
    issue, event = issue.handle(ApproveEscalation(), ACTORS["auditor"], NOW)
    assert (issue.state, issue.level, issue.requested_level) == (IssueState.ESCALATED, 3, None)
    assert event.data["level"] == 3

    issue, event = issue.handle(_decide(DecisionOutcome.RESOLVED), ACTORS["admin"], NOW)
    assert (issue.state, issue.level) == (IssueState.DECIDED, 3)
    assert (event.actor_role, event.to_state) == (Role.ADMIN, IssueState.DECIDED)
    assert issue.version == 8  # raised + seven steps


def test_escalated_further_below_the_top_of_a_three_level_ladder_requests_the_next_level() -> None:
    new, _ = _at_level_two().handle(
        _decide(DecisionOutcome.ESCALATED_FURTHER), ACTORS["executive"], NOW
    )

    assert (new.state, new.level, new.requested_level) == (IssueState.ESCALATION_REQUESTED, 2, 3)


@pytest.mark.parametrize("key", sorted(ACTORS))
def test_escalation_to_level_three_is_approved_only_by_its_configured_approver(key: str) -> None:
    issue = make_issue(
        IssueState.ESCALATION_REQUESTED, level=2, requested_level=3, ladder=THREE_LEVELS
    )

    if key == "auditor":
        new, _ = issue.handle(ApproveEscalation(), ACTORS[key], NOW)
        assert new.level == 3
    else:
        with pytest.raises(PermissionDenied):
            issue.handle(ApproveEscalation(), ACTORS[key], NOW)


@pytest.mark.parametrize("key", sorted(ACTORS))
def test_decision_at_level_three_is_recorded_only_by_its_configured_decider(key: str) -> None:
    issue = make_issue(IssueState.ESCALATED, level=3, ladder=THREE_LEVELS)

    if key == "admin":
        new, _ = issue.handle(_decide(DecisionOutcome.RESOLVED), ACTORS[key], NOW)
        assert new.state is IssueState.DECIDED
    else:
        with pytest.raises(PermissionDenied):
            issue.handle(_decide(DecisionOutcome.RESOLVED), ACTORS[key], NOW)


def test_escalated_further_at_level_three_of_a_three_level_ladder_is_invalid() -> None:
    issue = make_issue(IssueState.ESCALATED, level=3, ladder=THREE_LEVELS)

    with pytest.raises(InvalidCommand) as caught:
        issue.handle(_decide(DecisionOutcome.ESCALATED_FURTHER), ACTORS["admin"], NOW)

    assert caught.value.field == "outcome"
