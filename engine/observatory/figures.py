"""The figures of a statistical return and of an observatory's combined table, and their suppression.

A table is a list of :class:`Row`: a count of requests (and, for asset rows, an amount in one currency) for
one direction and one category of one breakdown. Rows that add up to a total form a *group*:

* a breakdown by counterpart country, ICCS level 1, measure, outcome or instrument, against the requests total;
* ICCS level 2 categories within their level-1 category;
* the time bins of one metric, against its ``_T`` row (cases with a time);
* the asset kinds of one stage and currency, against its ``_T`` row.

Suppression (:func:`suppress`): a row is hidden when its count is below the threshold or it was already
hidden by a contributor; when a group would then hide exactly one row, the smallest visible row of the group is
hidden too (complementary suppression), so subtracting the visible rows from the total never gives a hidden
value. The same function runs at source (the authority's return) and at the observatory on the combined table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from engine.stats._aggregate import days
from engine.stats._facts import ASSET_FLOWS, CaseFacts

TOTAL = "_T"  # SDMX: total of a breakdown
NOT_APPLICABLE = "_Z"  # SDMX: not applicable (the currency of a count)
DIRECTIONS = ("sent", "received")
COUNT_BREAKDOWNS = (
    "counterpart_country",
    "offence_category",
    "offence_category_l2",
    "measure_type",
    "outcome",
    "instrument",
)
TIME_BREAKDOWNS = ("time_acknowledge", "time_decide", "time_execute")
ASSET_BREAKDOWNS = tuple(f"asset_{flow}" for flow in ASSET_FLOWS)
BREAKDOWNS = ("total", *COUNT_BREAKDOWNS, *TIME_BREAKDOWNS, *ASSET_BREAKDOWNS)
# Days from delivery: bins of the time figures (the last is open). Bins add up, medians do not.
TIME_BINS = ((0, 7, "D0-7"), (8, 30, "D8-30"), (31, 90, "D31-90"), (91, 180, "D91-180"),
             (181, 365, "D181-365"), (366, None, "D366-"))

_KEYS: dict[str, Callable[[CaseFacts], Iterable[str]]] = {
    "counterpart_country": lambda f: (f.counterpart_country,),
    "offence_category": lambda f: f.offence_categories,
    "offence_category_l2": lambda f: f.offence_categories_l2,
    "measure_type": lambda f: f.measure_types,
    "outcome": lambda f: (f.outcome,),
    "instrument": lambda f: (f.instrument or "UNKNOWN",),
}
_SPANS: dict[str, Callable[[CaseFacts], float | None]] = {
    "time_acknowledge": lambda f: days(f.delivered_at, f.acknowledged_at),
    "time_decide": lambda f: days(f.delivered_at, f.decided_at),
    "time_execute": lambda f: days(f.delivered_at, f.executed_at),
}


@dataclass(frozen=True)
class Row:
    direction: str
    breakdown: str
    category: str
    currency: str = NOT_APPLICABLE
    count: int | None = None  # requests (asset rows: requests with an amount); None: suppressed
    amount: Decimal | None = None  # asset rows only; None when suppressed

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.direction, self.breakdown, self.category, self.currency)

    @property
    def hidden(self) -> bool:
        return self.count is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"direction": self.direction, "breakdown": self.breakdown,
                                "category": self.category, "currency": self.currency, "count": self.count}
        if self.breakdown in ASSET_BREAKDOWNS:
            data["amount"] = None if self.amount is None else str(self.amount)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        amount = data.get("amount")
        return cls(direction=data["direction"], breakdown=data["breakdown"], category=data["category"],
                   currency=data.get("currency") or NOT_APPLICABLE, count=data.get("count"),
                   amount=None if amount is None else Decimal(str(amount)))


def group_of(row: Row) -> tuple[str, ...] | None:
    """The group whose members add up to a total (see the module's docstring); None for a total row."""
    if row.breakdown == "total" or row.category == TOTAL:
        return None
    if row.breakdown == "offence_category_l2":
        return (row.direction, row.breakdown, row.category[:2])
    return (row.direction, row.breakdown, row.currency)


def time_bin(span: float) -> str:
    whole = int(span)
    return next(label for low, high, label in TIME_BINS if whole >= low and (high is None or whole <= high))


def raw_rows(facts: Iterable[CaseFacts]) -> list[Row]:
    """Unsuppressed rows of the given cases (the caller chooses the period)."""
    # Both totals always, so that "no request" (0, not sensitive) differs from "no return".
    counts: Counter[tuple[str, str, str, str]] = Counter({(d, "total", TOTAL, NOT_APPLICABLE): 0 for d in DIRECTIONS})
    amounts: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    asset_cases: dict[tuple[str, str, str, str], set[int]] = defaultdict(set)
    for f in facts:
        counts[(f.direction, "total", TOTAL, NOT_APPLICABLE)] += 1
        for breakdown, keys in _KEYS.items():
            for key in set(keys(f)):
                counts[(f.direction, breakdown, key, NOT_APPLICABLE)] += 1
        for breakdown, span in _SPANS.items():
            if (value := span(f)) is not None:
                counts[(f.direction, breakdown, time_bin(value), NOT_APPLICABLE)] += 1
                counts[(f.direction, breakdown, TOTAL, NOT_APPLICABLE)] += 1
        for figure in f.assets:
            for kind in (figure.kind, TOTAL):
                identity = (f.direction, f"asset_{figure.flow}", kind, figure.currency)
                amounts[identity] += figure.amount
                asset_cases[identity].add(f.case_id)
    rows = [Row(*identity, count=n) for identity, n in counts.items()]
    rows += [Row(*identity, count=len(asset_cases[identity]), amount=amount) for identity, amount in amounts.items()]
    return sort_rows(rows)


def sort_rows(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (DIRECTIONS.index(r.direction), BREAKDOWNS.index(r.breakdown),
                                       r.currency, r.category == TOTAL, r.category))


def total_of(group: tuple[str, ...]) -> tuple[str, str, str, str]:
    """The row the members of ``group`` add up to."""
    direction, breakdown, third = group
    if breakdown == "offence_category_l2":
        return (direction, "offence_category", third, NOT_APPLICABLE)
    if breakdown in COUNT_BREAKDOWNS:
        return (direction, "total", TOTAL, NOT_APPLICABLE)
    return (direction, breakdown, TOTAL, third)


def suppress(rows: Iterable[Row], threshold: int) -> list[Row]:
    """Hide rows below ``threshold`` (or already hidden), then, while some group hides exactly one row while
    its total is shown, hide its smallest visible row too, or its total when it has no other row."""
    table = {r.identity: r for r in rows}

    def hide(identity: tuple[str, str, str, str]) -> None:
        table[identity] = replace(table[identity], count=None, amount=None)

    for identity, row in list(table.items()):
        if row.count is not None and 0 < row.count < threshold:  # zero reveals nothing about anyone
            hide(identity)
    groups: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = defaultdict(list)
    for identity, row in table.items():
        if (group := group_of(row)) is not None:
            groups[group].append(identity)
    changed = True
    while changed:  # hiding a total (an ICCS level-1 row) can leave its own group with one hidden row
        changed = False
        for group, members in groups.items():
            hidden = [i for i in members if table[i].hidden]
            total = table.get(total_of(group))
            if len(hidden) != 1 or (total is not None and total.hidden):
                continue
            visible = sorted((table[i].count or 0, i) for i in members if not table[i].hidden)
            if visible:
                hide(visible[0][1])
            elif total is not None:
                hide(total.identity)
            else:
                continue
            changed = True
    return sort_rows(table.values())


def combine(tables: Iterable[Iterable[Row]], threshold: int) -> list[Row]:
    """Add tables row by row (a row absent from a table counts 0 there; hidden anywhere → hidden), then
    suppress the sum again."""
    summed: dict[tuple[str, str, str, str], Row] = {}
    for table in tables:
        for row in table:
            before = summed.get(row.identity)
            if before is None:
                summed[row.identity] = row
            elif before.hidden or row.hidden:
                summed[row.identity] = replace(row, count=None, amount=None)
            else:
                amount = None if row.amount is None and before.amount is None else \
                    (before.amount or Decimal(0)) + (row.amount or Decimal(0))
                summed[row.identity] = replace(row, count=(before.count or 0) + (row.count or 0), amount=amount)
    return suppress(summed.values(), threshold)
