"""Pure parts of engine.stats: percentiles, suppression, overdue rules, outputs, chart; and the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from typer.testing import CliRunner

from engine import stats
from engine.stats import DeadlineFacts, median_p90, overdue_state, suppress
from engine.store.db import Database
from tests.stats.expected import interpolated

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "values",
    [
        [3.0],
        [1.0, 2.0],
        [5.0, 1.0, 9.0, 2.0],
        [float(i) for i in range(37)],
        [0.5, 0.5, 0.5, 10.0, 11.0, 400.0, 2.5],
    ],
)
def test_median_and_p90(values: list[float]) -> None:
    median, p90 = median_p90(values)
    assert median == pytest.approx(interpolated(values, 0.5))
    assert p90 == pytest.approx(interpolated(values, 0.9))


def test_suppression_rules() -> None:
    assert suppress({"a": 10, "b": 7, "c": 3}, 5) == {"a": 10, "b": None, "c": None}  # complementary: b
    assert suppress({"a": 10, "b": 2, "c": 3}, 5) == {"a": 10, "b": None, "c": None}
    assert suppress({"a": 10, "b": 7}, 5) == {"a": 10, "b": 7}
    assert suppress({"a": 3}, 5) == {"a": None}


def _clock(status: str, due_days: float, stopped_days: float | None) -> DeadlineFacts:
    return DeadlineFacts(
        case_id=1,
        direction="received",
        kind="acknowledge",
        responsible="self",
        status=status,
        due_at=T0 + timedelta(days=due_days),
        stopped_at=None if stopped_days is None else T0 + timedelta(days=stopped_days),
        paused_at=None,
    )


def test_overdue_rules() -> None:
    as_of = T0 + timedelta(days=10)
    assert overdue_state(_clock("met", 7, 8), as_of) is True
    assert overdue_state(_clock("met", 7, 6), as_of) is False
    assert overdue_state(_clock("cancelled", 7, 5), as_of) is None  # moot before it fell due
    assert overdue_state(_clock("cancelled", 7, 9), as_of) is True
    assert overdue_state(_clock("running", 7, None), as_of) is True
    assert overdue_state(_clock("running", 30, None), as_of) is None
    assert overdue_state(_clock("paused", 7, None), as_of) is None


def _report() -> stats.Report:
    facts = [
        stats.CaseFacts(
            case_id=i,
            direction="sent" if i % 3 else "received",
            counterpart_country="ES" if i % 2 else "BR",
            opened_at=T0 + timedelta(days=i),
            urgency="normal",
            offence_categories=("07",),
            measure_types=("bank_records",),
            outcome="executed",
            refusal_grounds=(),
            delivered_at=T0 + timedelta(days=i),
            acknowledged_at=T0 + timedelta(days=i + 2),
            decided_at=T0 + timedelta(days=i + 9),
            executed_at=T0 + timedelta(days=i + 40),
        )
        for i in range(60)
    ]
    return stats.build_report(
        facts,
        [],
        authority="CO-FGN",
        period_from=date(2026, 1, 1),
        period_to=date(2026, 12, 31),
        timezone=UTC,
        threshold=5,
        as_of=T0,
    )


def test_outputs_in_every_format_and_language() -> None:
    report = _report()
    rows = list(csv.DictReader(io.StringIO(stats.render(report, "csv"))))
    assert {"section": "total", "direction": "sent", "count": "40"}.items() <= rows[0].items()
    assert json.loads(stats.render(report, "json"))["totals"] == {"sent": 40, "received": 20}
    assert "Brasil (BR)" in stats.render(report, "md", "es")
    assert "Fraude" not in stats.render(report, "md", "en")
    assert "fraude" in stats.render(report, "md", "fr").lower()


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_chart(tmp_path: Path, suffix: str) -> None:
    path = stats.write_chart(_report(), tmp_path / f"chart.{suffix}", "pt")
    data = path.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG")
        assert Image.open(path).size[0] > 500
    else:
        assert b"<svg" in data[:500]


def test_cli_stats(tmp_path: Path, sqlite_db: Database) -> None:
    from alembic import command

    from engine.cli import app
    from engine.store.migrate import alembic_config
    from engine.store.models import Authority
    from tests.helpers import make_world

    db = sqlite_db
    world = make_world(db)
    command.stamp(alembic_config(db), "head")  # created from the models: mark it current for the CLI
    for _ in range(2):
        req, rqd = world.transmitted()
        world.act(rqd, "acknowledge", "ES-MJ", "clerk")
    runner = CliRunner()
    env = {"EXHORTO_DATABASE_URL": db.url, "EXHORTO_USER": "es.clerk"}
    # Periods are calendar days of the authority's own clock: late in the UTC evening it is already tomorrow in
    # Madrid, and a case created now falls on that date.
    with db.reader() as session:
        timezone = session.get(Authority, "ES-MJ").timezone
    today = datetime.now(ZoneInfo(timezone)).date().isoformat()
    chart = tmp_path / "volumes.svg"
    year_code = today[:4]
    # The smallest group is the authority's policy: a clerk can neither change it nor go below it.
    clerk_sets = runner.invoke(app, ["privacy", "disclosure", "set", "1"], env=env)
    assert clerk_sets.exit_code != 0 and "supervisor" in clerk_sets.output
    low = runner.invoke(app, ["--lang", "es", "stats", "--period", year_code, "--min-group", "1"], env=env)
    assert low.exit_code != 0 and "--min-group" in low.output and "nunca" in low.output
    boss = {**env, "EXHORTO_USER": "es.supervisor"}
    assert runner.invoke(app, ["privacy", "disclosure", "set", "1"], env=boss).exit_code != 0  # at least 2
    assert runner.invoke(app, ["privacy", "disclosure", "set", "2"], env=boss).exit_code == 0
    shown = runner.invoke(app, ["privacy", "disclosure", "show"], env=env)
    assert "ES-MJ: smallest published group 2" in shown.output and "es.supervisor: 5 -> 2" in shown.output
    result = runner.invoke(
        app, ["stats", "--period", year_code, "--format", "csv", "--chart", str(chart)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "total,received,,2" in result.output
    assert chart.exists()
    # Arbitrary ranges are refused, naming the field; the exact range of a calendar period is accepted.
    ranged = runner.invoke(app, ["stats", "--from", f"{year_code}-01-01", "--to", f"{year_code}-07-01"], env=env)
    assert ranged.exit_code != 0 and "--to" in ranged.output and "Traceback" not in ranged.output
    exact = runner.invoke(app, ["stats", "--from", f"{year_code}-01-01", "--to", f"{year_code}-12-31",
                                "--format", "csv"], env=env)
    assert exact.exit_code == 0 and "total,received,,2" in exact.output, exact.output
    # An auditor reads their own authority only.
    auditor = {**env, "EXHORTO_USER": "es.auditor"}
    foreign = runner.invoke(app, ["stats", "--period", year_code, "--authority", "CO-FGN"], env=auditor)
    assert foreign.exit_code != 0 and "CO-FGN" in foreign.output and "Traceback" not in foreign.output
    assert runner.invoke(app, ["stats", "--period", year_code], env=auditor).exit_code == 0
    bad = runner.invoke(app, ["stats", "--from", "2026-13-01", "--to", today], env=env)
    assert bad.exit_code != 0 and "--from" in bad.output
    bad = runner.invoke(
        app, ["--lang", "es", "stats", "--period", year_code, "--format", "xls"], env=env
    )
    assert bad.exit_code == 2 and "--format" in bad.output
    for args in (["--period", "2026-Q5"], ["--period", "2026", "--from", "2026-01-01"], []):
        bad = runner.invoke(app, ["stats", *args], env=env)
        assert bad.exit_code == 2 and "Traceback" not in bad.output, args
