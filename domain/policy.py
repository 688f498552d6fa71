"""Configurable durations that shape an issue's life, in working days."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import BusinessCalendar


class IssuePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    discussion_days: int = Field(default=10, ge=1, le=365)
    # Reminders to the theme's focal points, in working days before the discussion deadline.
    reminder_days_before: tuple[int, ...] = (3, 1)
    # Activity (a comment) pushes the next reminder at least this far out.
    quiet_days_after_activity: int = Field(default=1, ge=0)
    # A pending escalation request reminds its approver this often...
    approver_reminder_every_days: int = Field(default=2, ge=1)
    # ...and after this many reminders the secretariat is copied.
    approver_reminders_before_copy: int = Field(default=3, ge=0)
    calendar: BusinessCalendar = BusinessCalendar()
    # False only for issues started before deadlines counted working days (calendar days).
    working_days: bool = True

    def add_days(self, start: datetime, days: int) -> datetime:
        if not self.working_days:
            return start + timedelta(days=days)
        return self.calendar.add_working_days(start, days)

    def discussion_deadline(self, now: datetime) -> datetime:
        return self.add_days(now, self.discussion_days)
