"""What an issue's timer waits for next: pure planning over the issue and its policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.issues import Issue, IssueState, ReminderKind


class TimerAction(StrEnum):
    REMIND_FOCAL_POINTS = "remind_focal_points"
    DEADLINE_PASSED = "deadline_passed"  # the system requests escalation
    REMIND_APPROVER = "remind_approver"


class PlannedStep(BaseModel):
    """The next thing the issue's timer does, and when."""

    model_config = ConfigDict(frozen=True)

    action: TimerAction
    due: datetime
    reminder: ReminderKind | None = None
    days_before: int | None = None


def next_step(issue: Issue, now: datetime) -> PlannedStep | None:
    """The next reminder or deadline action for `issue` as it stands at `now`, if any."""
    if issue.state is IssueState.OPEN and issue.discussion_deadline is not None:
        return _discussion_step(issue, now)
    if issue.state is IssueState.ESCALATION_REQUESTED and issue.escalation_requested_at:
        return _approver_step(issue)
    return None


def _discussion_step(issue: Issue, now: datetime) -> PlannedStep:
    policy = issue.policy
    deadline = issue.discussion_deadline
    assert deadline is not None
    if deadline <= now:
        return PlannedStep(action=TimerAction.DEADLINE_PASSED, due=deadline)
    quiet_until = (
        policy.add_days(issue.last_activity_at, policy.quiet_days_after_activity)
        if issue.last_activity_at is not None
        else None
    )
    pending = sorted(
        (k for k in set(policy.reminder_days_before) if k not in issue.reminders_sent),
        reverse=True,
    )
    for position, days in enumerate(pending):
        due = policy.add_days(deadline, -days)
        if due < (issue.deadline_set_at or issue.created_at):
            continue  # already past when this deadline was set: it does not apply
        if any(sent < days for sent in issue.reminders_sent):
            continue  # a closer reminder already went out
        if quiet_until is not None:
            due = max(due, quiet_until)
        due = _sending_time(issue, due)
        if due >= deadline:
            continue  # pushed past the deadline by recent activity: not worth sending
        later = pending[position + 1 :]
        if due <= now and any(policy.add_days(deadline, -k) <= now for k in later):
            continue  # overtaken by a closer reminder that is also due
        return PlannedStep(
            action=TimerAction.REMIND_FOCAL_POINTS,
            due=due,
            reminder=ReminderKind.DISCUSSION,
            days_before=days,
        )
    return PlannedStep(action=TimerAction.DEADLINE_PASSED, due=deadline)


def _approver_step(issue: Issue) -> PlannedStep:
    policy = issue.policy
    anchors = [
        t
        for t in (issue.escalation_requested_at, issue.last_reminder_at, issue.last_activity_at)
        if t is not None
    ]
    due = _sending_time(issue, policy.add_days(max(anchors), policy.approver_reminder_every_days))
    return PlannedStep(
        action=TimerAction.REMIND_APPROVER, due=due, reminder=ReminderKind.APPROVAL_PENDING
    )


def _sending_time(issue: Issue, due: datetime) -> datetime:
    """Reminders go out in working hours (deadlines themselves are not moved)."""
    if not issue.policy.working_days:
        return due
    return issue.policy.calendar.next_working_hour(due)
