"""Pure parts of the observatory: calendar periods, asset amounts from execution reports, suppression with
its complements, combination, labels and amounts in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidInput
from engine.observatory import Published, parse_period, render
from engine.observatory.figures import Row, combine, raw_rows, suppress
from engine.stats._facts import CaseFacts, DeadlineFacts, asset_figures
from engine.stats._output import key_label
from engine.store.db import Database
from engine.store.models import Authority
from tests.helpers import example, make_world

OPENED = datetime(2025, 3, 1, tzinfo=UTC)


def facts(case_id: int, report: dict | None = None, **changes: object) -> CaseFacts:
    base = dict(case_id=case_id, direction="received", counterpart_country="CO", opened_at=OPENED,
                urgency="normal", offence_categories=("07",), measure_types=("freezing",), outcome="executed",
                refusal_grounds=(), assets=asset_figures(report or {}))
    return CaseFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_periods_are_calendar_years_quarters_or_months() -> None:
    assert parse_period("2026-Q2").start == date(2026, 4, 1) and parse_period("2026-Q2").end == date(2026, 6, 30)
    assert parse_period("2024-02").end == date(2024, 2, 29)
    assert [p.code for p in parse_period("2026").parts("quarter")] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    for wrong in ("2026-01-01/2026-03-15", "2026-Q5", "2026-13", "26"):
        with pytest.raises(InvalidInput):
            parse_period(wrong)
    with pytest.raises(InvalidInput):
        parse_period("2026-03").parts("year")


def test_execution_report_amounts_are_summed_by_stage_kind_and_currency() -> None:
    report = example("execution_report", "es-co-final")
    rows = {r.identity: r for r in raw_rows([facts(1, report), facts(2, report)])}
    eur_frozen = rows[("received", "asset_frozen", "_T", "EUR")]
    assert (eur_frozen.count, eur_frozen.amount) == (2, 2 * (Decimal("845000") + Decimal("125430.55")))
    assert rows[("received", "asset_frozen", "crypto", "USD")].amount == Decimal("80420.0")
    assert rows[("received", "asset_seized", "account", "EUR")].amount == Decimal("250861.10")
    assert ("received", "asset_confiscated", "_T", "EUR") not in rows


def test_small_amounts_are_suppressed_with_a_complement() -> None:
    rows = [Row("sent", "asset_frozen", "account", "EUR", count=9, amount=Decimal("900")),
            Row("sent", "asset_frozen", "vehicle", "EUR", count=6, amount=Decimal("60")),
            Row("sent", "asset_frozen", "crypto", "EUR", count=1, amount=Decimal("5000000")),
            Row("sent", "asset_frozen", "_T", "EUR", count=16, amount=Decimal("5000960"))]
    shown = {r.category: r for r in suppress(rows, 5)}
    assert shown["crypto"].amount is None and shown["vehicle"].amount is None  # 6 is the complement
    assert shown["account"].amount == Decimal("900") and shown["_T"].amount == Decimal("5000960")


def test_a_lone_hidden_category_hides_its_total() -> None:
    rows = [Row("sent", "offence_category", "01", count=4), Row("sent", "offence_category_l2", "0101", count=4),
            Row("sent", "offence_category", "07", count=9), Row("sent", "offence_category", "05", count=8),
            Row("sent", "total", "_T", count=21)]
    shown = {r.identity: r for r in suppress(rows, 5)}
    assert shown[("sent", "offence_category_l2", "0101", "_Z")].hidden
    assert shown[("sent", "offence_category", "01", "_Z")].hidden  # would equal 0101
    assert shown[("sent", "offence_category", "05", "_Z")].hidden  # the complement of 01


def test_combination_hides_what_any_contributor_hid() -> None:
    total = Row("sent", "total", "_T", count=11)
    a = [total, Row("sent", "outcome", "executed", count=7), Row("sent", "outcome", "refused", count=None)]
    b = [total, Row("sent", "outcome", "executed", count=5), Row("sent", "outcome", "refused", count=6)]
    shown = {r.category: r.count for r in combine([a, b], 5)}
    # refused hidden at A (its value unknown here); executed is its complement against the total
    assert shown == {"_T": 22, "executed": None, "refused": None}
    assert {r.category: r.count for r in combine([b, b], 5)} == {"_T": 22, "executed": 10, "refused": 12}


def test_labels_and_amounts_in_the_readers_language() -> None:
    assert key_label("measure_type", "bank_records", "es") == "Información bancaria y financiera"
    assert key_label("refusal_ground", "ne_bis_in_idem", "fr") != "ne_bis_in_idem"
    table = Published(observatory="PT-OBS", period=parse_period("2025"), threshold=5, granularity="year",
                      reporters=["ES-CA"], rows=[
                          Row("received", "asset_frozen", "_T", "EUR", count=7, amount=Decimal("970430.55")),
                          Row("received", "measure_type", "bank_records", count=8)])
    text = render(table, "md", "es")
    assert "970.430,55\xa0€" in text and "Información bancaria y financiera" in text
    assert "€970,430.55" in render(table, "md", "en")


def test_own_statistics_sum_asset_amounts_by_currency_with_suppression() -> None:
    from engine.stats import build_report, render

    report_payload = example("execution_report", "es-co-final")
    many = [facts(i, report_payload) for i in range(6)]
    lone = facts(99, {"measures_executed": [{"assets": [{"kind": "vehicle", "currency": "COP", "seized": 5e7}]}]})
    report = build_report([*many, lone], [], authority="ES-MJ", period_from=date(2025, 1, 1),
                          period_to=date(2025, 12, 31), timezone=UTC, threshold=5, as_of=OPENED)
    cells = {(a.flow, a.currency, a.kind): a for a in report.assets}
    assert cells[("frozen", "EUR", "_T")].amount == 6 * (Decimal("845000") + Decimal("125430.55"))
    assert cells[("frozen", "USD", "crypto")].cases == 6
    assert cells[("seized", "COP", "vehicle")].amount is None  # one request: hidden …
    assert cells[("seized", "COP", "_T")].amount is None  # … and its total, which would equal it
    text = render(report, "md", "es")
    assert "Bienes embargados preventivamente" in text and "5.822.583,30\xa0€" in text
    assert "# Estadísticas de cooperación" in text and "Mediana" in text  # headings were never extracted
    clocks = [DeadlineFacts(case_id=1, direction="received", kind="execute", responsible="self", status="met",
                            due_at=OPENED, stopped_at=OPENED, paused_at=None)] * 5
    with_deadlines = build_report(many, clocks, authority="ES-MJ", period_from=date(2025, 1, 1),
                                  period_to=date(2025, 12, 31), timezone=UTC, threshold=5, as_of=OPENED)
    assert "| Ejecución de la solicitud |" in render(with_deadlines, "md", "es")  # not the code "execute"
    assert "COP" not in text.split("Bienes incautados")[1].split("|")[0]


def test_amounts_of_a_real_execution_report_reach_both_sides_statistics(db: Database) -> None:
    """The final report (with assets) travels through the hub; both sides' own statistics sum its amounts."""
    from engine import stats
    from engine.outbox import dispatch_all

    world = make_world(db)
    sent, received = world.transmitted("CO-FGN", "ES-MJ")
    for action, role in (("acknowledge", "clerk"), ("start_execution", "judge"), ("report_execution", "clerk")):
        world.act(received, action, "ES-MJ", role)
        dispatch_all(db)
    for authority, direction in (("ES-MJ", "received"), ("CO-FGN", "sent")):
        with db.reader() as session:  # periods are calendar days of the authority's own clock
            today = datetime.now(ZoneInfo(session.get(Authority, authority).timezone)).date()
        report = stats.compute(db, authority, period=str(today.year), threshold=1)
        cells = {(a.direction, a.flow, a.currency, a.kind): a.amount for a in report.assets}
        assert cells[(direction, "frozen", "EUR", "_T")] == Decimal("970430.55"), authority
        assert cells[(direction, "seized", "EUR", "account")] == Decimal("125430.55"), authority


def test_a_year_and_its_quarters_are_protected_together() -> None:
    """A hidden quarter row can never be had as the year's row minus the other quarters' (nested periods)."""
    from engine.observatory.figures import protect_periods

    def quarter(fr: int, co: int) -> list[Row]:
        return [Row("received", "total", "_T", count=fr + co + 20),
                Row("received", "counterpart_country", "FR", count=fr),
                Row("received", "counterpart_country", "CO", count=co),
                Row("received", "counterpart_country", "BR", count=20)]

    base = {"2026-Q1": quarter(1, 9), "2026-Q2": quarter(6, 7), "2026-Q3": quarter(7, 8), "2026-Q4": quarter(8, 9)}
    tables = protect_periods(base, {"2026": list(base)}, 5)
    year = {r.category: r for r in tables["2026"]}
    q1 = {r.category: r for r in tables["2026-Q1"]}
    assert q1["FR"].hidden
    fr_quarters = [next(r for r in tables[q] if r.category == "FR") for q in base]
    if not year["FR"].hidden:  # else FR(Q1) = FR(year) − FR(Q2..Q4)
        assert sum(r.hidden for r in fr_quarters) >= 2
    # Q1 = 30 requests: FR hidden, so at least CO too (else FR = total − CO − BR).
    assert q1["CO"].hidden or q1["BR"].hidden or q1["_T"].hidden
