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

PERIOD = (date(2025, 1, 1), date(2025, 12, 31))  # statistics cover calendar periods only


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
    assert sum(report.totals.values()) >= 15  # a meaningful sample
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
    shown = {(c.section, c.direction, c.key): c.count for c in report.cells}
    for key, true_count in truth["counts"].items():
        if 0 < true_count < threshold:
            assert key not in shown, key  # primary suppression: no row at all
        elif key in shown:
            assert shown[key] == true_count  # shown as is, or left out to protect a neighbour
    assert all(count is not None for count in shown.values())
    assert any(0 < v < threshold for v in truth["counts"].values())
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
    whole = stats.compute(generated_db, authority, period="2025", threshold=1, as_of=NOW)
    quarters = [stats.compute(generated_db, authority, period=f"2025-Q{q}", threshold=1, as_of=NOW)
                for q in range(1, 5)]
    for direction in ("sent", "received"):
        assert whole.totals[direction] == sum(q.totals[direction] or 0 for q in quarters)
    assert all("2025-04" <= m.month <= "2025-06" for m in quarters[1].months if m.count)
    assert tz is not None
