"""Planning an issue's timer: discussion reminders, the deadline, and approver reminders.

Every "now" is explicit; nothing reads the clock. Reminders are recorded the way the timer
records them: `SendReminder` through `Issue.handle` as the SYSTEM actor.

Two calendars of 2026 are used, in Geneva local time (winter time in March, summer time in
August and September):
- MARCH: raised Monday 2 March 10:00, deadline Monday 16 March 10:00 (ten working days),
  3-day reminder Wednesday 11 March, 1-day reminder Friday 13 March, all at 10:00.
- SEPTEMBER, with the Jeûne genevois on Thursday 10 September: raised Thursday 27 August 10:00,
  deadline Friday 11 September 10:00, 3-day reminder Monday 7 September, 1-day reminder
  Wednesday 9 September (the Jeûne is not a working day).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import BusinessCalendar
from domain.issues import (
    AddComment,
    DecisionOutcome,
    Issue,
    IssueState,
    RecordDecision,
    ReminderKind,
    RequestEscalation,
    ReturnEscalation,
    SendReminder,
    SetDeadline,
)
from domain.policy import IssuePolicy
from domain.reminders import PlannedStep, TimerAction, next_step
from domain.roles import SYSTEM_ACTOR
from tests.unit.builders import ACTORS, AUTHOR, make_issue, raise_command

GENEVA = ZoneInfo("Europe/Zurich")


def geneva(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=GENEVA)


MARCH_RAISED = geneva(3, 2)
MARCH_DEADLINE = geneva(3, 16)
MARCH_3_DAYS = geneva(3, 11)
MARCH_1_DAY = geneva(3, 13)

SEPT_RAISED = geneva(8, 27)
SEPT_DEADLINE = geneva(9, 11)
SEPT_3_DAYS = geneva(9, 7)
SEPT_1_DAY = geneva(9, 9)


def raised(at: datetime, policy: IssuePolicy | None = None) -> Issue:
    issue, _ = Issue.raise_issue(raise_command(), AUTHOR, at, policy=policy)
    return issue


def reminded(issue: Issue, step: PlannedStep, at: datetime) -> Issue:
    """What the timer does when `step` falls due at `at`."""
    assert step.reminder is not None
    new, _ = issue.handle(
        SendReminder(reminder=step.reminder, days_before=step.days_before), SYSTEM_ACTOR, at
    )
    return new


def commented(issue: Issue, at: datetime) -> Issue:
    new, _ = issue.handle(AddComment(body="An update from BR."), ACTORS["fp_theme"], at)
    return new


def discussion(days_before: int, due: datetime) -> PlannedStep:
    return PlannedStep(
        action=TimerAction.REMIND_FOCAL_POINTS,
        due=due,
        reminder=ReminderKind.DISCUSSION,
        days_before=days_before,
    )


def deadline_passed(due: datetime) -> PlannedStep:
    return PlannedStep(action=TimerAction.DEADLINE_PASSED, due=due)


def remind_approver(due: datetime) -> PlannedStep:
    return PlannedStep(
        action=TimerAction.REMIND_APPROVER, due=due, reminder=ReminderKind.APPROVAL_PENDING
    )


def march_after_three_day_reminder() -> Issue:
    issue = raised(MARCH_RAISED)
    return reminded(issue, discussion(3, MARCH_3_DAYS), MARCH_3_DAYS)


# -- the discussion timeline --------------------------------------------------------------------


def test_freshly_raised_issue_first_plans_the_three_day_reminder() -> None:
    issue = raised(MARCH_RAISED)

    assert issue.discussion_deadline == MARCH_DEADLINE
    assert next_step(issue, MARCH_RAISED) == discussion(3, MARCH_3_DAYS)


def test_after_the_three_day_reminder_the_one_day_reminder_is_next() -> None:
    issue = march_after_three_day_reminder()

    assert issue.reminders_sent == (3,)
    assert next_step(issue, MARCH_3_DAYS) == discussion(1, MARCH_1_DAY)


def test_after_both_reminders_the_deadline_is_next() -> None:
    issue = reminded(march_after_three_day_reminder(), discussion(1, MARCH_1_DAY), MARCH_1_DAY)

    assert next_step(issue, MARCH_1_DAY) == deadline_passed(MARCH_DEADLINE)


def test_reminders_and_deadline_skip_the_jeune_genevois() -> None:
    issue = raised(SEPT_RAISED)
    timeline = []
    now = SEPT_RAISED
    while (step := next_step(issue, now)).action is TimerAction.REMIND_FOCAL_POINTS:
        timeline.append(step)
        now = step.due
        issue = reminded(issue, step, now)

    assert issue.discussion_deadline == SEPT_DEADLINE
    assert timeline == [discussion(3, SEPT_3_DAYS), discussion(1, SEPT_1_DAY)]
    assert step == deadline_passed(SEPT_DEADLINE)


@pytest.mark.parametrize("late", [timedelta(0), timedelta(hours=5)], ids=["at", "after"])
def test_once_the_deadline_is_reached_the_deadline_step_is_due_even_with_reminders_unsent(
    late: timedelta,
) -> None:
    issue = raised(MARCH_RAISED)

    assert next_step(issue, MARCH_DEADLINE + late) == deadline_passed(MARCH_DEADLINE)


def test_configured_reminder_days_are_planned_furthest_first() -> None:
    issue = raised(MARCH_RAISED, IssuePolicy(reminder_days_before=(2, 5)))

    assert next_step(issue, MARCH_RAISED) == discussion(5, geneva(3, 9))


def test_policy_without_reminders_plans_the_deadline_straight_away() -> None:
    issue = raised(MARCH_RAISED, IssuePolicy(reminder_days_before=()))

    assert next_step(issue, MARCH_RAISED) == deadline_passed(MARCH_DEADLINE)


# -- activity pushes reminders out --------------------------------------------------------------


def test_comment_before_a_reminder_pushes_it_a_working_day_on_and_into_working_hours() -> None:
    issue = commented(raised(MARCH_RAISED), geneva(3, 11, 8, 0))

    # A working day after the comment is 08:00, before the office opens: sent at 09:00.
    assert next_step(issue, geneva(3, 11, 8, 0)) == discussion(3, geneva(3, 12, 9, 0))


def test_an_approver_reminder_due_on_a_friday_evening_goes_out_on_monday_morning() -> None:
    from domain.issues import RequestEscalation

    issue = raised(geneva(3, 4, 19, 30))  # Wednesday evening
    requested, _ = issue.handle(
        RequestEscalation(reason="r"), ACTORS["fp_theme"], geneva(3, 4, 19, 30)
    )

    step = next_step(requested, geneva(3, 4, 19, 30))

    assert step is not None and step.due == geneva(3, 9, 9, 0)


def test_comment_long_before_a_reminder_leaves_it_where_it_was() -> None:
    issue = commented(raised(MARCH_RAISED), geneva(3, 3, 15, 0))

    assert next_step(issue, geneva(3, 3, 15, 0)) == discussion(3, MARCH_3_DAYS)


def test_pushed_three_day_reminder_leaves_the_one_day_reminder_on_time() -> None:
    issue = commented(raised(MARCH_RAISED), geneva(3, 11, 8, 0))
    issue = reminded(issue, discussion(3, geneva(3, 12, 8, 0)), geneva(3, 12, 8, 0))

    assert next_step(issue, geneva(3, 12, 8, 0)) == discussion(1, MARCH_1_DAY)


def test_comment_before_the_holiday_pushes_the_reminder_over_it() -> None:
    issue = reminded(raised(SEPT_RAISED), discussion(3, SEPT_3_DAYS), SEPT_3_DAYS)
    issue = commented(issue, geneva(9, 9, 9, 0))  # an hour before the 1-day reminder

    # Wednesday 09:00 plus one working day is Friday 09:00, an hour before the deadline.
    assert next_step(issue, geneva(9, 9, 9, 0)) == discussion(1, geneva(9, 11, 9, 0))


def test_comment_as_the_last_reminder_falls_due_skips_it_for_the_deadline() -> None:
    issue = reminded(raised(SEPT_RAISED), discussion(3, SEPT_3_DAYS), SEPT_3_DAYS)
    issue = commented(issue, SEPT_1_DAY)  # the reminder has not gone out yet

    assert next_step(issue, SEPT_1_DAY) == deadline_passed(SEPT_DEADLINE)


def test_comment_the_day_before_the_last_reminder_skips_it_with_two_quiet_days() -> None:
    two_quiet_days = IssuePolicy(quiet_days_after_activity=2)
    issue = raised(MARCH_RAISED, two_quiet_days)
    issue = reminded(issue, discussion(3, MARCH_3_DAYS), MARCH_3_DAYS)
    issue = commented(issue, geneva(3, 12, 16, 0))  # quiet until Monday 16:00, after 10:00

    assert next_step(issue, geneva(3, 12, 16, 0)) == deadline_passed(MARCH_DEADLINE)


def test_no_quiet_days_means_a_comment_never_moves_a_reminder() -> None:
    issue = raised(MARCH_RAISED, IssuePolicy(quiet_days_after_activity=0))
    issue = commented(issue, geneva(3, 11, 9, 59))

    assert next_step(issue, geneva(3, 11, 9, 59)) == discussion(3, MARCH_3_DAYS)


# -- a moved deadline ---------------------------------------------------------------------------


def test_set_deadline_forgets_the_reminders_sent_and_plans_from_the_new_deadline() -> None:
    issue = march_after_three_day_reminder()
    now = geneva(3, 11, 11, 0)

    issue, _ = issue.handle(SetDeadline(deadline=geneva(3, 27)), ACTORS["chair"], now)

    assert issue.reminders_sent == ()
    assert next_step(issue, now) == discussion(3, geneva(3, 24))  # Friday 27 less 3 days


def test_set_deadline_earlier_plans_the_new_deadline_once_its_reminders_are_sent() -> None:
    issue = raised(MARCH_RAISED)
    now = geneva(3, 3)
    issue, _ = issue.handle(SetDeadline(deadline=geneva(3, 9)), ACTORS["secretariat"], now)

    step = next_step(issue, now)
    assert step == discussion(3, geneva(3, 4))
    issue = reminded(issue, step, step.due)
    step = next_step(issue, step.due)
    assert step == discussion(1, geneva(3, 6))
    issue = reminded(issue, step, step.due)
    assert next_step(issue, step.due) == deadline_passed(geneva(3, 9))


def test_set_deadline_two_working_days_away_skips_the_three_day_reminder() -> None:
    now = geneva(3, 11, 11, 0)  # Wednesday
    issue, _ = raised(MARCH_RAISED).handle(
        SetDeadline(deadline=geneva(3, 13, 11, 0)), ACTORS["chair"], now
    )

    assert next_step(issue, now) == discussion(1, geneva(3, 12, 11, 0))


# -- reminders that fell due while nobody was looking -------------------------------------------


def test_of_two_overdue_reminders_only_the_closest_is_due() -> None:
    now = geneva(3, 13, 12, 0)  # both reminders are past, none was sent

    assert next_step(raised(MARCH_RAISED), now) == discussion(1, MARCH_1_DAY)


def test_an_overdue_reminder_is_still_sent_while_the_next_one_is_not_due() -> None:
    now = geneva(3, 12, 12, 0)  # the 3-day reminder is a day late, the 1-day one is tomorrow

    assert next_step(raised(MARCH_RAISED), now) == discussion(3, MARCH_3_DAYS)


def test_an_overtaken_reminder_is_not_sent_after_the_closer_one() -> None:
    now = geneva(3, 13, 12, 0)
    issue = reminded(raised(MARCH_RAISED), discussion(1, MARCH_1_DAY), now)

    assert next_step(issue, now) == deadline_passed(MARCH_DEADLINE)


# -- approver reminders -------------------------------------------------------------------------

REQUESTED_AT = geneva(9, 8)  # Tuesday of the week of the Jeûne genevois


def requested(at: datetime = REQUESTED_AT) -> Issue:
    issue, _ = raised(SEPT_RAISED).handle(
        RequestEscalation(reason="No budget."), ACTORS["fp_theme"], at
    )
    return issue


def run_approver_timer(issue: Issue, times: int) -> list[tuple[datetime, int, bool]]:
    """Let the timer fire `times` times: (due, count, copy_secretariat) of each reminder."""
    sent = []
    for _ in range(times):
        step = next_step(issue, issue.updated_at)
        assert step is not None and step.action is TimerAction.REMIND_APPROVER
        assert step.reminder is ReminderKind.APPROVAL_PENDING
        issue, event = issue.handle(
            SendReminder(reminder=ReminderKind.APPROVAL_PENDING), SYSTEM_ACTOR, step.due
        )
        sent.append((step.due, event.data["count"], event.data["copy_secretariat"]))
    return sent


def test_approver_is_reminded_every_two_working_days_from_the_request() -> None:
    dues = [due for due, _, _ in run_approver_timer(requested(), 5)]

    assert dues == [
        geneva(9, 11),  # Wednesday 9, (Jeûne), Friday 11
        geneva(9, 15),
        geneva(9, 17),
        geneva(9, 21),
        geneva(9, 23),
    ]


def test_approver_reminders_are_counted_and_copy_the_secretariat_from_the_fourth() -> None:
    flags = [(count, copy) for _, count, copy in run_approver_timer(requested(), 5)]

    assert flags == [(1, False), (2, False), (3, False), (4, True), (5, True)]


def test_comment_on_a_pending_request_pushes_the_approver_reminder() -> None:
    issue = commented(requested(), geneva(9, 9, 15, 0))

    # Wednesday 15:00 plus two working days, over the Jeûne: Monday 15:00.
    assert next_step(issue, geneva(9, 9, 15, 0)) == remind_approver(geneva(9, 14, 15, 0))


def test_comment_made_before_the_request_does_not_push_the_approver_reminder() -> None:
    issue = commented(raised(SEPT_RAISED), geneva(9, 7, 17, 0))
    issue, _ = issue.handle(
        RequestEscalation(reason="No budget."), ACTORS["fp_theme"], REQUESTED_AT
    )

    assert next_step(issue, REQUESTED_AT) == remind_approver(geneva(9, 11))


def test_a_new_request_after_a_return_counts_approver_reminders_afresh() -> None:
    issue = requested()
    for _ in range(4):
        step = next_step(issue, issue.updated_at)
        assert step is not None
        issue = reminded(issue, step, step.due)
    issue, _ = issue.handle(ReturnEscalation(reason="Ask GS."), ACTORS["chair"], geneva(9, 22))
    issue, _ = issue.handle(RequestEscalation(reason="Still no budget."), AUTHOR, geneva(9, 23))

    assert run_approver_timer(issue, 1) == [(geneva(9, 25), 1, False)]


def test_escalated_further_plans_the_next_levels_approver_from_the_decision() -> None:
    issue = make_issue(IssueState.ESCALATED, level=1, approver_reminders_sent=4)
    decided_at = geneva(9, 9, 16, 0)
    issue, _ = issue.handle(
        RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="Beyond us."),
        ACTORS["chair"],
        decided_at,
    )

    assert run_approver_timer(issue, 1) == [(geneva(9, 14, 16, 0), 1, False)]


# -- states without a timer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "level"),
    [
        (IssueState.ESCALATED, 1),
        (IssueState.DECIDED, 1),
        (IssueState.RESOLVED, 0),
        (IssueState.CLOSED, 1),
        (IssueState.WITHDRAWN, 0),
    ],
    ids=lambda v: v.value if isinstance(v, IssueState) else None,
)
def test_issue_in_a_state_without_a_timer_plans_nothing(state: IssueState, level: int) -> None:
    # Deadline and request time are set, so only the state can explain the None.
    issue = make_issue(state, level=level, escalation_requested_at=REQUESTED_AT)

    assert issue.discussion_deadline is not None
    assert next_step(issue, REQUESTED_AT) is None


def test_open_issue_recorded_without_a_deadline_plans_nothing() -> None:
    issue = make_issue(IssueState.OPEN, discussion_deadline=None)

    assert next_step(issue, MARCH_RAISED) is None


def test_pending_request_recorded_without_its_request_time_plans_nothing() -> None:
    issue = make_issue(IssueState.ESCALATION_REQUESTED, requested_level=1)

    assert issue.escalation_requested_at is None
    assert next_step(issue, MARCH_RAISED) is None


# -- legacy calendar days and compressed time ---------------------------------------------------


LEGACY = IssuePolicy(working_days=False)


def test_legacy_policy_counts_calendar_days_for_deadline_and_reminders() -> None:
    issue = raised(SEPT_RAISED, LEGACY)

    assert issue.discussion_deadline == geneva(9, 6)  # a Sunday, ten calendar days later
    assert next_step(issue, SEPT_RAISED) == discussion(3, geneva(9, 3))
    issue = reminded(issue, discussion(3, geneva(9, 3)), geneva(9, 3))
    assert next_step(issue, geneva(9, 3)) == discussion(1, geneva(9, 5))  # a Saturday


def test_legacy_policy_reminds_the_approver_every_two_calendar_days() -> None:
    issue, _ = raised(SEPT_RAISED, LEGACY).handle(
        RequestEscalation(reason="No budget."),
        AUTHOR,
        geneva(9, 4),  # a Friday
    )

    assert next_step(issue, geneva(9, 4)) == remind_approver(geneva(9, 6))  # the Sunday


MINUTE_DAYS = IssuePolicy(calendar=BusinessCalendar(day_seconds=60))


def test_compressed_calendar_plans_the_discussion_in_seconds() -> None:
    start = geneva(9, 10, 3, 0)  # a holiday, at night: irrelevant in compressed time
    issue = raised(start, MINUTE_DAYS)

    assert issue.discussion_deadline == start + timedelta(seconds=600)
    first = next_step(issue, start)
    assert first == discussion(3, start + timedelta(seconds=420))
    issue = reminded(issue, first, first.due)
    second = next_step(issue, first.due)
    assert second == discussion(1, start + timedelta(seconds=540))
    issue = reminded(issue, second, second.due)
    assert next_step(issue, second.due) == deadline_passed(start + timedelta(seconds=600))


def test_compressed_calendar_reminds_the_approver_every_two_day_lengths() -> None:
    start = geneva(9, 10, 3, 0)
    issue, _ = raised(start, MINUTE_DAYS).handle(
        RequestEscalation(reason="No budget."), AUTHOR, start + timedelta(seconds=100)
    )

    dues = [due for due, _, _ in run_approver_timer(issue, 3)]
    assert dues == [start + timedelta(seconds=s) for s in (220, 340, 460)]


def test_a_comment_after_a_reminder_fell_due_pushes_it_rather_than_cancelling_it() -> None:
    """Raised Mon 2 Mar 10:00 (Geneva); the 3-day reminder fell due Fri 6... then a comment."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from domain.issues import AddComment, Issue, RaiseIssue
    from domain.reminders import TimerAction, next_step
    from domain.roles import Actor, Role

    geneva = ZoneInfo("Europe/Zurich")
    author = Actor(id="fp", role=Role.FOCAL_POINT, themes=frozenset({"gender"}))
    raised_at = datetime(2026, 3, 2, 10, 0, tzinfo=geneva)
    issue, _ = Issue.raise_issue(
        RaiseIssue(issue_id="i", title="Title", description="d", theme="gender", sector="GS"),
        author,
        raised_at,
    )
    comment_at = datetime(2026, 3, 11, 10, 30, tzinfo=geneva)  # after the 3-day reminder's due
    commented, _ = issue.handle(AddComment(body="later"), author, comment_at)

    step = next_step(commented, comment_at)

    assert step is not None and step.action is TimerAction.REMIND_FOCAL_POINTS
    assert (step.days_before, step.due) == (3, datetime(2026, 3, 12, 10, 30, tzinfo=geneva))
