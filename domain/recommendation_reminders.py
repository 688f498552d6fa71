"""What a recommendation's timer does next, and whom its events notify: pure planning."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import Priority, ReminderKind
from domain.recommendations import Recommendation, RecommendationEvent


class FollowUp(StrEnum):
    # In this order when two fall due at the same moment.
    OPEN_ESCALATION_ISSUE = "open_escalation_issue"
    REMIND_DUE = "remind_due"
    REMIND_OVERDUE = "remind_overdue"
    MARK_LONG_OUTSTANDING = "mark_long_outstanding"


_ORDER = {action: position for position, action in enumerate(FollowUp)}


class FollowUpStep(BaseModel):
    """The next thing the recommendation's timer does, and when."""

    model_config = ConfigDict(frozen=True)

    action: FollowUp
    due: datetime
    days_before: int | None = None


def overdue_from(rec: Recommendation, policy: RecommendationPolicy) -> datetime | None:
    """The first working day after the target date: from then on the owner is late."""
    if rec.target_at is None:
        return None
    return policy.add_days(rec.target_at, 1)


def next_step(
    rec: Recommendation, policy: RecommendationPolicy, now: datetime
) -> FollowUpStep | None:
    """The earliest follow-up step due for `rec` as it stands at `now`, if any."""
    candidates = [
        step
        for step in (
            _due_reminder(rec, policy, now),
            _overdue_reminder(rec, policy),
            _escalation(rec, policy),
            _long_outstanding(rec, policy),
        )
        if step is not None
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda step: (step.due, _ORDER[step.action]))


def _due_reminder(
    rec: Recommendation, policy: RecommendationPolicy, now: datetime
) -> FollowUpStep | None:
    late_from = overdue_from(rec, policy)
    if not rec.awaits_implementation or rec.target_at is None or late_from is None:
        return None
    set_at = rec.target_set_at or rec.created_at
    pending = sorted(
        (d for d in set(policy.reminder_days_before) if d not in rec.reminders_sent), reverse=True
    )
    for position, days in enumerate(pending):
        planned = policy.add_days(rec.target_at, -days)
        if planned < set_at:
            continue  # already past when the target was set: it does not apply
        if any(sent < days for sent in rec.reminders_sent):
            continue  # a closer reminder already went out
        due = policy.sending_time(planned)
        if due >= late_from:
            continue  # the target has passed: overdue reminders take over
        closer = pending[position + 1 :]
        if due <= now and any(policy.add_days(rec.target_at, -d) <= now for d in closer):
            continue  # missed, and a closer reminder is due as well: send only that one
        return FollowUpStep(action=FollowUp.REMIND_DUE, due=due, days_before=days)
    return None


def _overdue_reminder(rec: Recommendation, policy: RecommendationPolicy) -> FollowUpStep | None:
    late_from = overdue_from(rec, policy)
    if not rec.awaits_implementation or late_from is None:
        return None
    last = rec.last_overdue_reminder_at
    planned = late_from if last is None else policy.add_days(last, policy.overdue_every_days)
    return FollowUpStep(action=FollowUp.REMIND_OVERDUE, due=policy.sending_time(planned))


def _escalation(rec: Recommendation, policy: RecommendationPolicy) -> FollowUpStep | None:
    late_from = overdue_from(rec, policy)
    if (
        not policy.escalate_overdue_high_priority
        or rec.record.priority is not Priority.HIGH
        or not rec.awaits_implementation
        or late_from is None
        or rec.escalation_issue_id is not None
        or rec.escalation_failure is not None
    ):
        return None
    return FollowUpStep(action=FollowUp.OPEN_ESCALATION_ISSUE, due=policy.sending_time(late_from))


def _long_outstanding(rec: Recommendation, policy: RecommendationPolicy) -> FollowUpStep | None:
    if not rec.is_open or rec.long_outstanding_at is not None:
        return None
    day = policy.long_outstanding_day(rec.record.issued_on)
    return FollowUpStep(
        action=FollowUp.MARK_LONG_OUTSTANDING, due=policy.moment(day, rec.created_at)
    )


class Audience(StrEnum):
    OWNER = "owner"
    SECRETARIAT = "secretariat"


class RecommendationNotice(BaseModel):
    """One template sent to one audience."""

    model_config = ConfigDict(frozen=True)

    template: str
    audience: Audience


def notices_for(event: RecommendationEvent) -> list[RecommendationNotice]:
    """The notifications `event` causes (the actor never notifies themself)."""
    owner = Audience.OWNER
    match event.name:
        case "ReminderSent" if event.data.get("reminder") == ReminderKind.DUE.value:
            return [RecommendationNotice(template="recommendation_due", audience=owner)]
        case "ReminderSent":
            notices = [RecommendationNotice(template="recommendation_overdue", audience=owner)]
            if event.data.get("copy_secretariat"):
                notices.append(
                    RecommendationNotice(
                        template="recommendation_overdue", audience=Audience.SECRETARIAT
                    )
                )
            return notices
        case "ReturnedToInProgress":
            return [RecommendationNotice(template="recommendation_returned", audience=owner)]
        case _:
            return []
