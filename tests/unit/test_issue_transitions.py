"""The issue state machine: every allowed transition, every forbidden one, and command validation.

The allowed and forbidden cases are generated from `ALLOWED_FROM` and `IssueState`, so a state or
a command kind added later is covered without editing this file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import IllegalTransition, InvalidCommand
from domain.issues import (
    ALLOWED_FROM,
    EVENT_NAMES,
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssuePolicy,
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
from domain.roles import SYSTEM_ACTOR, Role
from tests.unit.builders import (
    ACTORS,
    AUTHOR,
    ISSUE_ID,
    NOW,
    RAISED_AT,
    SAMPLE_COMMANDS,
    actor_with_right,
    make_issue,
    raise_command,
    typical_issue,
)

# The state each sample command leads to; None means "the state it was taken from".
EXPECTED_TO_STATE: dict[str, IssueState | None] = {
    "add_comment": None,
    "resolve": IssueState.RESOLVED,
    "request_escalation": IssueState.ESCALATION_REQUESTED,
    "approve_escalation": IssueState.ESCALATED,
    "return_escalation": IssueState.OPEN,
    "record_decision": IssueState.DECIDED,  # the sample decision's outcome is "resolved"
    "close": IssueState.CLOSED,
    "withdraw": IssueState.WITHDRAWN,
    "set_deadline": None,
    "send_reminder": None,
}

ALLOWED_CASES: list[tuple[str, IssueState]] = [
    (kind, state)
    for kind, states in ALLOWED_FROM.items()
    for state in IssueState
    if state in states
]
FORBIDDEN_CASES: list[tuple[str, IssueState]] = [
    (kind, state)
    for kind, states in ALLOWED_FROM.items()
    for state in IssueState
    if state not in states
]

SEVEN_DAYS = IssuePolicy(discussion_days=7)  # working days (the default)
# NOW is Thursday 5 March 2026, 13:00 UTC; seven Geneva working days on is Monday 16 March.
SEVEN_WORKING_DAYS_FROM_NOW = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)
OLD_VERSION = 4  # not 1, so `sequence == version + 1` cannot pass by coincidence


def _case_id(case: tuple[str, IssueState]) -> str:
    kind, state = case
    return f"{kind}-from-{state.value}"


def _escalated(level: int = 1, *, policy: IssuePolicy | None = None) -> Issue:
    return make_issue(IssueState.ESCALATED, level=level, version=OLD_VERSION, policy=policy)


# -- the tables themselves ----------------------------------------------------------------------


def test_every_command_kind_in_the_transition_table_has_a_sample_command() -> None:
    assert set(SAMPLE_COMMANDS) == set(ALLOWED_FROM)
    assert {command.kind for command in SAMPLE_COMMANDS.values()} == set(ALLOWED_FROM)
    assert set(EXPECTED_TO_STATE) == set(ALLOWED_FROM)


def test_transition_table_is_the_designed_one() -> None:
    """The generated cases trust ALLOWED_FROM, so the table itself is pinned here."""
    S = IssueState
    designed = {
        "add_comment": {S.OPEN, S.ESCALATION_REQUESTED, S.ESCALATED, S.DECIDED, S.RESOLVED},
        "resolve": {S.OPEN},
        "request_escalation": {S.OPEN},
        "approve_escalation": {S.ESCALATION_REQUESTED},
        "return_escalation": {S.ESCALATION_REQUESTED},
        "record_decision": {S.ESCALATED},
        "close": {S.DECIDED, S.RESOLVED},
        "withdraw": {S.OPEN},
        "set_deadline": {S.OPEN},
        "send_reminder": {S.OPEN, S.ESCALATION_REQUESTED},
    }
    assert designed == ALLOWED_FROM


def test_every_command_kind_has_an_event_name() -> None:
    assert set(EVENT_NAMES) == set(ALLOWED_FROM) | {"raise_issue"}
    assert len(set(EVENT_NAMES.values())) == len(EVENT_NAMES)  # no two commands share a name


def test_terminal_states_allow_no_command() -> None:
    for state in (IssueState.CLOSED, IssueState.WITHDRAWN):
        assert not any(state in states for states in ALLOWED_FROM.values()), state


# -- creation -----------------------------------------------------------------------------------


def test_raise_issue_opens_issue_with_policy_deadline_and_first_event() -> None:
    issue, event = Issue.raise_issue(raise_command(), AUTHOR, NOW, policy=SEVEN_DAYS)

    assert issue.state is IssueState.OPEN
    assert (issue.level, issue.requested_level, issue.version) == (0, None, 1)
    assert issue.author_id == AUTHOR.id
    assert issue.created_at == issue.updated_at == NOW
    assert issue.discussion_deadline == SEVEN_WORKING_DAYS_FROM_NOW
    assert event.data["discussion_deadline"] == SEVEN_WORKING_DAYS_FROM_NOW.isoformat()
    assert event.name == "IssueRaised"
    assert (event.sequence, event.from_state, event.to_state) == (1, None, IssueState.OPEN)
    assert (event.actor_id, event.actor_role, event.at) == (AUTHOR.id, Role.FOCAL_POINT, NOW)
    assert event.key == f"issue-{ISSUE_ID}#1"


def test_raise_issue_under_a_legacy_policy_counts_calendar_days() -> None:
    legacy = IssuePolicy(discussion_days=7, working_days=False)

    issue, _ = Issue.raise_issue(raise_command(), AUTHOR, NOW, policy=legacy)

    assert issue.discussion_deadline == NOW + timedelta(days=7)  # Thursday 12 March


def test_raise_issue_against_an_existing_issue_is_an_illegal_transition() -> None:
    issue = make_issue(IssueState.OPEN)

    with pytest.raises(IllegalTransition) as caught:
        issue.handle(raise_command(), AUTHOR, NOW)

    assert caught.value.action == "raise_issue"
    assert caught.value.allowed_states == []


# -- every allowed transition -------------------------------------------------------------------


@pytest.mark.parametrize("case", ALLOWED_CASES, ids=_case_id)
def test_allowed_transition_returns_new_issue_and_event_recording_the_step(
    case: tuple[str, IssueState],
) -> None:
    kind, state = case
    old = typical_issue(state, version=OLD_VERSION)
    actor = actor_with_right(kind, old)
    expected_state = EXPECTED_TO_STATE[kind] or state

    new, event = old.handle(SAMPLE_COMMANDS[kind], actor, NOW)

    assert new.state is expected_state
    assert new.version == old.version + 1
    assert new.updated_at == NOW
    assert new.created_at == RAISED_AT
    assert new.id == old.id
    assert event.issue_id == old.id
    assert event.name == EVENT_NAMES[kind]
    assert event.sequence == old.version + 1
    assert event.from_state is state
    assert event.to_state is expected_state
    assert event.actor_id == actor.id
    assert event.actor_role is actor.role
    assert event.at == NOW
    assert old.state is state and old.version == OLD_VERSION  # the old value is untouched


@pytest.mark.parametrize("state", [s for s in IssueState if s in ALLOWED_FROM["add_comment"]])
def test_comment_records_the_body_and_activity_time_and_changes_nothing_else(
    state: IssueState,
) -> None:
    old = typical_issue(state, version=OLD_VERSION)

    new, event = old.handle(AddComment(body="BDT agrees."), ACTORS["chair"], NOW)

    changed = {"version", "updated_at", "last_activity_at"}
    assert new.model_dump(exclude=changed) == old.model_dump(exclude=changed)
    assert (old.last_activity_at, new.last_activity_at) == (None, NOW)
    assert event.data == {"body": "BDT agrees."}


def test_resolve_moves_open_issue_to_resolved_and_keeps_the_resolution() -> None:
    old = make_issue(IssueState.OPEN, version=OLD_VERSION)

    new, event = old.handle(ResolveIssue(resolution="TSB pays."), ACTORS["fp_theme"], NOW)

    assert (new.state, new.resolution) == (IssueState.RESOLVED, "TSB pays.")
    assert event.data == {"resolution": "TSB pays."}


def test_request_escalation_asks_for_the_first_ladder_level() -> None:
    old = make_issue(IssueState.OPEN, version=OLD_VERSION)

    new, event = old.handle(RequestEscalation(reason="No budget."), ACTORS["fp_theme"], NOW)

    assert new.state is IssueState.ESCALATION_REQUESTED
    assert (new.level, new.requested_level) == (0, 1)
    assert event.data == {"reason": "No budget.", "level": 1}


@pytest.mark.parametrize(
    ("level", "requested", "approver"),
    [(0, 1, "chair"), (1, 2, "executive")],
    ids=["to-level-1", "to-level-2"],
)
def test_approve_escalation_moves_issue_to_the_requested_level(
    level: int, requested: int, approver: str
) -> None:
    old = make_issue(
        IssueState.ESCALATION_REQUESTED, level=level, requested_level=requested, version=OLD_VERSION
    )

    new, event = old.handle(ApproveEscalation(note="Agreed."), ACTORS[approver], NOW)

    assert new.state is IssueState.ESCALATED
    assert (new.level, new.requested_level) == (requested, None)
    assert event.data == {"note": "Agreed.", "level": requested}


@pytest.mark.parametrize(
    ("level", "requested", "approver"),
    [(0, 1, "chair"), (1, 2, "executive")],
    ids=["from-level-1-request", "from-level-2-request"],
)
def test_return_escalation_reopens_at_level_zero_with_policy_deadline_from_now(
    level: int, requested: int, approver: str
) -> None:
    old = make_issue(
        IssueState.ESCALATION_REQUESTED,
        level=level,
        requested_level=requested,
        version=OLD_VERSION,
        policy=SEVEN_DAYS,
    )

    new, event = old.handle(ReturnEscalation(reason="Ask GS."), ACTORS[approver], NOW)

    assert new.state is IssueState.OPEN
    assert (new.level, new.requested_level) == (0, None)
    assert new.discussion_deadline == SEVEN_WORKING_DAYS_FROM_NOW
    assert event.data == {
        "reason": "Ask GS.",
        "discussion_deadline": SEVEN_WORKING_DAYS_FROM_NOW.isoformat(),
    }


def test_return_escalation_uses_the_given_new_deadline() -> None:
    old = make_issue(IssueState.ESCALATION_REQUESTED, requested_level=1, policy=SEVEN_DAYS)
    deadline = NOW + timedelta(days=21, hours=3)

    new, event = old.handle(
        ReturnEscalation(reason="Ask GS.", new_deadline=deadline), ACTORS["chair"], NOW
    )

    assert (new.state, new.level, new.discussion_deadline) == (IssueState.OPEN, 0, deadline)
    assert event.data["discussion_deadline"] == deadline.isoformat()


def test_decision_resolved_marks_issue_decided_and_keeps_the_decision() -> None:
    old = _escalated()

    new, event = old.handle(
        RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Fund it."), ACTORS["chair"], NOW
    )

    assert new.state is IssueState.DECIDED
    assert (new.decision, new.decision_outcome) == ("Fund it.", DecisionOutcome.RESOLVED)
    assert new.level == 1
    assert (event.name, event.to_state) == ("DecisionRecorded", IssueState.DECIDED)
    assert event.data == {"outcome": "resolved", "text": "Fund it."}


def test_decision_referred_back_reopens_at_level_zero_with_policy_deadline_from_now() -> None:
    old = _escalated(policy=SEVEN_DAYS)

    new, event = old.handle(
        RecordDecision(outcome=DecisionOutcome.REFERRED_BACK, text="Sectors first."),
        ACTORS["secretariat"],
        NOW,
    )

    assert new.state is IssueState.OPEN
    assert (new.level, new.requested_level) == (0, None)
    assert new.discussion_deadline == SEVEN_WORKING_DAYS_FROM_NOW
    assert new.decision_outcome is DecisionOutcome.REFERRED_BACK
    assert event.to_state is IssueState.OPEN
    assert event.data["discussion_deadline"] == SEVEN_WORKING_DAYS_FROM_NOW.isoformat()


def test_decision_referred_back_uses_the_given_new_deadline() -> None:
    old = _escalated(policy=SEVEN_DAYS)
    deadline = NOW + timedelta(days=30)

    new, event = old.handle(
        RecordDecision(
            outcome=DecisionOutcome.REFERRED_BACK, text="Sectors first.", new_deadline=deadline
        ),
        ACTORS["chair"],
        NOW,
    )

    assert (new.state, new.level, new.discussion_deadline) == (IssueState.OPEN, 0, deadline)
    assert event.data["discussion_deadline"] == deadline.isoformat()


def test_decision_escalated_further_requests_the_next_level_and_keeps_the_current_one() -> None:
    old = _escalated(level=1)

    new, event = old.handle(
        RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="Beyond us."),
        ACTORS["chair"],
        NOW,
    )

    assert new.state is IssueState.ESCALATION_REQUESTED
    assert (new.level, new.requested_level) == (1, 2)
    assert event.to_state is IssueState.ESCALATION_REQUESTED
    assert event.data == {"outcome": "escalated_further", "text": "Beyond us.", "level": 2}


def test_decision_deferred_keeps_issue_escalated_at_its_level() -> None:
    old = _escalated(level=2)

    new, event = old.handle(
        RecordDecision(outcome=DecisionOutcome.DEFERRED, text="Next meeting."),
        ACTORS["executive"],
        NOW,
    )

    assert (new.state, new.level, new.requested_level) == (IssueState.ESCALATED, 2, None)
    assert new.decision_outcome is DecisionOutcome.DEFERRED
    assert (event.from_state, event.to_state) == (IssueState.ESCALATED, IssueState.ESCALATED)
    assert new.version == old.version + 1


@pytest.mark.parametrize("state", [IssueState.DECIDED, IssueState.RESOLVED])
def test_close_moves_decided_or_resolved_issue_to_closed(state: IssueState) -> None:
    old = typical_issue(state, version=OLD_VERSION)

    new, event = old.handle(CloseIssue(note="Done."), ACTORS["secretariat"], NOW)

    assert new.state is IssueState.CLOSED
    assert new.is_terminal
    assert event.data == {"note": "Done."}


def test_withdraw_moves_open_issue_to_withdrawn() -> None:
    old = make_issue(IssueState.OPEN, version=OLD_VERSION)

    new, event = old.handle(WithdrawIssue(reason="Raised in error."), AUTHOR, NOW)

    assert new.state is IssueState.WITHDRAWN
    assert new.is_terminal
    assert event.data == {"reason": "Raised in error."}


# -- deadlines and reminders --------------------------------------------------------------------


def test_set_deadline_moves_the_deadline_and_forgets_the_reminders_sent() -> None:
    old = make_issue(IssueState.OPEN, version=OLD_VERSION, reminders_sent=(3,))
    deadline = NOW + timedelta(days=20)

    new, event = old.handle(
        SetDeadline(deadline=deadline, reason="Council first."), ACTORS["secretariat"], NOW
    )

    assert (new.state, new.discussion_deadline, new.reminders_sent) == (
        IssueState.OPEN,
        deadline,
        (),
    )
    assert event.name == "DeadlineChanged"
    assert event.data == {"discussion_deadline": deadline.isoformat(), "reason": "Council first."}


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(minutes=1)], ids=["now", "past"])
def test_set_deadline_not_in_the_future_is_invalid_and_leaves_the_issue_unchanged(
    offset: timedelta,
) -> None:
    issue = make_issue(IssueState.OPEN)
    before = issue.model_dump()

    with pytest.raises(InvalidCommand) as caught:
        issue.handle(SetDeadline(deadline=NOW + offset), ACTORS["chair"], NOW)

    assert caught.value.field == "deadline"
    assert issue.model_dump() == before


def test_discussion_reminder_is_recorded_with_its_days_before_and_time() -> None:
    old = make_issue(IssueState.OPEN, reminders_sent=(3,))

    new, event = old.handle(
        SendReminder(reminder=ReminderKind.DISCUSSION, days_before=1), SYSTEM_ACTOR, NOW
    )

    assert (new.reminders_sent, new.last_reminder_at) == ((3, 1), NOW)
    assert new.approver_reminders_sent == 0
    assert event.name == "ReminderSent"
    assert event.data == {"reminder": "discussion", "days_before": 1}


@pytest.mark.parametrize(
    ("already_sent", "copy_secretariat"),
    [(0, False), (2, False), (3, True), (7, True)],
    ids=["1st", "3rd", "4th", "8th"],
)
def test_approver_reminder_counts_and_copies_the_secretariat_after_the_third(
    already_sent: int, copy_secretariat: bool
) -> None:
    old = make_issue(
        IssueState.ESCALATION_REQUESTED,
        requested_level=1,
        escalation_requested_at=RAISED_AT,
        approver_reminders_sent=already_sent,
    )

    new, event = old.handle(SendReminder(reminder=ReminderKind.APPROVAL_PENDING), SYSTEM_ACTOR, NOW)

    assert (new.approver_reminders_sent, new.last_reminder_at) == (already_sent + 1, NOW)
    assert new.reminders_sent == ()
    assert event.data == {
        "reminder": "approval_pending",
        "count": already_sent + 1,
        "copy_secretariat": copy_secretariat,
    }


def test_request_escalation_starts_the_approver_reminders_afresh() -> None:
    old = make_issue(
        IssueState.OPEN, last_reminder_at=RAISED_AT, approver_reminders_sent=5, reminders_sent=(3,)
    )

    new, _ = old.handle(RequestEscalation(reason="No budget."), ACTORS["fp_theme"], NOW)

    assert new.escalation_requested_at == NOW
    assert (new.approver_reminders_sent, new.last_reminder_at) == (0, None)


def test_decision_escalated_further_starts_the_approver_reminders_afresh() -> None:
    old = _escalated(level=1).model_copy(
        update={
            "escalation_requested_at": RAISED_AT,
            "last_reminder_at": RAISED_AT,
            "approver_reminders_sent": 4,
        }
    )

    new, _ = old.handle(
        RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="Beyond us."),
        ACTORS["chair"],
        NOW,
    )

    assert new.escalation_requested_at == NOW
    assert (new.approver_reminders_sent, new.last_reminder_at) == (0, None)


def test_return_escalation_forgets_the_discussion_reminders_sent() -> None:
    old = make_issue(IssueState.ESCALATION_REQUESTED, requested_level=1, reminders_sent=(3, 1))

    new, _ = old.handle(ReturnEscalation(reason="Ask GS."), ACTORS["chair"], NOW)

    assert new.reminders_sent == ()


def test_decision_referred_back_forgets_the_discussion_reminders_sent() -> None:
    old = _escalated().model_copy(update={"reminders_sent": (3, 1)})

    new, _ = old.handle(
        RecordDecision(outcome=DecisionOutcome.REFERRED_BACK, text="Sectors first."),
        ACTORS["chair"],
        NOW,
    )

    assert new.reminders_sent == ()


# -- every forbidden transition -----------------------------------------------------------------


@pytest.mark.parametrize("case", FORBIDDEN_CASES, ids=_case_id)
def test_command_from_a_state_outside_its_allowed_set_raises_illegal_transition(
    case: tuple[str, IssueState],
) -> None:
    kind, state = case
    issue = typical_issue(state)
    before = issue.model_dump()

    with pytest.raises(IllegalTransition) as caught:
        issue.handle(SAMPLE_COMMANDS[kind], actor_with_right(kind, issue), NOW)

    assert caught.value.action == kind
    assert caught.value.state == state.value
    assert caught.value.allowed_states == sorted(s.value for s in ALLOWED_FROM[kind])
    assert issue.model_dump() == before


NOT_PENDING_AT_TOP: list[tuple[str, IssueState]] = [
    (kind, state)
    for kind in ("approve_escalation", "return_escalation")
    for state in (IssueState.ESCALATED, IssueState.DECIDED, IssueState.CLOSED)
]


@pytest.mark.parametrize("case", NOT_PENDING_AT_TOP, ids=_case_id)
def test_approval_at_the_top_of_the_ladder_with_no_request_pending_is_an_illegal_transition(
    case: tuple[str, IssueState],
) -> None:
    kind, state = case
    top = make_issue(state, level=2)  # nothing above level 2 on the default ladder

    with pytest.raises(IllegalTransition) as caught:
        top.handle(SAMPLE_COMMANDS[kind], ACTORS["executive"], NOW)

    assert caught.value.state == state.value


def test_repeated_approval_by_the_approver_who_granted_it_is_an_illegal_transition() -> None:
    requested = make_issue(IssueState.ESCALATION_REQUESTED, requested_level=1)
    escalated, _ = requested.handle(ApproveEscalation(), ACTORS["chair"], NOW)

    with pytest.raises(IllegalTransition) as caught:
        escalated.handle(ApproveEscalation(), ACTORS["chair"], NOW)

    assert caught.value.state == IssueState.ESCALATED.value


def test_repeated_decision_by_a_lower_level_decider_is_an_illegal_transition() -> None:
    decided = make_issue(IssueState.DECIDED, level=2)

    with pytest.raises(IllegalTransition) as caught:
        decided.handle(SAMPLE_COMMANDS["record_decision"], ACTORS["secretariat"], NOW)

    assert caught.value.state == IssueState.DECIDED.value


# -- validation ---------------------------------------------------------------------------------


def test_escalated_further_at_the_top_of_the_ladder_is_an_invalid_outcome() -> None:
    top = make_issue(IssueState.ESCALATED, level=2)  # the default ladder has two levels

    with pytest.raises(InvalidCommand) as caught:
        top.handle(
            RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="Higher!"),
            ACTORS["executive"],
            NOW,
        )

    assert caught.value.field == "outcome"
    assert caught.value.code == "invalid_command"


def _past() -> datetime:
    return NOW - timedelta(minutes=1)


def test_return_escalation_with_a_deadline_in_the_past_is_invalid() -> None:
    issue = make_issue(IssueState.ESCALATION_REQUESTED, requested_level=1)

    with pytest.raises(InvalidCommand) as caught:
        issue.handle(ReturnEscalation(reason="Ask GS.", new_deadline=_past()), ACTORS["chair"], NOW)

    assert caught.value.field == "new_deadline"


def test_referral_back_with_a_deadline_in_the_past_is_invalid() -> None:
    issue = _escalated()
    command = RecordDecision(
        outcome=DecisionOutcome.REFERRED_BACK, text="Sectors first.", new_deadline=_past()
    )

    with pytest.raises(InvalidCommand) as caught:
        issue.handle(command, ACTORS["chair"], NOW)

    assert caught.value.field == "new_deadline"


@pytest.mark.parametrize(
    "outcome",
    [DecisionOutcome.RESOLVED, DecisionOutcome.ESCALATED_FURTHER, DecisionOutcome.DEFERRED],
)
def test_new_deadline_on_a_decision_that_does_not_refer_back_is_invalid(
    outcome: DecisionOutcome,
) -> None:
    command = RecordDecision(outcome=outcome, text="Decided.", new_deadline=NOW + timedelta(days=5))

    with pytest.raises(InvalidCommand) as caught:
        _escalated().handle(command, ACTORS["chair"], NOW)

    assert caught.value.field == "new_deadline"


def test_a_deadline_without_a_time_zone_is_refused_by_the_command() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="timezone"):
        ReturnEscalation(reason="Ask GS.", new_deadline=datetime(2026, 3, 20, 9, 0))


def test_repeated_raise_by_the_author_passes_the_check() -> None:
    make_issue(IssueState.OPEN).check(raise_command(), AUTHOR, NOW)


def test_raise_with_an_id_taken_by_another_author_is_an_illegal_transition() -> None:
    other = ACTORS["fp_theme"]

    with pytest.raises(IllegalTransition, match="already exists") as caught:
        make_issue(IssueState.OPEN).check(raise_command(), other, NOW)

    assert caught.value.state == "open"
