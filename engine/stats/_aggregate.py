"""Pure aggregation of case and deadline facts into a report, with small-group suppression.

Suppression (statistical disclosure control): a count below ``threshold`` is published as suppressed; when a
breakdown would then have exactly one suppressed cell, the next smallest cell is suppressed too, so the hidden
value cannot be recovered by subtracting the others from the total. Medians and 90th percentiles computed
from fewer than ``threshold`` cases, and overdue rates over fewer than ``threshold`` clocks, are suppressed.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from engine.stats._facts import ASSET_FLOWS, CaseFacts, DeadlineFacts

DIRECTIONS = ("sent", "received")
SECTIONS = ("counterpart_country", "offence_category", "measure_type", "urgency", "outcome", "refusal_ground")
METRICS = ("acknowledge", "decide", "execute")
DEFAULT_THRESHOLD = 5


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

    @property
    def suppressed(self) -> int:
        return (
            sum(c.count is None for c in self.cells)
            + sum(v is None for v in self.totals.values())
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
    """Counts below ``threshold`` hidden, plus one complementary cell when only one would be hidden."""
    shown: dict[str, int | None] = {k: (v if v >= threshold else None) for k, v in counts.items()}
    hidden = [k for k, v in shown.items() if v is None]
    visible = sorted((v, k) for k, v in counts.items() if shown[k] is not None)
    if len(hidden) == 1 and visible:
        shown[visible[0][1]] = None
    return shown


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
    period_from: date,
    period_to: date,
    timezone: tzinfo,
    threshold: int = DEFAULT_THRESHOLD,
    as_of: datetime,
    generated_at: datetime | None = None,
) -> Report:
    """The report for the cases opened in ``[period_from, period_to]`` (dates in ``timezone``)."""
    chosen = [f for f in facts if period_from <= f.opened_at.astimezone(timezone).date() <= period_to]
    report = Report(
        authority=authority,
        period_from=period_from,
        period_to=period_to,
        threshold=threshold,
        generated_at=generated_at or as_of,
    )
    for direction in DIRECTIONS:
        mine = [f for f in chosen if f.direction == direction]
        report.totals[direction] = len(mine) if len(mine) >= threshold or not mine else None
        for section in SECTIONS:
            counts = Counter(key for f in mine for key in _KEYS[section](f))
            for key, count in sorted(suppress(dict(counts), threshold).items()):
                report.cells.append(Cell(section, direction, key, count))
        for metric in METRICS:
            values = [v for f in mine if (v := _SPANS[metric](f)) is not None]
            enough = len(values) >= threshold and bool(values)
            median, p90 = median_p90(values) if enough else (None, None)
            report.durations.append(
                Duration(direction, metric, len(values) if enough or not values else None, median, p90)
            )
    report.assets = _assets(chosen, threshold)
    report.overdue = _overdue(chosen, clocks, as_of, threshold)
    report.months = _months(chosen, timezone, threshold)
    return report


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


def _months(chosen: list[CaseFacts], timezone: tzinfo, threshold: int) -> list[Month]:
    opened: Counter[tuple[str, str]] = Counter()
    executed: dict[tuple[str, str], list[float]] = defaultdict(list)
    for f in chosen:
        opened[(f.opened_at.astimezone(timezone).strftime("%Y-%m"), f.direction)] += 1
        if f.executed_at is not None and (span := _SPANS["execute"](f)) is not None:
            executed[(f.executed_at.astimezone(timezone).strftime("%Y-%m"), f.direction)].append(span)
    months = []
    for month, direction in sorted(set(opened) | set(executed)):
        count = opened.get((month, direction), 0)
        spans = executed.get((month, direction), [])
        months.append(
            Month(
                month,
                direction,
                count if count >= threshold or count == 0 else None,
                statistics.median(spans) if len(spans) >= threshold else None,
            )
        )
    return months


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (codes only: no names, no references, no free text)."""
    return {
        "authority": report.authority,
        "period": {"from": report.period_from.isoformat(), "to": report.period_to.isoformat()},
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
