"""Which notifications each issue event causes, and to which audience.

Every event is produced by `Issue.handle` (or `Issue.raise_issue`), so its name, actor and data
are the ones the workflow really sees; `notices_for` is given the issue as it is after the event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssueCommand,
    IssueEvent,
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
from domain.notices import Audience, Notice, notices_for
from domain.roles import SYSTEM_ACTOR, Actor
from tests.unit.builders import ACTORS, AUTHOR, NOW, RAISED_AT, make_issue, raise_command

FOCAL = Audience.THEME_FOCAL_POINTS
Step = tuple[Issue, IssueEvent]


def _handle(issue: Issue, command: IssueCommand, actor: Actor) -> Step:
    return issue.handle(command, actor, NOW)


def _open() -> Issue:
    return make_issue(IssueState.OPEN)


def _requested() -> Issue:
    """Open, then a focal point asks for level 1."""
    issue, _ = _open().handle(
        RequestEscalation(reason="No budget."), ACTORS["fp_theme"], RAISED_AT + timedelta(hours=1)
    )
    return issue


def _requested_further() -> Issue:
    """Escalated at level 1, then the chair's decision asks for level 2."""
    issue, _ = make_issue(IssueState.ESCALATED, level=1).handle(
        RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="Beyond us."),
        ACTORS["chair"],
        RAISED_AT + timedelta(hours=1),
    )
    return issue


def _approver_reminder(already_sent: int, pending: Callable[[], Issue] = _requested) -> Step:
    issue = pending().model_copy(update={"approver_reminders_sent": already_sent})
    return _handle(issue, SendReminder(reminder=ReminderKind.APPROVAL_PENDING), SYSTEM_ACTOR)


def _decision(outcome: DecisionOutcome) -> Step:
    return _handle(
        make_issue(IssueState.ESCALATED, level=1),
        RecordDecision(outcome=outcome, text="Decided."),
        ACTORS["chair"],
    )


EVENTS: dict[str, Callable[[], Step]] = {
    "raised": lambda: Issue.raise_issue(raise_command(), AUTHOR, NOW),
    "escalation_requested_by_a_focal_point": lambda: _handle(
        _open(), RequestEscalation(reason="No budget."), ACTORS["fp_theme"]
    ),
    "escalation_requested_by_the_system": lambda: _handle(
        _open(), RequestEscalation(reason="The discussion deadline passed."), SYSTEM_ACTOR
    ),
    "escalation_approved": lambda: _handle(_requested(), ApproveEscalation(), ACTORS["chair"]),
    "escalation_returned": lambda: _handle(
        _requested(), ReturnEscalation(reason="Ask GS."), ACTORS["chair"]
    ),
    "decision_resolved": lambda: _decision(DecisionOutcome.RESOLVED),
    "decision_referred_back": lambda: _decision(DecisionOutcome.REFERRED_BACK),
    "decision_deferred": lambda: _decision(DecisionOutcome.DEFERRED),
    "decision_escalated_further": lambda: _decision(DecisionOutcome.ESCALATED_FURTHER),
    "discussion_reminder": lambda: _handle(
        _open(), SendReminder(reminder=ReminderKind.DISCUSSION, days_before=3), SYSTEM_ACTOR
    ),
    "first_approver_reminder": lambda: _approver_reminder(0),
    "third_approver_reminder": lambda: _approver_reminder(2),
    "fourth_approver_reminder": lambda: _approver_reminder(3),
    "approver_reminder_at_level_2": lambda: _approver_reminder(0, _requested_further),
    "comment": lambda: _handle(_open(), AddComment(body="BDT agrees."), ACTORS["chair"]),
    "deadline_changed": lambda: _handle(
        _open(), SetDeadline(deadline=NOW + timedelta(days=9)), ACTORS["secretariat"]
    ),
    "resolved": lambda: _handle(_open(), ResolveIssue(resolution="TSB pays."), AUTHOR),
    "closed": lambda: _handle(make_issue(IssueState.RESOLVED), CloseIssue(), ACTORS["chair"]),
    "withdrawn": lambda: _handle(_open(), WithdrawIssue(reason="Raised in error."), AUTHOR),
}


def _ask(level: int) -> Notice:
    return Notice(template="escalation_requested", audience=Audience.APPROVERS, level=level)


def _pending(level: int) -> Notice:
    return Notice(template="escalation_pending", audience=Audience.APPROVERS, level=level)


_DECISION = Notice(template="decision_recorded", audience=FOCAL)
_SECRETARIAT_COPY = Notice(template="escalation_pending", audience=Audience.SECRETARIAT)

EXPECTED: dict[str, tuple[str, list[Notice]]] = {
    "raised": ("IssueRaised", [Notice(template="issue_raised", audience=FOCAL)]),
    "escalation_requested_by_a_focal_point": ("EscalationRequested", [_ask(1)]),
    "escalation_requested_by_the_system": (
        "EscalationRequested",
        [Notice(template="deadline_passed", audience=FOCAL), _ask(1)],
    ),
    "escalation_approved": (
        "EscalationApproved",
        [Notice(template="escalation_approved", audience=FOCAL)],
    ),
    "escalation_returned": (
        "EscalationReturned",
        [Notice(template="escalation_returned", audience=FOCAL)],
    ),
    "decision_resolved": ("DecisionRecorded", [_DECISION]),
    "decision_referred_back": ("DecisionRecorded", [_DECISION]),
    "decision_deferred": ("DecisionRecorded", [_DECISION]),
    "decision_escalated_further": ("DecisionRecorded", [_DECISION, _ask(2)]),
    "discussion_reminder": (
        "ReminderSent",
        [Notice(template="discussion_reminder", audience=FOCAL)],
    ),
    "first_approver_reminder": ("ReminderSent", [_pending(1)]),
    "third_approver_reminder": ("ReminderSent", [_pending(1)]),
    "fourth_approver_reminder": ("ReminderSent", [_pending(1), _SECRETARIAT_COPY]),
    "approver_reminder_at_level_2": ("ReminderSent", [_pending(2)]),
    "comment": ("CommentAdded", []),
    "deadline_changed": ("DeadlineChanged", []),
    "resolved": ("IssueResolved", []),
    "closed": ("IssueClosed", []),
    "withdrawn": ("IssueWithdrawn", []),
}


def test_every_event_case_has_an_expectation() -> None:
    assert set(EVENTS) == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_event_causes_exactly_the_expected_notices(case: str) -> None:
    expected_name, expected_notices = EXPECTED[case]
    issue, event = EVENTS[case]()

    assert event.name == expected_name  # the case really builds the event it is named after
    assert notices_for(event, issue) == expected_notices


def test_system_request_warns_the_focal_points_before_asking_the_approvers() -> None:
    issue, event = EVENTS["escalation_requested_by_the_system"]()

    templates = [notice.template for notice in notices_for(event, issue)]

    assert templates == ["deadline_passed", "escalation_requested"]


def test_approver_reminder_copies_the_secretariat_exactly_when_the_event_says_so() -> None:
    for already_sent in range(6):
        issue, event = _approver_reminder(already_sent)

        audiences = {notice.audience for notice in notices_for(event, issue)}

        assert (Audience.SECRETARIAT in audiences) is event.data["copy_secretariat"], already_sent
