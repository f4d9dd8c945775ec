"""Period arithmetic in the acting authority's country and timezone (pure functions, no I/O).

Rules, after Regulation (EEC, Euratom) No 1182/71 on periods, dates and time limits, which EU instruments use:
- the day of the triggering event does not count (a 7-day period starting on Monday ends on the next Monday);
- a period in days ends at the **end of its last local day** (23:59:59 in the authority's timezone);
- when the last day of a calendar-day period is a weekend day or public holiday, the period ends at the end
  of the next working day;
- a business-day period counts only working days (not the country's weekend, not its public holidays, from
  the ``holidays`` library);
- an hour period is exact elapsed time (emergencies: e.g. 8 hours under the e-Evidence Regulation).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import holidays

END_OF_DAY = time(23, 59, 59)


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    HOURS = "hours"


@cache
def _holidays(country: str) -> holidays.HolidayBase:
    # Years are filled in lazily on lookup, so one object serves every date.
    return holidays.country_holidays(country)


def is_business_day(day: date, country: str) -> bool:
    calendar = _holidays(country)
    return day.weekday() not in calendar.weekend and day not in calendar


def holiday_name(day: date, country: str) -> str | None:
    name = _holidays(country).get(day)
    return str(name) if name else None


def next_business_day(day: date, country: str) -> date:
    """``day`` itself when it is a working day, otherwise the first working day after it."""
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int, country: str) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself not counted); ``count`` ≥ 0."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day, country):
            count -= 1
    return day


def business_days_between(start: date, end: date, country: str) -> int:
    """Working days in the half-open interval (start, end]."""
    return sum(
        1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n), country)
    )


def end_of_local_day(day: date, timezone: str) -> datetime:
    """23:59:59 of ``day`` in ``timezone``, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def add_period(start: datetime, amount: int, unit: Unit | str, *, country: str, timezone: str) -> datetime:
    """When a period of ``amount`` ``unit`` starting at ``start`` ends, for an authority of ``country`` in
    ``timezone``. ``start`` must be timezone-aware; the result is aware UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if amount < 0:
        raise ValueError("amount must not be negative")
    unit = Unit(unit)
    if unit is Unit.HOURS:
        return (start + timedelta(hours=amount)).astimezone(UTC)
    first = local_date(start, timezone)
    if unit is Unit.BUSINESS_DAYS:
        return end_of_local_day(add_business_days(first, amount, country), timezone)
    return end_of_local_day(next_business_day(first + timedelta(days=amount), country), timezone)


def due_date_deadline(day: date, *, timezone: str) -> datetime:
    """A date set by the requesting side (urgent requests): the end of that day where the requested side
    acts."""
    return end_of_local_day(day, timezone)


__all__ = [
    "Unit",
    "add_business_days",
    "add_period",
    "business_days_between",
    "due_date_deadline",
    "end_of_local_day",
    "holiday_name",
    "is_business_day",
    "local_date",
    "next_business_day",
]
