"""The figures of a statistical return and of an observatory's combined table, and their suppression.

A table is a list of :class:`Row`: a count of requests (and, for asset rows, an amount in one currency) for
one direction and one category of one breakdown. Rows that add up to a total form a *group*:

* a breakdown by counterpart country, ICCS level 1, measure, outcome or instrument, against the requests total;
* ICCS level 2 categories within their level-1 category;
* the time bins of one metric, against its ``_T`` row (cases with a time);
* the asset kinds of one stage and currency, against its ``_T`` row.

Suppression (:func:`suppress`): the shared, audited cell suppression of :mod:`engine.stats._sdc` (see
docs/statistics.md), at source (the authority's return) and at the observatory on the combined table. Public
outputs carry no row for a hidden category (:func:`published`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from engine.stats._aggregate import days
from engine.stats._facts import ASSET_FLOWS, CaseFacts
from engine.stats._sdc import System, protect

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


_EXACT = ("counterpart_country", "outcome", "instrument", *TIME_BREAKDOWNS)  # one category per request


def suppress(rows: Iterable[Row], threshold: int) -> list[Row]:
    """Hide rows of one table with :func:`engine.stats._sdc.protect`, the implementation ``engine.stats``
    uses: rows below ``threshold``, rows hidden by a contributor (value unknown), the time-figure totals of a
    direction whose outcomes are partly hidden (they count executed/decided/acknowledged requests), and
    complementary rows until no hidden row can be narrowed down from the rest of the table."""
    return protect_periods({"": list(rows)}, {}, threshold)[""]


def protect_periods(
    base: dict[str, list[Row]], children: dict[str, list[str]], threshold: int
) -> dict[str, list[Row]]:
    """Unsuppressed tables of some periods (``base``) and of the periods made of them (``children``: parent
    code → its parts, coarsest first), protected together: a year, its quarters and months are linked tables,
    so a hidden row of one can never be recovered from the others."""
    tables: dict[str, dict[tuple[str, str, str, str], Row]] = {code: {r.identity: r for r in rows}
                                                               for code, rows in base.items()}
    for parent in reversed(list(children)):  # finest parents first: their parts are known by then
        summed: dict[tuple[str, str, str, str], Row] = {}
        for child in children[parent]:
            for identity, row in tables[child].items():
                before = summed.get(identity)
                summed[identity] = row if before is None else _add(before, row)
        tables[parent] = summed
    system = System()
    for code, table in tables.items():
        system.values.update({(code, *i): r.count for i, r in table.items()})
        groups: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
        for identity, row in table.items():
            if (group := group_of(row)) is not None:
                groups[group].append((code, *identity))
        for group, members in groups.items():
            total = (code, *total_of(group))
            if total[1:] not in table:
                continue
            system.margins.add(total)
            if group[1] in _EXACT:
                system.equal.append((total, tuple(members)))
            else:  # a request may fall under several categories (offences, measures, asset kinds)
                system.at_most += [(m, total) for m in members]
                system.at_least.append((total, tuple(members)))
    for parent, parts in children.items():
        for identity in tables[parent]:
            system.equal.append(((parent, *identity), tuple((c, *identity) for c in parts if identity in tables[c])))
    hidden = protect(system, threshold)
    while True:
        linked = {
            (code, direction, breakdown, TOTAL, NOT_APPLICABLE)
            for code, table in tables.items()
            for direction in DIRECTIONS
            for breakdown in TIME_BREAKDOWNS
            if (direction, breakdown, TOTAL, NOT_APPLICABLE) in table
            and any((code, *i) in hidden and i[0] == direction and i[1] == "outcome" for i in table)
        }
        again = protect(system, threshold, hidden=hidden | linked, linked=linked)
        if again == hidden:
            break
        hidden = again
    return {
        code: sort_rows(replace(r, count=None, amount=None) if (code, *i) in hidden else r for i, r in table.items())
        for code, table in tables.items()
    }


def _add(before: Row, row: Row) -> Row:
    if before.hidden or row.hidden:
        return replace(row, count=None, amount=None)
    amount = None if row.amount is None and before.amount is None else \
        (before.amount or Decimal(0)) + (row.amount or Decimal(0))
    return replace(row, count=(before.count or 0) + (row.count or 0), amount=amount)


def published(rows: Iterable[Row]) -> list[Row]:
    """Rows fit for publication: a hidden category has no row at all (its existence would disclose it);
    hidden totals stay, marked confidential."""
    return [r for r in rows if not (r.hidden and r.category != TOTAL)]


def add_up(tables: Iterable[Iterable[Row]]) -> list[Row]:
    """Add tables row by row (a row absent from a table counts 0 there; hidden anywhere → hidden, value
    unknown), before any suppression of the sum."""
    summed: dict[tuple[str, str, str, str], Row] = {}
    for table in tables:
        for row in table:
            before = summed.get(row.identity)
            summed[row.identity] = row if before is None else _add(before, row)
    return sort_rows(summed.values())


def combine(tables: Iterable[Iterable[Row]], threshold: int) -> list[Row]:
    """Add tables row by row (see :func:`add_up`), then suppress the sum again."""
    return suppress(add_up(tables), threshold)
