"""The attacker of the data-protection audit (issue 23, item 1) against published statistics.

The attacker reads every table a user can obtain for a year (the year, its quarters and its months), knows
which keys occur in the data (more than the tables say: a conservative assumption) and every true relation
between the figures, including one the engine does not use itself (the sample size of "time to execute" is
exactly the number of executed and partially executed requests), and solves the integer program exactly. No
primary cell may be narrowed below ``[0, threshold]``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from engine import stats
from engine.errors import NotCalendarPeriod
from engine.observatory.periods import Period
from engine.stats._release import year_periods
from engine.stats._sdc import System, bounds

T = 5
YEAR = 2026
SINGLE = ("counterpart_country", "urgency", "outcome")
MULTI = ("offence_category", "measure_type")


def _case(i: int, country: str, day: date, outcome: str, *, urgency: str = "normal", iccs: str = "07",
          grounds: tuple[str, ...] = (), direction: str = "received") -> stats.CaseFacts:
    opened = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    done = outcome in ("executed", "partially_executed")
    return stats.CaseFacts(
        case_id=i, direction=direction, counterpart_country=country, opened_at=opened, urgency=urgency,
        offence_categories=(iccs,), measure_types=("bank_records",), outcome=outcome,
        refusal_grounds=grounds if outcome == "refused" else (), delivered_at=opened,
        acknowledged_at=opened + timedelta(days=2),
        decided_at=opened + timedelta(days=9) if outcome != "pending" else None,
        executed_at=opened + timedelta(days=30) if done else None,
    )


def issue_case() -> list[stats.CaseFacts]:
    """The audit's example: received 8 in the first half of 2026, Colombia 6 (executed), France 1 (urgent,
    ICCS 09, refused for lack of double criminality, alone on its day) and Mexico 1 (refused)."""
    facts = [_case(i, "CO", date(YEAR, 1 + i, 10), "executed") for i in range(6)]
    facts.append(_case(6, "FR", date(YEAR, 3, 17), "refused", urgency="urgent", iccs="09",
                       grounds=("no_double_criminality",)))
    facts.append(_case(7, "MX", date(YEAR, 5, 5), "refused", grounds=("other",)))
    return facts


def busy_year(seed: int) -> list[stats.CaseFacts]:
    rng = random.Random(seed)
    countries = ["CO"] * 12 + ["BR"] * 8 + ["PE"] * 4 + ["FR", "MX", "AR", "CL"]
    outcomes = ["executed"] * 6 + ["partially_executed", "refused", "withdrawn", "pending", "pending"]
    facts = []
    for i in range(70):
        outcome = rng.choice(outcomes)
        facts.append(_case(
            i, rng.choice(countries), date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)), outcome,
            urgency=rng.choice(["normal"] * 4 + ["urgent"]), iccs=rng.choice(["07", "07", "02", "09", "11"]),
            grounds=(rng.choice(["no_double_criminality", "other", "ne_bis_in_idem"]),),
            direction=rng.choice(["sent", "received", "received"]),
        ))
    return facts


def publish_year(facts: list[stats.CaseFacts], threshold: int = T) -> dict[str, stats.Report]:
    """Every table of the year a user can ask for."""
    return {
        p.code: stats.build_report(facts, [], authority="ES-MJ", period=p, timezone=UTC, threshold=threshold,
                                   as_of=datetime(YEAR + 1, 1, 1, tzinfo=UTC))
        for p in year_periods(YEAR)
    }


def _children(period: Period) -> list[str]:
    if period.granularity == "year":
        return [f"{YEAR}-Q{q}" for q in range(1, 5)]
    if period.granularity == "quarter":
        return [f"{YEAR}-{m:02d}" for m in range(period.start.month, period.start.month + 3)]
    return []


def attack(facts: list[stats.CaseFacts], reports: dict[str, stats.Report], direction: str) -> list[str]:
    """The cells the attacker narrows down: ``(cell, true value, low, high)`` descriptions, empty if none."""
    mine = [f for f in facts if f.direction == direction]
    keys = {
        "counterpart_country": {f.counterpart_country for f in mine},
        "urgency": {f.urgency for f in mine},
        "outcome": {f.outcome for f in mine} | {"executed", "partially_executed", "refused"},
        "offence_category": {k for f in mine for k in f.offence_categories},
        "measure_type": {k for f in mine for k in f.measure_types},
        "refusal_ground": {k for f in mine for k in f.refusal_grounds},
    }
    truth: dict[tuple[str, ...], int] = {}
    system = System()
    for period in year_periods(YEAR):
        code = period.code
        cases = [f for f in mine if period.start <= f.opened_at.date() <= period.end]
        truth[("total", code)] = len(cases)
        for section, known in keys.items():
            for key in known:
                truth[(section, key, code)] = sum(
                    key in {"counterpart_country": (f.counterpart_country,), "urgency": (f.urgency,),
                            "outcome": (f.outcome,), "offence_category": f.offence_categories,
                            "measure_type": f.measure_types, "refusal_ground": f.refusal_grounds}[section]
                    for f in cases)
            cells = tuple((section, key, code) for key in known)
            if section in SINGLE:
                system.equal.append((("total", code), cells))
            elif section in MULTI:
                system.at_most += [(c, ("total", code)) for c in cells]
            else:
                system.at_most += [(c, ("outcome", "refused", code)) for c in cells]
        for metric in stats.METRICS:
            truth[("n", metric, code)] = sum(
                getattr(f, {"acknowledge": "acknowledged_at", "decide": "decided_at",
                            "execute": "executed_at"}[metric]) is not None for f in cases)
        # Known to the attacker, never used by the engine: n(execute) = executed + partially executed.
        system.equal.append((("n", "execute", code),
                             (("outcome", "executed", code), ("outcome", "partially_executed", code))))
        for row in {c[:-1] for c in truth if c[-1] == code}:
            if children := _children(period):
                system.equal.append(((*row, code), tuple((*row, child) for child in children)))
    published: dict[tuple[str, ...], int] = {}
    for code, report in reports.items():
        if (total := report.totals[direction]) is not None:
            published[("total", code)] = total
        for cell in report.cells:
            if cell.direction == direction:
                assert cell.count is not None, cell  # a suppressed key has no row at all
                published[(cell.section, cell.key, code)] = cell.count
        for d in report.durations:
            if d.direction == direction and d.n is not None:
                published[("n", d.metric, code)] = d.n
    for cell, value in published.items():
        assert truth[cell] == value, cell
    system.values = dict(truth)
    hidden = set(truth) - set(published)
    primary = [c for c in hidden if 0 < truth[c] < T]
    ranges = bounds(system, hidden, primary)
    return [f"{c}={truth[c]} in [{lo}, {hi}]" for c, (lo, hi) in ranges.items() if lo > 0 or hi < T]


def test_the_audit_example_cannot_be_undone() -> None:
    facts = issue_case()
    reports = publish_year(facts)
    assert attack(facts, reports, "received") == []
    half = reports[f"{YEAR}-Q1"]
    assert half.totals["received"] is None or half.totals["received"] >= T
    for report in reports.values():  # France and Mexico never get a row, in any period
        assert not {c.key for c in report.cells} & {"FR", "MX", "09", "urgent", "refused", "no_double_criminality"}
        for d in report.durations:  # n of time figures goes with the outcome cells it counts
            assert d.n in (None, 0) or d.n >= T
    # Q1: Colombia 3 (< 5) and France 1 — nothing about either, not even that they exist.
    assert not reports[f"{YEAR}-03"].cells


def test_arbitrary_ranges_are_refused_naming_the_field() -> None:
    facts = issue_case()
    with pytest.raises(NotCalendarPeriod) as refused:
        stats.build_report(facts, [], authority="ES-MJ", period_from=date(YEAR, 1, 1), period_to=date(YEAR, 7, 1),
                           timezone=UTC, as_of=datetime(YEAR, 8, 1, tzinfo=UTC))
    assert refused.value.params["field"] == "to"
    with pytest.raises(NotCalendarPeriod) as single_day:  # a single-day query listed the suppressed rows
        stats.build_report(facts, [], authority="ES-MJ", period_from=date(YEAR, 3, 17),
                           period_to=date(YEAR, 3, 17), timezone=UTC, as_of=datetime(YEAR, 8, 1, tzinfo=UTC))
    assert single_day.value.params["field"] == "from"
    assert "trimestre" in single_day.value.message("es")
    whole = stats.build_report(facts, [], authority="ES-MJ", period_from=date(YEAR, 4, 1),
                               period_to=date(YEAR, 6, 30), timezone=UTC, as_of=datetime(YEAR, 8, 1, tzinfo=UTC))
    assert whole.period == f"{YEAR}-Q2"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_linked_tables_nested_and_adjacent_periods_reveal_nothing(seed: int) -> None:
    facts = busy_year(seed)
    reports = publish_year(facts)
    for direction in stats.DIRECTIONS:
        assert attack(facts, reports, direction) == []
    shown = sum(len(r.cells) for r in reports.values())
    assert shown > 0  # a busy year still publishes something


def test_the_old_rule_was_undone_by_this_attacker() -> None:
    """The attacker is not toothless: against the old rule (cells below 5 hidden, plus one complementary
    cell when a breakdown hid only one; totals and n shown from 5) it finds the audit's French request."""
    facts = issue_case()
    reports = publish_year(facts, threshold=1)  # everything shown, then hidden by the old rule
    for report in reports.values():
        _old_rule(report)
    found = attack(facts, reports, "received")
    assert any("'FR'" in x for x in found)


def _old_rule(report: stats.Report) -> None:
    groups: dict[tuple[str, str], list[stats.Cell]] = {}
    for cell in report.cells:
        groups.setdefault((cell.section, cell.direction), []).append(cell)
    drop: set[int] = set()
    for members in groups.values():
        small = [c for c in members if (c.count or 0) < T]
        big = sorted((c for c in members if (c.count or 0) >= T), key=lambda c: c.count or 0)
        drop |= {id(c) for c in small}
        if len(small) == 1 and big:
            drop.add(id(big[0]))
    report.cells = [c for c in report.cells if id(c) not in drop]
    report.totals = {d: v if v is None or v >= T else None for d, v in report.totals.items()}
    report.durations = [d if d.n is None or d.n >= T else replace(d, n=None) for d in report.durations]
