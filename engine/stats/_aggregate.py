"""Pure aggregation of case and deadline facts into a report, with statistical disclosure control.

Reports cover calendar periods only. Counts, totals and the sample sizes of the time figures are read from the
protected calendar year (:mod:`engine.stats._release`, :mod:`engine.stats._sdc`): a suppressed breakdown key
has no row at all, a suppressed total or sample size is ``None``, and medians and 90th percentiles go with
their sample size. Overdue rates over fewer than ``threshold`` clocks are suppressed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.observatory.periods import Period, calendar_period
from engine.stats._facts import ASSET_FLOWS, CaseFacts, DeadlineFacts
from engine.stats._release import Protected, protect_year
from engine.stats._sdc import System, protect

DIRECTIONS = ("sent", "received")
SECTIONS = ("counterpart_country", "offence_category", "measure_type", "urgency", "outcome", "refusal_ground")
METRICS = ("acknowledge", "decide", "execute")
DEFAULT_THRESHOLD = 5  # also engine.stats._policy: the default when an authority set no policy


@dataclass(frozen=True)
class Cell:
    section: str
    direction: str
    key: str
    count: int | None  # None: suppressed


@dataclass(frozen=True)
class Duration:
    direction: str
    metric: str  # acknowledge | decide | execute
    n: int | None  # None: suppressed (fewer than threshold cases)
    median_days: float | None  # None: suppressed (n below threshold) or no data
    p90_days: float | None


@dataclass(frozen=True)
class Overdue:
    kind: str
    responsible: str  # self | counterpart
    deadlines: int | None
    rate: float | None


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    direction: str
    count: int | None
    execute_median_days: float | None  # cases executed that month (by execution date)


@dataclass(frozen=True)
class AssetCell:
    """Amounts of the latest execution reports of the cases in scope: one stage (frozen, seized, confiscated,
    returned), one asset kind (``_T``: all kinds) and one ISO 4217 currency; ``cases`` requests behind it."""

    direction: str
    flow: str
    currency: str
    kind: str
    cases: int | None  # None: suppressed (fewer than threshold requests), with its amount
    amount: Decimal | None


@dataclass
class Report:
    authority: str
    period_from: date
    period_to: date
    threshold: int
    generated_at: datetime
    totals: dict[str, int | None] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    durations: list[Duration] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)
    assets: list[AssetCell] = field(default_factory=list)
    period: str = ""  # the calendar period: 2026, 2026-Q2, 2026-05

    @property
    def suppressed(self) -> int:
        return (
            sum(v is None for v in self.totals.values())
            + sum(d.n is None for d in self.durations)
            + sum(m.count is None for m in self.months)
            + sum(a.cases is None for a in self.assets)
        )


# --- statistics
def median_p90(values: Sequence[float]) -> tuple[float, float]:
    """Median and 90th percentile (linear interpolation between closest ranks, ``statistics`` "inclusive")."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0], ordered[0]
    return statistics.median(ordered), statistics.quantiles(ordered, n=10, method="inclusive")[8]


def days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 86400


def suppress(counts: dict[str, int], threshold: int) -> dict[str, int | None]:
    """One breakdown that adds up to a published sum, protected by :func:`engine.stats._sdc.protect`: counts
    below ``threshold`` hidden, and complementary ones until none of them can be narrowed down."""
    total = ("_sum",)
    system = System(values={**counts, total: sum(counts.values())}, equal=[(total, tuple(counts))], margins={total})
    hidden = protect(system, threshold)
    return {k: None if k in hidden else v for k, v in counts.items()}


# --- the report
_KEYS: dict[str, Callable[[CaseFacts], Iterable[str]]] = {
    "counterpart_country": lambda f: (f.counterpart_country,),
    "offence_category": lambda f: f.offence_categories,
    "measure_type": lambda f: f.measure_types,
    "urgency": lambda f: (f.urgency,),
    "outcome": lambda f: (f.outcome,),
    "refusal_ground": lambda f: f.refusal_grounds,
}

_SPANS: dict[str, Callable[[CaseFacts], float | None]] = {
    "acknowledge": lambda f: days(f.delivered_at, f.acknowledged_at),
    "decide": lambda f: days(f.delivered_at, f.decided_at),
    "execute": lambda f: days(f.delivered_at, f.executed_at),
}


def overdue_state(clock: DeadlineFacts, as_of: datetime) -> bool | None:
    """True (late), False (kept) or None (outcome not known yet / moot: not counted)."""
    if clock.status == "met" and clock.stopped_at is not None:
        return clock.stopped_at > clock.due_at
    if clock.status == "cancelled":
        return True if clock.stopped_at is not None and clock.stopped_at > clock.due_at else None
    if clock.status == "running":
        return True if clock.due_at <= as_of else None
    return None  # paused: the clock is stopped by a clarification or postponement


def build_report(
    facts: Iterable[CaseFacts],
    clocks: Iterable[DeadlineFacts],
    *,
    authority: str,
    period: Period | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    timezone: tzinfo,
    threshold: int = DEFAULT_THRESHOLD,
    as_of: datetime,
    generated_at: datetime | None = None,
) -> Report:
    """The report for the cases opened in a calendar ``period`` (or exactly ``period_from`` to ``period_to``,
    which must be one; dates in ``timezone``)."""
    if period is None:
        if period_from is None or period_to is None:
            raise TypeError("build_report needs a period")
        period = calendar_period(period_from, period_to)
    facts = list(facts)
    chosen = [f for f in facts if period.start <= f.opened_at.astimezone(timezone).date() <= period.end]
    report = Report(
        authority=authority,
        period_from=period.start,
        period_to=period.end,
        threshold=threshold,
        generated_at=generated_at or as_of,
        period=period.code,
    )
    year = period.start.year
    for direction in DIRECTIONS:
        release = _release(tuple(f for f in facts if f.direction == direction), year, timezone, threshold)
        report.totals[direction] = release.shown(("total", period.code))
        mine = [f for f in chosen if f.direction == direction]
        for section in SECTIONS:
            for key in release.keys(section, period.code):
                report.cells.append(Cell(section, direction, key, release.values[(section, key, period.code)]))
        for metric in METRICS:
            values = [v for f in mine if (v := _SPANS[metric](f)) is not None]
            n = release.shown(("n", metric, period.code))
            shown = n is not None and n >= threshold
            median, p90 = median_p90(values) if shown else (None, None)
            report.durations.append(Duration(direction, metric, n if shown or n == 0 else None, median, p90))
        report.months += [
            Month(month.code, direction, release.shown(("total", month.code)), _execute_median(
                facts, direction, month, timezone, threshold))
            for month in period.parts("month")
            if release.values[("total", month.code)] or _execute_median(facts, direction, month, timezone, 1)
        ]
    report.assets = _assets(chosen, threshold)
    report.overdue = _overdue(chosen, clocks, as_of, threshold)
    return report


@lru_cache(maxsize=32)
def _release(facts: tuple[CaseFacts, ...], year: int, timezone: tzinfo, threshold: int) -> Protected:
    """The protected year; the same figures give the same release, so reading several periods of one year
    (a year and its quarters, a web page and its CSV) solves it once."""
    return protect_year(facts, year=year, timezone=timezone, threshold=threshold, keys=_KEYS, spans=_SPANS)


def _execute_median(
    facts: list[CaseFacts], direction: str, month: Period, timezone: tzinfo, threshold: int
) -> float | None:
    """Median days to execute of the requests executed in ``month`` (by execution date), from at least
    ``threshold`` of them."""
    spans = [
        span for f in facts
        if f.direction == direction and f.executed_at is not None
        and month.start <= f.executed_at.astimezone(timezone).date() <= month.end
        and (span := _SPANS["execute"](f)) is not None
    ]
    return statistics.median(spans) if spans and len(spans) >= threshold else None


def _overdue(
    chosen: list[CaseFacts], clocks: Iterable[DeadlineFacts], as_of: datetime, threshold: int
) -> list[Overdue]:
    in_scope = {f.case_id for f in chosen}
    tally: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for clock in clocks:
        if clock.case_id in in_scope and (late := overdue_state(clock, as_of)) is not None:
            tally[(clock.kind, clock.responsible)].append(late)
    rows = []
    for (kind, responsible), results in sorted(tally.items()):
        enough = len(results) >= threshold
        rows.append(
            Overdue(
                kind,
                responsible,
                len(results) if enough else None,
                sum(results) / len(results) if enough else None,
            )
        )
    return rows


def _assets(chosen: list[CaseFacts], threshold: int) -> list[AssetCell]:
    """Sums by (direction, stage, currency, kind) and their ``_T`` total; an amount from fewer requests than
    ``threshold`` is hidden, and a complementary kind when one alone would be (the kinds add up to the total)."""
    amounts: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    cases: dict[tuple[str, str, str, str], set[int]] = defaultdict(set)
    for f in chosen:
        for figure in f.assets:
            for kind in (figure.kind, "_T"):
                key = (f.direction, figure.flow, figure.currency, kind)
                amounts[key] += figure.amount
                cases[key].add(f.case_id)
    cells = []
    groups = sorted({key[:3] for key in amounts}, key=lambda g: (g[0], ASSET_FLOWS.index(g[1]), g[2]))
    for group in groups:
        kinds = {key[3]: len(n) for key, n in cases.items() if key[:3] == group and key[3] != "_T"}
        shown = suppress(kinds, threshold)
        total = len(cases[(*group, "_T")])
        lone = sum(v is None for v in shown.values()) == 1  # no visible kind to hide with it: hide the total
        shown["_T"] = total if total >= threshold and not lone else None
        for kind in sorted(shown, key=lambda k: (k == "_T", k)):
            visible = shown[kind] is not None
            cells.append(AssetCell(*group, kind, shown[kind], amounts[(*group, kind)] if visible else None))
    return cells


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (codes only: no names, no references, no free text)."""
    return {
        "authority": report.authority,
        "period": {
            "code": report.period,
            "from": report.period_from.isoformat(),
            "to": report.period_to.isoformat(),
        },
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "threshold": report.threshold,
        "suppressed": report.suppressed,
        "totals": report.totals,
        "groups": {
            section: [
                {"direction": c.direction, "key": c.key, "count": c.count} for c in report.cells if c.section == section
            ]
            for section in SECTIONS
        },
        "durations": [
            {
                "direction": d.direction,
                "metric": d.metric,
                "n": d.n,
                "median_days": _round(d.median_days),
                "p90_days": _round(d.p90_days),
            }
            for d in report.durations
        ],
        "overdue": [
            {
                "kind": o.kind,
                "responsible": o.responsible,
                "deadlines": o.deadlines,
                "rate": _round(o.rate, 4),
            }
            for o in report.overdue
        ],
        "assets": [
            {
                "direction": a.direction,
                "stage": a.flow,
                "currency": a.currency,
                "kind": a.kind,
                "cases": a.cases,
                "amount": None if a.amount is None else str(a.amount),
            }
            for a in report.assets
        ],
        "monthly": [
            {
                "month": m.month,
                "direction": m.direction,
                "count": m.count,
                "execute_median_days": _round(m.execute_median_days),
            }
            for m in report.months
        ],
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
