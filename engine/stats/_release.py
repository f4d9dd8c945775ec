"""One release = one calendar year of one direction: its year, quarters and months, every breakdown, the
totals and the sample sizes of the time figures, protected together by :mod:`engine.stats._sdc`.

Whatever calendar period a user asks for (2026, 2026-Q2, 2026-05) is read from the protected year, so a year,
its quarters and its months can be published side by side: nested and adjacent periods cannot be differenced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo

from engine.observatory.periods import Period, parse_period
from engine.stats._facts import CaseFacts
from engine.stats._sdc import System, protect

SINGLE = ("counterpart_country", "urgency", "outcome")  # each case has exactly one key: they add up to the total
MULTI = ("offence_category", "measure_type")  # a case may count under several keys, or none
GROUNDS = "refusal_ground"  # keys of refused cases only


def year_periods(year: int) -> list[Period]:
    codes = [str(year), *(f"{year}-Q{q}" for q in range(1, 5)), *(f"{year}-{m:02d}" for m in range(1, 13))]
    return [parse_period(code) for code in codes]


def _children(period: Period) -> list[str]:
    if period.granularity == "year":
        return [f"{period.start.year}-Q{q}" for q in range(1, 5)]
    if period.granularity == "quarter":
        first = period.start.month
        return [f"{period.start.year}-{m:02d}" for m in range(first, first + 3)]
    return []


@dataclass
class Protected:
    values: dict[tuple[str, ...], int]
    hidden: set[tuple[str, ...]]

    def shown(self, cell: tuple[str, ...]) -> int | None:
        """The published count (``None``: suppressed); a cell never counted is 0."""
        return None if cell in self.hidden and self.values.get(cell, 0) else self.values.get(cell, 0)

    def keys(self, section: str, period: str) -> list[str]:
        """Keys of ``section`` published for ``period``: counted and not suppressed (no row otherwise)."""
        return sorted(
            key for (s, key, p), v in ((c, v) for c, v in self.values.items() if len(c) == 3)
            if s == section and p == period and v and (s, key, p) not in self.hidden
        )


def protect_year(
    facts: Iterable[CaseFacts],
    *,
    year: int,
    timezone: tzinfo,
    threshold: int,
    keys: dict[str, Callable[[CaseFacts], Iterable[str]]],
    spans: dict[str, Callable[[CaseFacts], float | None]],
) -> Protected:
    """Counts of one direction's cases opened in ``year`` and the cells to hide (see the module docstring)."""
    periods = year_periods(year)
    mine = [f for f in facts if f.opened_at.astimezone(timezone).year == year]
    system = System()
    values: dict[tuple[str, ...], int] = {}
    seen = {s: sorted({k for f in mine for k in keys[s](f)}) for s in keys}
    for period in periods:
        cases = [f for f in mine if period.start <= f.opened_at.astimezone(timezone).date() <= period.end]
        code = period.code
        total = ("total", code)
        values[total] = len(cases)
        system.margins.add(total)
        for section, known in seen.items():
            for key in known:
                values[(section, key, code)] = sum(key in set(keys[section](f)) for f in cases)
            cells = tuple((section, key, code) for key in known)
            if section in SINGLE:
                system.equal.append((total, cells))
            else:
                base = total if section in MULTI else ("outcome", "refused", code)
                system.at_most += [(cell, base) for cell in cells]
                members = cases if section in MULTI else [f for f in cases if f.outcome == "refused"]
                if cells and all(tuple(keys[section](f)) for f in members):  # true here, so known to anyone
                    system.at_least.append((base, cells))
        for metric, span in spans.items():
            values[("n", metric, code)] = sum(span(f) is not None for f in cases)
            system.at_most.append((("n", metric, code), total))
        children = _children(period)
        if children:
            rows = {cell[:-1] for cell in values if cell[-1] == code}
            for row in rows:
                system.equal.append(((*row, code), tuple((*row, child) for child in children)))
    system.values = dict(values)
    # Complementary cells are taken from months before quarters before the year: the coarser, the more useful.
    level = {p.code: ("month", "quarter", "year").index(p.granularity) for p in periods}
    system.rank = {cell: level[cell[-1]] for cell in values}
    # Zero cells are never shown as rows, so they are unknowns to the attacker: hidden from the start.
    hidden = {c for c, v in values.items() if v == 0 and c[0] != "total"}
    hidden = protect(system, threshold, hidden=hidden)
    # A time figure's n counts executed (decided, acknowledged) cases: it goes with the outcome cells, so it
    # is hidden, and protected like them, wherever an outcome of its period is.
    while True:
        linked = {
            ("n", metric, p.code)
            for p in periods
            for metric in spans
            if values[("n", metric, p.code)]
            and any(c in hidden and values[c] for c in values if c[0] == "outcome" and c[-1] == p.code)
        }
        again = protect(system, threshold, hidden=hidden | linked, linked=linked)
        if again == hidden:
            break
        hidden = again
    return Protected(values=values, hidden=hidden)
