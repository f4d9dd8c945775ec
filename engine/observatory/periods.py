"""Calendar periods of statistical returns: a year (2026), a quarter (2026-Q1) or a month (2026-03), never an
arbitrary range, so that two published periods are either disjoint or one is made of whole others."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from engine.errors import InvalidInput

GRANULARITIES = ("year", "quarter", "month")
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")
SDMX_FREQ = {"year": "A", "quarter": "Q", "month": "M"}


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    code: str
    granularity: str

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def parts(self, granularity: str) -> list[Period]:
        """The periods of ``granularity`` that make up this one (itself when the same)."""
        if GRANULARITIES.index(granularity) < GRANULARITIES.index(self.granularity):
            raise InvalidInput(field="period", reason=f"{self.code} is shorter than a {granularity}")
        year = self.start.year
        if granularity == "year":
            codes = [str(year)]
        elif granularity == "quarter":
            codes = [f"{year}-Q{q}" for q in range(1, 5)]
        else:
            codes = [f"{year}-{m:02d}" for m in range(1, 13)]
        return [p for p in map(parse_period, codes) if self.contains(p)]


def parse_period(text: str, field: str = "period") -> Period:
    match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(field=field, reason=f"{text!r}: give a year (2026), a quarter (2026-Q1) or a month "
                                               "(2026-03)")
    year = int(match["year"])
    if year < 1900:
        raise InvalidInput(field=field, reason=f"{text!r}: year out of range")
    if match["quarter"]:
        first = 3 * (int(match["quarter"]) - 1) + 1
        start, end, granularity = date(year, first, 1), _month_end(year, first + 2), "quarter"
    elif match["month"]:
        month = int(match["month"])
        start, end, granularity = date(year, month, 1), _month_end(year, month), "month"
    else:
        start, end, granularity = date(year, 1, 1), date(year, 12, 31), "year"
    return Period(start=start, end=end, code=text.strip(), granularity=granularity)


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def calendar_period(first: date, last: date, fields: tuple[str, str] = ("from", "to")) -> Period:
    """The calendar period that runs exactly from ``first`` to ``last``; any other range is refused (naming
    the first field that does not fit), since two overlapping ranges could be differenced."""
    from engine.errors import NotCalendarPeriod

    candidates = [parse_period(str(first.year)), parse_period(f"{first.year}-Q{(first.month - 1) // 3 + 1}"),
                  parse_period(f"{first.year}-{first.month:02d}")]
    for period in candidates:
        if period.start == first and period.end == last:
            return period
    if not any(period.start == first for period in candidates):
        raise NotCalendarPeriod(field=fields[0], value=first.isoformat())
    raise NotCalendarPeriod(field=fields[1], value=last.isoformat())
