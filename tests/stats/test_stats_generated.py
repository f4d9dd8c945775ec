"""Statistics over the generated data set (2 000 case records, 45 countries) on SQLite and PostgreSQL, checked
against an independent computation from the generator's ground truth."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from engine import stats
from engine.store.db import Database
from tests.stats.expected import expected, interpolated
from tests.stats.generate import NOW, Dataset, authority_code, countries

PERIOD = (date(2024, 7, 1), date(2026, 6, 30))


def _busiest(generated: Dataset, n: int = 3) -> list[str]:
    load = Counter([x.requesting for x in generated.exchanges] + [x.requested for x in generated.exchanges])
    return [code for code, _ in load.most_common(n)]


def _timezone(code: str) -> str:
    return next(c["timezone"] for c in countries() if authority_code(c["iso2"]) == code)


def test_data_set_spans_every_country(generated: Dataset) -> None:
    involved = {x.requesting for x in generated.exchanges} | {x.requested for x in generated.exchanges}
    assert involved == {authority_code(c["iso2"]) for c in countries()}
    assert len(generated.exchanges) * 2 >= 2000


@pytest.mark.parametrize("rank", [0, 1, 2])
def test_counts_times_and_overdue_match_an_independent_computation(
    generated: Dataset, generated_db: Database, rank: int
) -> None:
    authority = _busiest(generated)[rank]
    report = stats.compute(
        generated_db, authority, period_from=PERIOD[0], period_to=PERIOD[1], threshold=1, as_of=NOW
    )
    truth = expected(generated.exchanges, authority, _timezone(authority), *PERIOD, NOW)
    assert report.totals == {
        "sent": truth["totals"].get("sent", 0),
        "received": truth["totals"].get("received", 0),
    }
    assert sum(report.totals.values()) > 20  # a meaningful sample
    assert {(c.section, c.direction, c.key): c.count for c in report.cells} == truth["counts"]
    for d in report.durations:
        values = truth["spans"].get((d.direction, d.metric), [])
        assert d.n == len(values)
        if values:
            assert d.median_days == pytest.approx(interpolated(values, 0.5), abs=1e-9)
            assert d.p90_days == pytest.approx(interpolated(values, 0.9), abs=1e-9)
    got = {(o.kind, o.responsible): (o.deadlines, o.rate) for o in report.overdue}
    assert got.keys() == truth["overdue"].keys()
    for key, (n, rate) in truth["overdue"].items():
        assert got[key][0] == n and got[key][1] == pytest.approx(rate)
    assert {(m.month, m.direction): m.count for m in report.months if m.count} == truth["months"]


def test_small_groups_are_suppressed_with_a_complementary_cell(
    generated: Dataset, generated_db: Database
) -> None:
    authority = _busiest(generated)[0]
    threshold = 12
    report = stats.compute(
        generated_db, authority, period_from=PERIOD[0], period_to=PERIOD[1], threshold=threshold, as_of=NOW
    )
    truth = expected(generated.exchanges, authority, _timezone(authority), *PERIOD, NOW)
    assert report.suppressed > 0
    by_group: dict[tuple[str, str], list[stats.Cell]] = {}
    for cell in report.cells:
        true_count = truth["counts"][(cell.section, cell.direction, cell.key)]
        if true_count < threshold:
            assert cell.count is None, cell  # primary suppression
        else:
            assert cell.count in (true_count, None)  # shown as is, or hidden to protect a neighbour
        by_group.setdefault((cell.section, cell.direction), []).append(cell)
    for cells in by_group.values():
        hidden = [c for c in cells if c.count is None]
        assert len(hidden) != 1 or len(cells) == 1  # one hidden cell could be recovered from the total
    for d in report.durations:
        n = len(truth["spans"].get((d.direction, d.metric), []))
        if 0 < n < threshold:
            assert d.n is None and d.median_days is None and d.p90_days is None
    for o in report.overdue:
        assert (o.deadlines is None) == (truth["overdue"][(o.kind, o.responsible)][0] < threshold)


def test_only_aggregates_leave_the_authority(generated: Dataset, generated_db: Database) -> None:
    authority = _busiest(generated)[0]
    report = stats.compute(
        generated_db, authority, period_from=PERIOD[0], period_to=PERIOD[1], threshold=1, as_of=NOW
    )
    outputs = [stats.render(report, fmt, lang) for fmt in stats.FORMATS for lang in ("es", "en")]
    words = {t for x in generated.exchanges for p in x.persons for t in p.tokens()}
    words |= {x.contact_token for x in generated.exchanges}
    for text in outputs:
        assert "/G/" not in text  # no case reference
        assert not any(word in text for word in words)
    data = json.loads(stats.render(report, "json"))
    assert set(data) == {
        "authority",
        "period",
        "generated_at",
        "threshold",
        "suppressed",
        "totals",
        "groups",
        "durations",
        "overdue",
        "monthly",
        "assets",
    }


def test_period_and_timezone_bounds(generated: Dataset, generated_db: Database) -> None:
    authority = _busiest(generated)[1]
    tz = ZoneInfo(_timezone(authority))
    whole = stats.compute(
        generated_db,
        authority,
        period_from=date(2020, 1, 1),
        period_to=date(2030, 1, 1),
        threshold=1,
        as_of=NOW,
    )
    first_half = stats.compute(
        generated_db,
        authority,
        period_from=date(2020, 1, 1),
        period_to=date(2025, 6, 30),
        threshold=1,
        as_of=NOW,
    )
    second_half = stats.compute(
        generated_db,
        authority,
        period_from=date(2025, 7, 1),
        period_to=date(2030, 1, 1),
        threshold=1,
        as_of=NOW,
    )
    for direction in ("sent", "received"):
        assert whole.totals[direction] == (first_half.totals[direction] or 0) + (
            second_half.totals[direction] or 0
        )
    assert all(m.month <= "2025-06" for m in first_half.months if m.count)
    assert tz is not None
