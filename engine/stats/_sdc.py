"""Cell suppression audited against an exact attacker: the one disclosure-control implementation of
``engine.stats`` (an authority's statistics) and ``engine.observatory`` (returns and combined tables).

A release is a :class:`System`: the counts it would publish and the linear relations between them that anyone
can know (a breakdown adds up to its total, a quarter to its months, a category is at most its total, ...).
:func:`protect` returns the cells to hide so that, for every sensitive cell, an attacker who knows every
published count and every relation, and solves the integer program exactly (HiGHS through ``scipy.optimize.milp``),
still cannot narrow the cell down:

* a *primary* cell (``0 < count < threshold``) must remain anywhere in ``[0, threshold]``: the attacker can tell
  neither that the group exists nor that it is small;
* a *linked* cell (hidden because it would reveal hidden ones, e.g. the number of cases behind a time figure)
  must keep a range at least ``threshold`` wide.

Secondary (complementary) suppression is greedy: while some sensitive cell is not protected, hide the smallest
visible cell that shares a relation with it (margins last), and audit again. Hiding more only widens ranges, so
cells once protected stay protected, and the loop ends (at worst with every cell of the component hidden).
Why integer programming: the linear relaxation can report a range that no integer solution reaches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

Cell = Hashable


@dataclass
class System:
    """Counts (``None``: hidden upstream, value unknown here) and the relations an attacker may use."""

    values: dict[Cell, int | None] = field(default_factory=dict)
    equal: list[tuple[Cell, tuple[Cell, ...]]] = field(default_factory=list)  # total == sum(parts)
    at_most: list[tuple[Cell, Cell]] = field(default_factory=list)  # part <= whole
    at_least: list[tuple[Cell, tuple[Cell, ...]]] = field(default_factory=list)  # sum(parts) >= total
    margins: set[Cell] = field(default_factory=set)  # hidden only as a last resort
    rank: dict[Cell, int] = field(default_factory=dict)  # hidden in increasing rank (e.g. months before years)

    def relations(self) -> list[tuple[Cell, ...]]:
        """Every relation as the tuple of its cells (for neighbourhoods and components)."""
        out: list[tuple[Cell, ...]] = [(t, *p) for t, p in self.equal]
        out += [(p, w) for p, w in self.at_most]
        out += [(t, *p) for t, p in self.at_least]
        return out


def _terms(system: System) -> list[tuple[list[tuple[Cell, float]], float, float]]:
    """Every relation as ``lo <= sum(sign * cell) <= hi``."""
    out: list[tuple[list[tuple[Cell, float]], float, float]] = []
    for total, parts in system.equal:
        out.append(([(total, 1.0), *((p, -1.0) for p in parts)], 0.0, 0.0))
    for part, whole in system.at_most:
        out.append(([(part, 1.0), (whole, -1.0)], -np.inf, 0.0))
    for total, parts in system.at_least:
        out.append(([(total, 1.0), *((p, -1.0) for p in parts)], -np.inf, 0.0))
    return out


class _Model:
    """The attacker's integer program over the hidden cells of some relations."""

    def __init__(self, system: System, hidden: set[Cell], terms: list[tuple[list[tuple[Cell, float]], float, float]],
                 extra: Iterable[Cell] = ()) -> None:
        self.index: dict[Cell, int] = {}
        data: list[float] = []
        row_ids: list[int] = []
        col_ids: list[int] = []
        low: list[float] = []
        high: list[float] = []
        for relation, lo, hi in terms:
            coef: dict[int, float] = defaultdict(float)
            constant = 0.0
            for cell, sign in relation:
                if cell in hidden:
                    coef[self.index.setdefault(cell, len(self.index))] += sign
                else:
                    constant += sign * float(system.values[cell] or 0)
            coef = {k: v for k, v in coef.items() if v}
            if coef:
                for k, v in coef.items():
                    row_ids.append(len(low))
                    col_ids.append(k)
                    data.append(v)
                low.append(lo - constant)
                high.append(hi - constant)
        for cell in extra:
            self.index.setdefault(cell, len(self.index))
        self.cells = list(self.index)
        n = len(self.index)
        matrix = coo_array((data, (row_ids, col_ids)), shape=(len(low), n)).tocsr()
        self.constraints = [LinearConstraint(matrix, low, high)] if low else []

    def extreme(self, cell: Cell, sign: float) -> tuple[float, dict[Cell, float] | None]:
        """``min`` (sign 1) or ``max`` (sign -1) of ``cell``, and a solution reaching it (None: unbounded)."""
        n = len(self.index)
        c = np.zeros(n)
        c[self.index[cell]] = sign
        res = _solve(c, Bounds(0, np.inf), self.constraints)
        if res.status == 0:
            return sign * res.fun, dict(zip(self.cells, np.round(res.x), strict=True))
        if res.status == 3 or (res.status == 4 and sign < 0):  # unbounded (HiGHS may say "other")
            return np.inf, None
        raise RuntimeError(f"disclosure audit failed for {cell!r}: {res.message}")  # the truth is a solution

    def spread(self, low: list[Cell], high: dict[Cell, float]) -> list[dict[Cell, float]]:
        """Two tables: one with the ``low`` cells as small as possible together, one with the ``high`` cells
        as close to their target as possible together (witnesses for many cells at the cost of two solves)."""
        n = len(self.index)
        found = []
        if low:
            c = np.zeros(n)
            c[[self.index[x] for x in low]] = 1.0
            res = _solve(c, Bounds(0, np.inf), self.constraints)
            if res.status == 0:
                found.append(dict(zip(self.cells, np.round(res.x), strict=True)))
        if high:
            m = len(high)
            cap = [min(v, 1e9) for v in high.values()]
            link = np.zeros((m, n + m))
            for j, cell in enumerate(high):
                link[j, self.index[cell]], link[j, n + j] = -1.0, 1.0
            constraints = [LinearConstraint(link, -np.inf, 0.0)]
            for old in self.constraints:
                constraints.append(LinearConstraint(np.hstack([old.A.toarray(), np.zeros((old.A.shape[0], m))]),
                                                    old.lb, old.ub))
            c = np.concatenate([np.zeros(n), -np.ones(m)])
            res = _solve(c, Bounds(0, np.concatenate([np.full(n, np.inf), cap])), constraints)
            if res.status == 0:
                found.append(dict(zip(self.cells, np.round(res.x[:n]), strict=True)))
        return found


def _solve(c: np.ndarray, box: Bounds, constraints: list[LinearConstraint]) -> Any:
    """The integer optimum. The linear relaxation first (dual simplex: a vertex): when its solution is integral
    it is also the integer optimum, as it usually is for tables and their margins; else branch and bound."""
    res = milp(c, bounds=box, constraints=constraints)  # no integrality: the linear program
    if res.status == 0 and np.allclose(res.x, np.round(res.x), atol=1e-7):
        return res
    return milp(c, integrality=np.ones(len(c)), bounds=box, constraints=constraints)


def bounds(
    system: System,
    hidden: set[Cell],
    cells: Iterable[Cell],
    terms: list[tuple[list[tuple[Cell, float]], float, float]] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """The exact integer range ``(low, high)`` of each of ``cells`` given every other cell's published value
    (``high`` may be ``inf``). This is the attacker: the tests use it too. ``terms``: the relations to use
    (default: all of the system's)."""
    wanted = [c for c in cells if c in hidden]
    if not wanted:
        return {}
    model = _Model(system, hidden, _terms(system) if terms is None else terms, wanted)
    return {cell: (model.extreme(cell, 1.0)[0], model.extreme(cell, -1.0)[0]) for cell in wanted}


def protected(value: int | None, low: float, high: float, threshold: int, linked: bool) -> bool:
    if value is None:
        return True
    if linked or value >= threshold:
        return high - low >= threshold
    return low <= 0 and high >= threshold


def protect(
    system: System,
    threshold: int,
    *,
    hidden: Iterable[Cell] = (),
    linked: Iterable[Cell] = (),
) -> set[Cell]:
    """Cells to hide: those given, primary cells (``0 < count < threshold``), cells of unknown value, and the
    complementary cells that keep all of them protected (see the module docstring)."""
    values = system.values
    hidden_set = set(hidden) | {c for c, v in values.items() if v is None or 0 < v < threshold}
    linked_set = set(linked)
    sensitive = {c for c in hidden_set if (v := values.get(c)) is not None and (0 < v < threshold or c in linked_set)}
    terms = _terms(system)
    touching: dict[Cell, list[int]] = defaultdict(list)
    for i, (relation, _, _) in enumerate(terms):
        for cell, _ in relation:
            touching[cell].append(i)
    # Values each sensitive cell takes in tables the attacker cannot rule out. A solution stays feasible
    # when more cells are hidden, so witnesses found for one cell settle others without solving again.
    seen_low: dict[Cell, float] = {c: values[c] for c in sensitive}  # the truth is one such table
    seen_high: dict[Cell, float] = dict(seen_low)

    def settled(cell: Cell) -> bool:
        return protected(values[cell], seen_low[cell], seen_high[cell], threshold, cell in linked_set)

    def witness(solution: dict[Cell, float] | None, cell: Cell) -> None:
        if solution is None:
            seen_high[cell] = np.inf
            return
        for other, value in solution.items():
            if other in seen_low:
                seen_low[other] = min(seen_low[other], value)
                seen_high[other] = max(seen_high[other], value)

    # Totals first, coarse periods before fine: protecting them settles much of what lies below.
    for target in sorted(sensitive, key=lambda c: (c not in system.margins, -system.rank.get(c, 0), repr(c))):
        # Hiding more only widens ranges: a cell once protected stays protected, so each is settled in turn.
        while not settled(target):
            component = _component(target, hidden_set, terms, touching)
            model = _Model(system, hidden_set, [terms[i] for i in component], [target])
            open_cells = [c for c in model.cells if c in seen_low and not settled(c)]
            for solution in model.spread(
                [c for c in open_cells if seen_low[c] > 0],
                {c: max(threshold, values[c] + threshold) for c in open_cells},
            ):
                witness(solution, target)
            if settled(target):
                continue
            for sign in (1.0, -1.0):
                _, solution = model.extreme(target, sign)
                witness(solution, target)
            if settled(target):
                break
            # The nearest visible cells first (those in the target's relations, then one hidden cell away, …):
            # far cells rarely widen its range and are often the most useful figures (years, big groups).
            layers = _layers(target, hidden_set, terms, touching)
            usable = ({c for c in layer if values.get(c) is not None} for layer in layers)
            candidates = next((layer for layer in usable if layer), set())
            if not candidates:  # everything around it is hidden already: cannot happen with a true system
                break
            choice = min(candidates, key=lambda c: (c in system.margins, system.rank.get(c, 0), values[c], repr(c)))
            hidden_set.add(choice)
    _unknown_not_alone(system, hidden_set)
    return hidden_set


def _layers(
    start: Cell, hidden: set[Cell], terms: list[tuple[list[tuple[Cell, float]], float, float]],
    touching: dict[Cell, list[int]],
) -> list[set[Cell]]:
    """Visible cells by distance from ``start``: those sharing a relation with it, then with a hidden cell
    sharing one with it, and so on."""
    layers: list[set[Cell]] = []
    seen_cells, seen = {start}, set()
    frontier = [start]
    while frontier:
        layer: set[Cell] = set()
        following = []
        for cell in frontier:
            for i in touching[cell]:
                if i in seen:
                    continue
                seen.add(i)
                for other, _ in terms[i][0]:
                    if other in seen_cells:
                        continue
                    seen_cells.add(other)
                    if other in hidden:
                        following.append(other)
                    else:
                        layer.add(other)
        layers.append(layer)
        frontier = following
    return layers


def _component(
    start: Cell, hidden: set[Cell], terms: list[tuple[list[tuple[Cell, float]], float, float]],
    touching: dict[Cell, list[int]],
) -> set[int]:
    """Indices of the relations linked to ``start`` through hidden cells: the only ones that bound it."""
    seen_cells = {start}
    seen: set[int] = set()
    stack = [start]
    while stack:
        cell = stack.pop()
        for i in touching[cell]:
            if i in seen:
                continue
            seen.add(i)
            for other, _ in terms[i][0]:
                if other in hidden and other not in seen_cells:
                    seen_cells.add(other)
                    stack.append(other)
    return seen


def _unknown_not_alone(system: System, hidden: set[Cell]) -> None:
    """A cell of unknown value (hidden upstream) cannot be audited: never leave it alone hidden in a sum."""
    changed = True
    while changed:
        changed = False
        for total, parts in system.equal:
            cells = (total, *parts)
            alone = [c for c in cells if c in hidden]
            if len(alone) == 1 and system.values.get(alone[0]) is None:
                visible = [c for c in cells if c not in hidden and system.values.get(c) is not None]
                if visible:
                    hidden.add(min(visible, key=lambda c: (c in system.margins, system.values[c], repr(c))))
                    changed = True
