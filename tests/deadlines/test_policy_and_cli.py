"""Policy file validation and override; the deadlines commands end to end (CLI over a real database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from engine.cli import app
from engine.deadlines.calendar import Unit
from engine.deadlines.policy import InvalidPolicy, load_policy, policy_from
from engine.lifecycle import ACTIONS
from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import Deadline
from tests.deadlines.conftest import free_port
from tests.helpers import make_world


def test_builtin_policy_defaults_follow_the_eio() -> None:
    policy = policy_from(None)
    eio = {r.kind: r for r in policy.clocks_for("EIO")}
    assert (eio["acknowledge"].period, eio["decide"].period, eio["execute"].period) == (7, 30, 90)
    assert eio["decide"].pause == {"request_clarification"}
    assert [lv.name for lv in eio["decide"].ladder] == ["reminder", "overdue", "escalation"]
    assert policy.clock("MEDELLIN", "decide").unit is Unit.BUSINESS_DAYS  # type: ignore[union-attr]
    assert policy.clocks_for("SOMETHING_ELSE") == policy.default


def test_actions_that_move_a_clock_are_known_per_basis_and_side() -> None:
    policy = policy_from(None)
    assert policy.moves_a_clock("EIO", "requested", "request_clarification")
    assert not policy.moves_a_clock("EIO", "requesting", "submit")
    for basis in [None, "SOMETHING_ELSE", *policy.bases()]:
        for side in ("requesting", "requested"):
            for action in [*ACTIONS, "receive"]:
                rules = [r for r in policy.clocks_for(basis) if r.side == side]
                moved = any(action in (r.start | r.stop | r.cancel | r.pause | r.resume) for r in rules)
                assert policy.moves_a_clock(basis, side, action) is moved, (basis, side, action)


def test_operator_override_is_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "deadlines.toml"
    override.write_text(
        '[basis.BILATERAL.clocks.decide]\nperiod = 45\nunit = "business_days"\n'
        "[basis.EIO.clocks.await_execution]\nenabled = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EXHORTO_DEADLINE_POLICY", str(override))
    policy = load_policy()
    decide = policy.clock("BILATERAL", "decide")
    assert decide is not None and (decide.period, decide.unit) == (45, Unit.BUSINESS_DAYS)
    assert decide.stop == {"start_execution", "refuse"}  # everything else inherited
    assert policy.clock("EIO", "await_execution") is None
    assert policy.clock("EIO", "acknowledge") is not None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[defaults.clocks.decide]\nunit = "weeks"\n', "defaults.clocks.decide.unit"),
        ("[defaults.clocks.decide]\nperiod = -3\n", "defaults.clocks.decide.period"),
        ('[defaults.clocks.decide]\nstop = ["approve_everything"]\n', "defaults.clocks.decide.stop"),
        ('[basis.UNTOC.clocks.execute]\nladder = "nope"\n', "basis.UNTOC.clocks.execute.ladder"),
        ('[ladder.standard]\nlevels = [{name = "x", at = 1.5}]\n', "ladder.standard.levels[1].at"),
        ("[defaults.clocks.decide\n", "-"),
    ],
)
def test_bad_policy_files_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidPolicy) as error:
        policy_from(path)
    assert error.value.params["key"] == key
    assert "Política de plazos" in error.value.message("es")


def run(db: Database, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--db", db.url, *args])
    return result.exit_code, result.output


def test_cli_tracking_sweep_and_extension(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(db)  # the CLI expects a migrated database
    world = make_world(db)
    _, requested = world.transmitted("CO-FGN", "ES-MJ")
    with db.reader() as session:
        ack = session.exec(
            select(Deadline).where(Deadline.case_id == requested.id, Deadline.kind == "acknowledge")
        ).one()
    later = (ack.due_at + timedelta(days=10)).isoformat()

    code, out = run(db, "case", "due", "--overdue", "--now", later, "-u", "es.judge")
    assert code == 0 and requested.reference in out and "Acknowledgement of receipt" in out
    code, out = run(db, "--lang", "es", "case", "due", "--due-within", "1d", "-u", "es.judge")
    assert code == 0 and out.strip() == "-"
    code, out = run(db, "case", "due", "--due-within", "soon", "-u", "es.judge")
    assert code == 2 and "due-within" in out

    monkeypatch.setenv("EXHORTO_SMTP_PORT", str(free_port()))  # nothing listens: notices wait for a retry
    code, out = run(db, "deadlines", "sweep", "--direct", "--now", later)
    assert code == 0 and "retrying" in out
    code, out = run(db, "deadlines", "notifications", "--status", "pending")
    assert code == 0 and "es.example" not in out and "mjusticia.example.es" in out

    code, out = run(
        db,
        "deadlines",
        "extend",
        requested.reference,
        "decide",
        "--by",
        "30",
        "--reasons",
        "Complex banking records",
        "-u",
        "es.judge",
    )
    assert code == 0 and "decide now due" in out
    code, out = run(db, "--lang", "es", "case", "clocks", requested.reference, "-u", "es.judge")
    assert code == 0 and "Acuse de recibo" in out and "prorrogado" in out and "aviso enviado" in out

    bad = tmp_path / "bad.toml"
    bad.write_text('[defaults.clocks.decide]\nunit = "weeks"\n', encoding="utf-8")
    code, out = run(db, "deadlines", "policy", "--check", str(bad))
    assert code != 0 and "defaults.clocks.decide.unit" in out and "Traceback" not in out
    code, out = run(db, "deadlines", "policy", "--basis", "MEDELLIN")
    assert code == 0 and "business_days" in out
