"""The business calendar: Geneva working days, organisation holidays, working hours.

Pure: every function takes the moment it reasons about. In "compressed" mode (for tests and
demonstrations) a working day lasts `day_seconds` seconds and every day is a working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

# Moments users may set (deadlines, meeting and target dates): the years of `Day` in
# recommendation_terms.
EARLIEST_MOMENT = datetime(1945, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)
# The years whose holiday tables are loaded ahead of use (see `load_holiday_tables`): those
# moments' years and one more at each end, for working days counted before and after them,
# so that no workflow needs a table it cannot build.
HOLIDAY_YEARS = range(EARLIEST_MOMENT.year - 1, LATEST_MOMENT.year + 2)


def within_calendar(moment: datetime) -> bool:
    """Whether working days around `moment` can be counted (see `EARLIEST_MOMENT`)."""
    return EARLIEST_MOMENT <= moment <= LATEST_MOMENT


@lru_cache(maxsize=len(HOLIDAY_YEARS) + 16)
def geneva_public_holidays(year: int) -> frozenset[date]:
    """Public holidays of the canton of Geneva in `year`."""
    return frozenset(holidays.country_holidays("CH", subdiv="GE", years=[year]).keys())


def load_holiday_tables() -> None:
    """Compute the holiday tables once, outside any workflow.

    The `holidays` package reads the process locale while it builds a table, which the
    workflow sandbox forbids; workflows then only read the cached tables.
    """
    for year in HOLIDAY_YEARS:
        geneva_public_holidays(year)


class BusinessCalendar(BaseModel):
    model_config = ConfigDict(frozen=True)

    timezone: str = "Europe/Zurich"
    organisation_holidays: tuple[date, ...] = ()
    working_hours: tuple[int, int] = (9, 18)
    day_seconds: float | None = Field(
        default=None, gt=0, description="compressed time: seconds per working day (tests, demos)"
    )

    @model_validator(mode="after")
    def _hours_make_sense(self) -> BusinessCalendar:
        start, end = self.working_hours
        if not 0 <= start < end <= 24:
            raise ValueError("working_hours must be (start, end) with 0 <= start < end <= 24")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{self.timezone}'") from None
        return self

    @property
    def compressed(self) -> bool:
        return self.day_seconds is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        if self.compressed:
            return True
        return (
            day.weekday() < 5
            and day not in geneva_public_holidays(day.year)
            and day not in self.organisation_holidays
        )

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time `days` working days later (earlier when negative)."""
        if self.day_seconds is not None:
            return start + timedelta(seconds=self.day_seconds * days)
        local = start.astimezone(self.zone)
        day = local.date()
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone)
        return moved.astimezone(UTC)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s day (0 if end <= start)."""
        if end <= start:
            return 0
        if self.day_seconds is not None:
            return int((end - start).total_seconds() // self.day_seconds)
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def next_working_hour(self, at: datetime) -> datetime:
        """`at` if it falls within working hours of a working day, else the next opening."""
        if self.compressed:
            return at
        start_hour, end_hour = self.working_hours
        local = at.astimezone(self.zone)
        day = local.date()
        opening = datetime.combine(day, time(start_hour), tzinfo=self.zone)
        if self.is_working_day(day) and local.hour < end_hour:
            return max(local, opening).astimezone(UTC)
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, time(start_hour), tzinfo=self.zone).astimezone(UTC)
