"""Planning a recommendation's follow-up with an explicit `now`, on the Geneva calendar.

The target date of the builders' record is Monday 30 June 2025; Geneva's Ascension (29 May)
and Whit Monday (9 June) fall between it and the reminders, and are not working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.calendar import BusinessCalendar
from domain.recommendation_commands import (
    ClaimImplemented,
    LinkEscalationIssue,
    RecommendationCommand,
    SendReminder,
)
from domain.recommendation_policy import RecommendationPolicy, years_after
from domain.recommendation_reminders import FollowUp, next_step, notices_for, overdue_from
from domain.recommendation_terms import Acceptance, Implementation, Priority, ReminderKind
from domain.recommendations import Recommendation
from domain.roles import SYSTEM_ACTOR, Actor
from tests.support.recommendations import NOW, OWNER, created

POLICY = RecommendationPolicy()


def _utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# 09:00 in Geneva (summer time) is 07:00 UTC.
THIRTY_BEFORE = _utc(2025, 5, 15, 7)
SEVEN_BEFORE = _utc(2025, 6, 19, 7)
ONE_BEFORE = _utc(2025, 6, 27, 7)
FIRST_OVERDUE = _utc(2025, 7, 1, 7)
SECOND_OVERDUE = _utc(2025, 7, 8, 7)


def accepted(**kwargs: Any) -> Recommendation:
    return created(acceptance=Acceptance.ACCEPTED, **kwargs)


def apply(
    rec: Recommendation, command: RecommendationCommand, at: datetime, actor: Actor = SYSTEM_ACTOR
) -> Recommendation:
    new, _ = rec.handle(command, actor, at, POLICY)
    return new


def remind(rec: Recommendation, at: datetime) -> Recommendation:
    step = next_step(rec, POLICY, at)
    assert step is not None
    kind = ReminderKind.DUE if step.action is FollowUp.REMIND_DUE else ReminderKind.OVERDUE
    return apply(rec, SendReminder(reminder=kind, days_before=step.days_before), at)


def test_the_owner_is_reminded_30_7_and_1_working_days_before_the_target_date() -> None:
    rec = accepted()
    due = []
    for _ in range(3):
        step = next_step(rec, POLICY, NOW)
        assert step is not None and step.action is FollowUp.REMIND_DUE
        due.append((step.days_before, step.due))
        rec = remind(rec, step.due)

    assert due == [(30, THIRTY_BEFORE), (7, SEVEN_BEFORE), (1, ONE_BEFORE)]


def test_then_every_5_working_days_while_overdue() -> None:
    rec = accepted().model_copy(update={"reminders_sent": (30, 7, 1)})

    first = next_step(rec, POLICY, ONE_BEFORE)
    assert first is not None
    assert (first.action, first.due) == (FollowUp.REMIND_OVERDUE, FIRST_OVERDUE)
    assert overdue_from(rec, POLICY) == FIRST_OVERDUE

    rec = remind(rec, FIRST_OVERDUE)
    second = next_step(rec, POLICY, FIRST_OVERDUE)
    assert second is not None
    assert (second.action, second.due) == (FollowUp.REMIND_OVERDUE, SECOND_OVERDUE)


def test_missed_reminders_send_only_the_closest() -> None:
    rec = accepted().model_copy(update={"reminders_sent": (30,)})
    late = _utc(2025, 6, 28, 10)  # both the 7-day and the 1-day reminder are due

    step = next_step(rec, POLICY, late)

    assert step is not None
    assert (step.action, step.days_before) == (FollowUp.REMIND_DUE, 1)


def test_reminders_already_past_when_the_target_was_set_do_not_apply() -> None:
    rec = accepted(target_date=date(2025, 3, 7))  # a Friday, four days after NOW

    step = next_step(rec, POLICY, NOW)

    assert step is not None
    assert (step.days_before, step.due) == (1, _utc(2025, 3, 6, 8))  # 09:00 CET


def test_nothing_is_planned_for_the_owner_before_acceptance_or_after_a_claim() -> None:
    undecided = created()
    claimed = apply(
        accepted(),
        ClaimImplemented(narrative="Done.", evidence=("https://itu.int/e",)),
        NOW,
        actor=OWNER,
    )

    for rec in (undecided, claimed):
        step = next_step(rec, POLICY, NOW)
        assert step is not None
        assert step.action is FollowUp.MARK_LONG_OUTSTANDING  # still open: only that remains


def test_an_open_recommendation_becomes_long_outstanding_after_five_years() -> None:
    rec = created()  # issued on 1 June 2024

    step = next_step(rec, POLICY, NOW)

    assert step is not None
    assert (step.action, step.due) == (FollowUp.MARK_LONG_OUTSTANDING, _utc(2029, 6, 1, 7))
    assert years_after(date(2024, 2, 29), 5) == date(2029, 2, 28)


def test_the_long_outstanding_period_is_configurable() -> None:
    policy = RecommendationPolicy(long_outstanding_years=3)

    step = next_step(created(policy=policy), policy, NOW)

    assert step is not None and step.due == _utc(2027, 6, 1, 7)


def test_an_overdue_high_priority_recommendation_opens_one_issue_first() -> None:
    rec = accepted(priority=Priority.HIGH).model_copy(update={"reminders_sent": (30, 7, 1)})

    step = next_step(rec, POLICY, FIRST_OVERDUE)
    assert step is not None
    assert (step.action, step.due) == (FollowUp.OPEN_ESCALATION_ISSUE, FIRST_OVERDUE)

    linked = apply(rec, LinkEscalationIssue(issue_id="i-1"), FIRST_OVERDUE)
    after = next_step(linked, POLICY, FIRST_OVERDUE)
    assert after is not None and after.action is FollowUp.REMIND_OVERDUE


def test_escalation_can_be_switched_off() -> None:
    policy = RecommendationPolicy(escalate_overdue_high_priority=False)
    rec = accepted(priority=Priority.HIGH).model_copy(update={"reminders_sent": (30, 7, 1)})

    step = next_step(rec, policy, FIRST_OVERDUE)

    assert step is not None and step.action is FollowUp.REMIND_OVERDUE


def test_reminders_fall_in_working_hours() -> None:
    rec = accepted()
    evening = _utc(2025, 5, 15, 20)

    step = next_step(rec.model_copy(update={"reminders_sent": (30,)}), POLICY, evening)

    assert step is not None and step.due == SEVEN_BEFORE
    assert step.due.astimezone(POLICY.calendar.zone).hour == 9


def test_compressed_time_maps_calendar_days_to_seconds() -> None:
    policy = RecommendationPolicy(calendar=BusinessCalendar(day_seconds=0.1))
    rec = created(
        policy=policy,
        acceptance=Acceptance.ACCEPTED,
        target_date=NOW.astimezone(policy.calendar.zone).date() + timedelta(days=35),
    )

    step = next_step(rec, policy, NOW)

    assert rec.target_at == NOW + timedelta(seconds=3.5)
    assert step is not None and step.due == NOW + timedelta(seconds=0.5)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"reminder": "due", "days_before": 7}, [("recommendation_due", "owner")]),
        ({"reminder": "overdue", "count": 1}, [("recommendation_overdue", "owner")]),
        (
            {"reminder": "overdue", "count": 4, "copy_secretariat": True},
            [("recommendation_overdue", "owner"), ("recommendation_overdue", "secretariat")],
        ),
    ],
)
def test_reminders_notify_the_owner_and_later_the_secretariat(
    data: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    _, event = accepted().handle(
        SendReminder(reminder=ReminderKind(str(data["reminder"]))), SYSTEM_ACTOR, NOW, POLICY
    )
    event = event.model_copy(update={"data": data})

    assert [(n.template, n.audience.value) for n in notices_for(event)] == expected


def test_the_secretariat_is_copied_from_the_fourth_overdue_reminder() -> None:
    rec = accepted().model_copy(update={"reminders_sent": (30, 7, 1)})
    copies = []
    at = FIRST_OVERDUE
    for _ in range(4):
        step = next_step(rec, POLICY, at)
        assert step is not None
        at = step.due
        rec, event = rec.handle(
            SendReminder(reminder=ReminderKind.OVERDUE), SYSTEM_ACTOR, at, POLICY
        )
        copies.append(event.data["copy_secretariat"])

    assert copies == [False, False, False, True]
    assert rec.implementation is Implementation.NOT_STARTED
