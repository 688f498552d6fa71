"""The business calendar: Geneva working days, holidays, working hours and compressed time.

Dates used (all 2026 unless stated): Good Friday 3 April and Easter Monday 6 April, summer time
from Sunday 29 March to Sunday 25 October, Jeûne genevois Thursday 10 September, Christmas
Friday 25 December, Restoration Day Thursday 31 December, New Year Friday 1 January 2027.
Every time is written in Geneva local time unless it is spelled out in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from domain.calendar import BusinessCalendar

GENEVA = ZoneInfo("Europe/Zurich")
CALENDAR = BusinessCalendar()
STAFF_DAY = date(2026, 3, 18)  # a Wednesday, closed by the organisation only
WITH_STAFF_DAY = BusinessCalendar(organisation_holidays=(STAFF_DAY,))
COMPRESSED = BusinessCalendar(day_seconds=60)


def geneva(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=GENEVA)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- working days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # New Year, a Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 9, 10),  # Jeûne genevois
        date(2026, 12, 25),  # Christmas, a Friday
        date(2026, 12, 31),  # Restoration Day, a Thursday
    ],
    ids=str,
)
def test_geneva_public_holiday_on_a_weekday_is_not_a_working_day(day: date) -> None:
    assert day.weekday() < 5
    assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 9, 12), date(2026, 9, 13)], ids=["sat", "sun"])
def test_weekend_day_is_not_a_working_day(day: date) -> None:
    assert not CALENDAR.is_working_day(day)


def test_week_of_the_jeune_genevois_has_four_working_days() -> None:
    week = [date(2026, 9, 7) + timedelta(days=n) for n in range(7)]

    working = [day for day in week if CALENDAR.is_working_day(day)]

    assert working == [date(2026, 9, 7), date(2026, 9, 8), date(2026, 9, 9), date(2026, 9, 11)]


def test_configured_organisation_holiday_is_not_a_working_day() -> None:
    assert CALENDAR.is_working_day(STAFF_DAY)
    assert not WITH_STAFF_DAY.is_working_day(STAFF_DAY)
    assert WITH_STAFF_DAY.is_working_day(STAFF_DAY + timedelta(days=1))


# -- add_working_days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (geneva(2026, 9, 8, 14, 30), 1, geneva(2026, 9, 9, 14, 30)),
        (geneva(2026, 9, 9, 14, 30), 1, geneva(2026, 9, 11, 14, 30)),  # over the Jeûne
        (geneva(2026, 9, 11, 14, 30), 1, geneva(2026, 9, 14, 14, 30)),  # over the weekend
        (geneva(2026, 9, 7, 9, 0), 10, geneva(2026, 9, 22, 9, 0)),  # two weeks less the Jeûne
        (geneva(2026, 4, 2, 16, 0), 1, geneva(2026, 4, 7, 16, 0)),  # over the Easter weekend
        (geneva(2026, 12, 24, 11, 0), 1, geneva(2026, 12, 28, 11, 0)),  # over Christmas
        (geneva(2026, 12, 30, 11, 0), 1, geneva(2027, 1, 4, 11, 0)),  # over 31 Dec and 1 Jan
    ],
    ids=[
        "plain-day",
        "jeune-genevois",
        "weekend",
        "ten-days-with-jeune",
        "easter",
        "christmas",
        "restoration-and-new-year",
    ],
)
def test_add_working_days_forwards_skips_weekends_and_holidays_keeping_local_time(
    start: datetime, days: int, expected: datetime
) -> None:
    assert CALENDAR.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (geneva(2026, 9, 11, 14, 30), -1, geneva(2026, 9, 9, 14, 30)),  # back over the Jeûne
        (geneva(2026, 9, 14, 14, 30), -1, geneva(2026, 9, 11, 14, 30)),  # back over the weekend
        (geneva(2026, 9, 22, 9, 0), -10, geneva(2026, 9, 7, 9, 0)),
        (geneva(2026, 4, 7, 16, 0), -1, geneva(2026, 4, 2, 16, 0)),  # back over Easter
        (geneva(2027, 1, 4, 11, 0), -2, geneva(2026, 12, 29, 11, 0)),
    ],
    ids=["jeune-genevois", "weekend", "ten-days-with-jeune", "easter", "year-end"],
)
def test_add_working_days_backwards_skips_weekends_and_holidays_keeping_local_time(
    start: datetime, days: int, expected: datetime
) -> None:
    assert CALENDAR.add_working_days(start, days) == expected


def test_add_working_days_skips_a_configured_organisation_holiday() -> None:
    tuesday = geneva(2026, 3, 17)

    assert CALENDAR.add_working_days(tuesday, 1) == geneva(2026, 3, 18)
    assert WITH_STAFF_DAY.add_working_days(tuesday, 1) == geneva(2026, 3, 19)
    assert WITH_STAFF_DAY.add_working_days(geneva(2026, 3, 19), -1) == tuesday


def test_add_working_days_keeps_geneva_time_over_the_end_of_summer_time() -> None:
    friday = utc(2026, 10, 23, 8, 0)  # 10:00 summer time (UTC+2)

    monday = CALENDAR.add_working_days(friday, 1)

    assert monday == utc(2026, 10, 26, 9, 0)  # 10:00 winter time (UTC+1)
    assert monday.astimezone(GENEVA).hour == 10


def test_add_working_days_backwards_keeps_geneva_time_over_the_end_of_summer_time() -> None:
    assert CALENDAR.add_working_days(utc(2026, 10, 26, 9, 0), -1) == utc(2026, 10, 23, 8, 0)


def test_add_working_days_keeps_geneva_time_over_the_start_of_summer_time() -> None:
    friday = utc(2026, 3, 27, 9, 0)  # 10:00 winter time

    assert CALENDAR.add_working_days(friday, 1) == utc(2026, 3, 30, 8, 0)  # 10:00 summer time


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # 22:30 UTC on Monday 7 September is already 00:30 on Tuesday 8 in Geneva.
        (utc(2026, 9, 7, 22, 30), 1, geneva(2026, 9, 9, 0, 30)),
        # 22:30 UTC on Wednesday 9 September is already 00:30 on the Jeûne genevois.
        (utc(2026, 9, 9, 22, 30), -1, geneva(2026, 9, 9, 0, 30)),
    ],
    ids=["forwards", "backwards-from-a-holiday"],
)
def test_add_working_days_counts_from_the_geneva_date_not_the_utc_date(
    start: datetime, days: int, expected: datetime
) -> None:
    assert CALENDAR.add_working_days(start, days) == expected


def test_add_zero_working_days_returns_the_same_moment() -> None:
    saturday = geneva(2026, 9, 12, 15, 0)

    assert CALENDAR.add_working_days(saturday, 0) == saturday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (geneva(2026, 9, 12, 15, 0), 1, geneva(2026, 9, 14, 15, 0)),
        (geneva(2026, 9, 13, 15, 0), -1, geneva(2026, 9, 11, 15, 0)),
    ],
    ids=["saturday-forwards", "sunday-backwards"],
)
def test_add_working_days_from_a_weekend_lands_on_the_nearest_working_day_in_that_direction(
    start: datetime, days: int, expected: datetime
) -> None:
    assert CALENDAR.add_working_days(start, days) == expected


# -- working_days_between -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (geneva(2026, 9, 9), geneva(2026, 9, 14), 2),  # Fri 11 and Mon 14, not the Jeûne
        (geneva(2026, 4, 2), geneva(2026, 4, 7), 1),  # Easter: only Tuesday 7
        (geneva(2026, 9, 7, 9, 0), geneva(2026, 9, 22, 9, 0), 10),
        (geneva(2026, 12, 23), geneva(2027, 1, 5), 6),  # 24, 28, 29, 30 Dec, 4 and 5 Jan
        (geneva(2026, 9, 8, 9, 0), geneva(2026, 9, 8, 17, 0), 0),  # same day
        (geneva(2026, 9, 8, 17, 0), geneva(2026, 9, 9, 8, 0), 1),  # time of day is ignored
    ],
    ids=["jeune-genevois", "easter", "ten-days", "year-end", "same-day", "next-morning"],
)
def test_working_days_between_counts_working_days_after_start_up_to_end(
    start: datetime, end: datetime, expected: int
) -> None:
    assert CALENDAR.working_days_between(start, end) == expected


@pytest.mark.parametrize("hours", [0, -1, -72], ids=["equal", "an-hour-before", "days-before"])
def test_working_days_between_is_zero_when_end_is_not_after_start(hours: int) -> None:
    start = geneva(2026, 9, 14)

    assert CALENDAR.working_days_between(start, start + timedelta(hours=hours)) == 0


def test_working_days_between_compares_geneva_dates_not_utc_dates() -> None:
    # Both moments are on Friday 11 September in Geneva, though on different UTC dates.
    start, end = utc(2026, 9, 10, 22, 30), utc(2026, 9, 11, 21, 0)

    assert CALENDAR.working_days_between(start, end) == 0


def test_working_days_between_leaves_out_an_organisation_holiday() -> None:
    start, end = geneva(2026, 3, 16), geneva(2026, 3, 20)

    assert CALENDAR.working_days_between(start, end) == 4
    assert WITH_STAFF_DAY.working_days_between(start, end) == 3


@pytest.mark.parametrize("days", range(0, 25))
def test_working_days_between_undoes_add_working_days(days: int) -> None:
    start = geneva(2026, 12, 17, 15, 0)  # over Christmas, Restoration Day and New Year

    assert CALENDAR.working_days_between(start, CALENDAR.add_working_days(start, days)) == days


# -- next_working_hour --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (geneva(2026, 9, 8, 7, 15), geneva(2026, 9, 8, 9, 0)),  # before opening
        (geneva(2026, 9, 8, 9, 0), geneva(2026, 9, 8, 9, 0)),  # at opening
        (geneva(2026, 9, 8, 14, 20), geneva(2026, 9, 8, 14, 20)),  # during hours
        (geneva(2026, 9, 8, 17, 59), geneva(2026, 9, 8, 17, 59)),  # last minute
        (geneva(2026, 9, 8, 18, 0), geneva(2026, 9, 9, 9, 0)),  # at closing
        (geneva(2026, 9, 8, 19, 0), geneva(2026, 9, 9, 9, 0)),  # after closing
        (geneva(2026, 9, 11, 18, 30), geneva(2026, 9, 14, 9, 0)),  # Friday evening
        (geneva(2026, 9, 12, 11, 0), geneva(2026, 9, 14, 9, 0)),  # Saturday
        (geneva(2026, 9, 9, 18, 30), geneva(2026, 9, 11, 9, 0)),  # eve of the Jeûne
        (geneva(2026, 9, 10, 7, 0), geneva(2026, 9, 11, 9, 0)),  # early on the Jeûne
        (geneva(2026, 9, 10, 11, 0), geneva(2026, 9, 11, 9, 0)),  # during the Jeûne
        (geneva(2026, 4, 2, 19, 0), geneva(2026, 4, 7, 9, 0)),  # eve of Good Friday
        (geneva(2026, 12, 30, 18, 5), geneva(2027, 1, 4, 9, 0)),  # eve of Restoration Day
    ],
    ids=[
        "before-opening",
        "at-opening",
        "during-hours",
        "last-minute",
        "at-closing",
        "after-closing",
        "friday-evening",
        "saturday",
        "holiday-eve",
        "holiday-early",
        "holiday-midday",
        "easter-eve",
        "year-end-eve",
    ],
)
def test_next_working_hour_is_the_moment_itself_in_hours_else_the_next_opening(
    at: datetime, expected: datetime
) -> None:
    assert CALENDAR.next_working_hour(at) == expected


def test_next_working_hour_opens_at_nine_geneva_time_after_the_end_of_summer_time() -> None:
    friday_evening = geneva(2026, 10, 23, 19, 0)

    assert CALENDAR.next_working_hour(friday_evening) == utc(2026, 10, 26, 8, 0)


def test_next_working_hour_skips_an_organisation_holiday() -> None:
    tuesday_evening = geneva(2026, 3, 17, 18, 30)

    assert CALENDAR.next_working_hour(tuesday_evening) == geneva(2026, 3, 18, 9, 0)
    assert WITH_STAFF_DAY.next_working_hour(tuesday_evening) == geneva(2026, 3, 19, 9, 0)


def test_next_working_hour_follows_configured_working_hours() -> None:
    mornings = BusinessCalendar(working_hours=(8, 12))

    assert mornings.next_working_hour(geneva(2026, 9, 8, 7, 30)) == geneva(2026, 9, 8, 8, 0)
    assert mornings.next_working_hour(geneva(2026, 9, 8, 11, 30)) == geneva(2026, 9, 8, 11, 30)
    assert mornings.next_working_hour(geneva(2026, 9, 8, 12, 30)) == geneva(2026, 9, 9, 8, 0)


# -- compressed time ----------------------------------------------------------------------------


def test_compressed_calendar_makes_every_day_a_working_day() -> None:
    for day in (date(2026, 9, 10), date(2026, 9, 13), date(2026, 12, 31)):  # Jeûne, Sun, 31 Dec
        assert COMPRESSED.is_working_day(day), day
    assert COMPRESSED.compressed and not CALENDAR.compressed


@pytest.mark.parametrize("days", [1, 3, 10, -2], ids=["1", "3", "10", "minus-2"])
def test_compressed_working_day_lasts_day_seconds(days: int) -> None:
    start = geneva(2026, 9, 9, 23, 59)  # the eve of a holiday, just before midnight

    assert COMPRESSED.add_working_days(start, days) == start + timedelta(seconds=60 * days)


@pytest.mark.parametrize(("seconds", "expected"), [(0, 0), (59, 0), (60, 1), (150, 2), (600, 10)])
def test_compressed_working_days_between_counts_whole_day_seconds(
    seconds: int, expected: int
) -> None:
    start = geneva(2026, 9, 12, 3, 0)

    assert COMPRESSED.working_days_between(start, start + timedelta(seconds=seconds)) == expected


def test_compressed_calendar_is_always_within_working_hours() -> None:
    sunday_night = geneva(2026, 9, 13, 3, 0)

    assert COMPRESSED.next_working_hour(sunday_night) == sunday_night


@pytest.mark.parametrize("seconds", [0, -5.0])
def test_compressed_day_of_no_or_negative_length_is_refused(seconds: float) -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(day_seconds=seconds)


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hours", [(18, 9), (9, 9), (-1, 17), (9, 25)], ids=["reversed", "empty", "negative", "past-24"]
)
def test_invalid_working_hours_are_refused(hours: tuple[int, int]) -> None:
    with pytest.raises(ValidationError, match="working_hours"):
        BusinessCalendar(working_hours=hours)


def test_round_the_clock_working_hours_are_accepted() -> None:
    always = BusinessCalendar(working_hours=(0, 24))

    assert always.next_working_hour(geneva(2026, 9, 8, 23, 30)) == geneva(2026, 9, 8, 23, 30)


def test_malformed_timezone_is_refused() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(timezone="")


def test_unknown_timezone_is_refused_as_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(timezone="Mars/Olympus_Mons")
