"""Business-day arithmetic in the acting authority's country and timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.deadlines.calendar import (
    add_business_days,
    add_period,
    business_days_between,
    end_of_local_day,
    holiday_name,
    is_business_day,
    local_date,
)

ZONES = {
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "FR": "Europe/Paris",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "CO": "America/Bogota",
    "CL": "America/Santiago",
    "UY": "America/Montevideo",
}


def local(country: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(ZONES[country]))  # type: ignore[misc]


# (country, start (local), business days, expected last day, the holiday skipped)
HOLIDAY_CASES = [
    ("MX", (2026, 11, 13, 10), 1, date(2026, 11, 17), date(2026, 11, 16)),  # Revolution Day (Monday)
    ("ES", (2026, 12, 7, 9), 1, date(2026, 12, 9), date(2026, 12, 8)),  # Immaculate Conception
    ("PT", (2026, 11, 30, 9), 1, date(2026, 12, 2), date(2026, 12, 1)),  # Restoration of Independence
    ("FR", (2026, 11, 10, 9), 1, date(2026, 11, 12), date(2026, 11, 11)),  # Armistice
    ("BR", (2026, 11, 19, 9), 1, date(2026, 11, 23), date(2026, 11, 20)),  # Black Awareness Day (Friday)
    ("CO", (2026, 11, 13, 9), 1, date(2026, 11, 17), date(2026, 11, 16)),  # Cartagena, moved to Monday
    ("CO", (2026, 12, 4, 9), 3, date(2026, 12, 10), date(2026, 12, 8)),  # weekend + Immaculate Conception
]


@pytest.mark.parametrize(("country", "start", "days", "last_day", "holiday"), HOLIDAY_CASES)
def test_business_days_skip_the_national_holiday(
    country: str, start: tuple[int, ...], days: int, last_day: date, holiday: date
) -> None:
    assert holiday_name(holiday, country) is not None
    assert not is_business_day(holiday, country)
    due = add_period(local(country, *start), days, "business_days", country=country, timezone=ZONES[country])
    assert due == end_of_local_day(last_day, ZONES[country])
    assert due.astimezone(ZoneInfo(ZONES[country])).time().isoformat() == "23:59:59"


def test_mexican_deadline_ends_at_local_end_of_day_in_utc() -> None:
    due = add_period(
        local("MX", 2026, 11, 13, 10), 1, "business_days", country="MX", timezone="America/Mexico_City"
    )
    assert due == datetime(2026, 11, 18, 5, 59, 59, tzinfo=UTC)  # 23:59:59 CST (UTC−6) on the 17th


def test_a_holiday_elsewhere_is_a_working_day_here() -> None:
    assert not is_business_day(date(2026, 11, 16), "MX")
    assert is_business_day(date(2026, 11, 16), "ES")
    es = add_period(local("ES", 2026, 11, 13, 10), 1, "business_days", country="ES", timezone="Europe/Madrid")
    assert local_date(es, "Europe/Madrid") == date(2026, 11, 16)


def test_calendar_period_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    # 18 Dec + 7 days = Friday 25 December (Christmas) → Monday 28 December
    due = add_period(
        local("ES", 2026, 12, 18, 10), 7, "calendar_days", country="ES", timezone="Europe/Madrid"
    )
    assert due == end_of_local_day(date(2026, 12, 28), "Europe/Madrid")
    # the same period in Portugal: 25 December is a holiday there too; in an ordinary week it is not moved
    plain = add_period(
        local("PT", 2026, 11, 2, 10), 7, "calendar_days", country="PT", timezone="Europe/Lisbon"
    )
    assert local_date(plain, "Europe/Lisbon") == date(2026, 11, 9)


def test_the_day_of_the_event_does_not_count_and_late_evening_is_the_local_day() -> None:
    # 23:30 in Bogotá on Monday 23 Nov is already Tuesday in UTC; the period still counts from Monday.
    start = local("CO", 2026, 11, 23, 23, 30)
    due = add_period(start, 7, "calendar_days", country="CO", timezone="America/Bogota")
    assert local_date(due, "America/Bogota") == date(2026, 11, 30)


def test_daylight_saving_change_inside_the_period() -> None:
    # Madrid leaves summer time on 25 Oct 2026: the end of day is 22:59:59 UTC afterwards, 21:59:59 before.
    due = add_period(
        local("ES", 2026, 10, 20, 12), 7, "calendar_days", country="ES", timezone="Europe/Madrid"
    )
    assert due == datetime(2026, 10, 27, 22, 59, 59, tzinfo=UTC)
    before = add_period(
        local("ES", 2026, 10, 14, 12), 7, "calendar_days", country="ES", timezone="Europe/Madrid"
    )
    assert before == datetime(2026, 10, 21, 21, 59, 59, tzinfo=UTC)


def test_hours_are_exact_elapsed_time() -> None:
    start = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)
    assert add_period(start, 8, "hours", country="ES", timezone="Europe/Madrid") == start + timedelta(hours=8)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        add_period(datetime(2026, 1, 1), 1, "calendar_days", country="ES", timezone="Europe/Madrid")
    with pytest.raises(ValueError):
        add_period(datetime(2026, 1, 1, tzinfo=UTC), 1, "fortnights", country="ES", timezone="Europe/Madrid")
    with pytest.raises(ValueError):
        add_business_days(date(2026, 1, 1), -1, "ES")


starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
countries = st.sampled_from(sorted(ZONES))


@settings(max_examples=150, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=60), country=countries)
def test_business_day_period_properties(start: datetime, days: int, country: str) -> None:
    zone = ZONES[country]
    due = add_period(start, days, "business_days", country=country, timezone=zone)
    first, last = local_date(start, zone), local_date(due, zone)
    assert due.astimezone(ZoneInfo(zone)).time().isoformat() == "23:59:59"
    assert business_days_between(first, last, country) == days
    if days:
        assert is_business_day(last, country)
        assert due > start
    longer = add_period(start, days + 1, "business_days", country=country, timezone=zone)
    assert longer > due


@settings(max_examples=150, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=120), country=countries)
def test_calendar_day_period_properties(start: datetime, days: int, country: str) -> None:
    zone = ZONES[country]
    due = add_period(start, days, "calendar_days", country=country, timezone=zone)
    nominal = local_date(start, zone) + timedelta(days=days)
    last = local_date(due, zone)
    assert last >= nominal and is_business_day(last, country)
    # only non-working days lie between the nominal last day and the actual one
    assert all(
        not is_business_day(nominal + timedelta(days=n), country) for n in range((last - nominal).days)
    )
