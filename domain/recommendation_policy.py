"""Configurable durations of a recommendation's follow-up, in working days and years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import BusinessCalendar

# The JIU calls a recommendation "long-outstanding" when it is still open five years on.
JIU_LONG_OUTSTANDING_YEARS = 5


class RecommendationPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Reminders to the owner, in working days before the target date.
    reminder_days_before: tuple[int, ...] = (30, 7, 1)
    # While overdue, the owner is reminded this often...
    overdue_every_days: int = Field(default=5, ge=1)
    # ...and from this many overdue reminders on, the secretariat is copied.
    overdue_reminders_before_copy: int = Field(default=3, ge=0)
    long_outstanding_years: int = Field(default=JIU_LONG_OUTSTANDING_YEARS, ge=1, le=50)
    # An overdue high-priority recommendation opens a key issue and asks for its escalation.
    escalate_overdue_high_priority: bool = True
    calendar: BusinessCalendar = BusinessCalendar()

    def add_days(self, start: datetime, days: int) -> datetime:
        return self.calendar.add_working_days(start, days)

    def moment(self, day: date, anchor: datetime) -> datetime:
        """When `day` begins for the follow-up: its opening hour in the calendar's zone.

        In compressed time every calendar day lasts `day_seconds`, counted from `anchor`'s day.
        """
        calendar = self.calendar
        if calendar.day_seconds is not None:
            anchor_day = anchor.astimezone(calendar.zone).date()
            return anchor + timedelta(seconds=calendar.day_seconds * (day - anchor_day).days)
        opening = time(calendar.working_hours[0])
        return datetime.combine(day, opening, tzinfo=calendar.zone).astimezone(UTC)

    def sending_time(self, due: datetime) -> datetime:
        """Reminders go out in working hours."""
        return self.calendar.next_working_hour(due)

    def long_outstanding_day(self, issued_on: date) -> date:
        """The day a recommendation issued on `issued_on` becomes long-outstanding."""
        return years_after(issued_on, self.long_outstanding_years)


def years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
