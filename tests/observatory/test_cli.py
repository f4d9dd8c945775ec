"""`exhorto observatory …` on one node (hub mode): register, report to, send, dispatch, publish; clear errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from engine import directory
from engine.cli import app
from engine.seed import seed_demo
from engine.store.db import Database
from engine.store.migrate import ensure_schema


def test_send_dispatch_and_report_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    ensure_schema(db)
    seed_demo(db)
    directory.add_authority(db, code="PT-OBS", country="PT", name="Observatório", languages=["pt"],
                            timezone="Europe/Lisbon", contact_email="obs@example.pt")
    directory.add_user(db, username="pt.obs", authority="PT-OBS", role="auditor", preferred_language="pt")
    db.dispose()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", url, *args])
        return result.exit_code, result.output

    assert run("observatory", "register", "PT-OBS", "--granularity", "year")[0] == 0
    assert run("observatory", "member", "PT-OBS", "ES-MJ")[0] == 0
    code, out = run("observatory", "send", "--period", "2025-13", "--user", "es.supervisor")
    assert code == 2 and "period" in out and "Traceback" not in out
    code, out = run("observatory", "send", "--period", "2025-Q1", "--user", "es.supervisor")
    assert code == 2 and "year" in out  # the observatory takes yearly returns only
    code, out = run("observatory", "send", "--period", "2025", "--user", "es.clerk")
    assert code == 1 and "supervisor" in out and "Traceback" not in out
    code, out = run("observatory", "send", "--period", "2025", "--user", "es.supervisor")
    assert code == 0 and "queued for PT-OBS" in out, out
    code, out = run("dispatch")
    assert code == 0 and "delivered 1" in out, out
    code, out = run("observatory", "returns", "--user", "pt.obs")
    assert "ES-MJ" in out
    code, out = run("observatory", "report", "--period", "2025", "--format", "sdmx", "--user", "pt.obs")
    lines = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {(line["REPORTER"], line["BREAKDOWN"], line["OBS_VALUE"]) for line in lines} == {
        ("PT-OBS", "TOTAL", "0")}
    code, out = run("--lang", "pt", "observatory", "report", "--period", "2025", "--user", "pt.obs")
    assert code == 0 and "Estatísticas do observatório" in out
    code, out = run("observatory", "report", "--period", "2024", "--user", "pt.obs")
    assert code == 1 and "no return" in out
    code, out = run("observatory", "report", "--period", "2025", "--format", "xml", "--user", "pt.obs")
    assert code == 2 and "--format" in out
