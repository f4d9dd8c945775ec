"""The command line: a request created and moved by people's commands, one-line errors, the demo itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.helpers import example

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EXHORTO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("EXHORTO_USER", raising=False)

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return invoke


def test_people_drive_a_request_through_the_cli(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("authority", "add", "CO-FGN", "--country", "CO", "--name", "Fiscalía General de la Nación",
        "--languages", "es", "--timezone", "America/Bogota", "--email", "dai@fiscalia.example.co")
    cli("authority", "add", "ES-MJ", "--country", "ES", "--name", "Ministerio de Justicia", "--languages", "es",
        "--timezone", "Europe/Madrid", "--email", "coop@mjusticia.example.es")
    cli("user", "add", "ana", "--authority", "CO-FGN", "--role", "clerk", "--language", "es")
    cli("user", "add", "juez", "--authority", "CO-FGN", "--role", "judge", "--language", "es")
    cli("user", "add", "luis", "--authority", "ES-MJ", "--role", "clerk")
    assert "CO-FGN" in cli("authority", "list") and "juez" in cli("user", "list")

    request = tmp_path / "request.json"  # the example without the fields the system sets (authorities, references)
    request.write_text(json.dumps(example("request", "co-es-bank-records")), encoding="utf-8")
    out = cli("case", "create", "--to", "ES-MJ", "--payload", str(request), "--user", "ana")
    reference = out.split()[0]
    assert reference.startswith("CO-FGN/2026/000001") or reference.startswith("CO-FGN/")
    cli("case", "act", reference, "submit", "--user", "ana")
    cli("case", "act", reference, "approve", "--user", "juez", "--version", "2")
    cli("case", "act", reference, "transmit", "--user", "ana")
    assert "delivered 1" in cli("dispatch")
    shown = cli("case", "show", reference, "--user", "ana")
    assert "state: Delivered" in shown and "ES-MJ/" in shown
    listing = cli("case", "list", "--user", "luis")
    assert "requested" in listing and "CO-FGN" in listing
    history = cli("case", "history", reference, "--user", "ana")
    assert [line.split()[4] for line in history.splitlines()] == [
        "create", "submit", "approve", "transmit", "record_delivery"]
    assert "2 audit chains verified" in cli("audit", "verify")
    as_json = json.loads(cli("case", "show", reference, "--user", "ana", "--json"))
    assert as_json["state"] == "delivered" and as_json["version"] == 5


@pytest.mark.parametrize(("args", "expected"), [
    (["authority", "add", "ES-MJ", "--country", "XX", "--name", "n", "--languages", "es", "--timezone",
      "Europe/Madrid", "--email", "a@b.es"], "country"),
    (["authority", "add", "ES-MJ", "--country", "ES", "--name", "n", "--languages", "de", "--timezone",
      "Europe/Madrid", "--email", "a@b.es"], "languages"),
    (["authority", "add", "ES-MJ", "--country", "ES", "--name", "n", "--languages", "es", "--timezone",
      "Mars/Olympus", "--email", "a@b.es"], "timezone"),
    (["case", "show", "ES-MJ/2026/000001", "--user", "nobody"], "nobody"),
    (["case", "list"], "--user"),
    (["--lang", "de", "lifecycle"], "supported languages"),
])
def test_bad_input_is_one_clear_line(cli, args: list[str], expected: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], result.output
    assert "Traceback" not in result.output


def test_refused_action_is_reported_in_the_users_language(cli) -> None:  # type: ignore[no-untyped-def]
    cli("authority", "add", "CO-FGN", "--country", "CO", "--name", "F", "--languages", "es", "--timezone",
        "America/Bogota", "--email", "a@f.example.co")
    cli("authority", "add", "ES-MJ", "--country", "ES", "--name", "M", "--languages", "es", "--timezone",
        "Europe/Madrid", "--email", "a@m.example.es")
    cli("user", "add", "ana", "--authority", "CO-FGN", "--role", "clerk", "--language", "es")
    out = cli("case", "create", "--to", "ES-MJ", "--user", "ana")
    reference = out.split()[0]
    english = runner.invoke(app, ["case", "act", reference, "transmit", "--user", "ana"])
    spanish = runner.invoke(app, ["--lang", "es", "case", "act", reference, "transmit", "--user", "ana"])
    assert english.exit_code == spanish.exit_code == 1
    assert "not allowed" in english.output and english.output != spanish.output
    incomplete = runner.invoke(app, ["case", "act", reference, "submit", "--user", "ana"])
    assert incomplete.exit_code == 2 and "/persons" in incomplete.output


def test_lifecycle_prints_the_table_and_diagrams(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("lifecycle")
    assert "stateDiagram-v2" in out and "| approved | `transmit` | transmitted | requesting |" in out


def test_console_script_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "case", "show", "1",
                             "--user", "ghost"], capture_output=True, text=True,
                            env={"EXHORTO_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": ""})
    assert result.returncode == 1
    assert result.stderr.strip() == "error: User ghost does not exist."


def test_case_list_tracks_clocks_due_soon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.seed import seed_demo
    from engine.store.db import Database
    from engine.store.migrate import ensure_schema
    from tests.helpers import World

    url = f"sqlite:///{tmp_path / 'track.db'}"
    monkeypatch.setenv("EXHORTO_DATABASE_URL", url)
    db = Database(url)
    ensure_schema(db)
    seed_demo(db)
    _, received = World(db).transmitted()  # ES-MJ must acknowledge within 7 days
    soon = runner.invoke(app, ["case", "list", "--due-within", "14d", "--user", "es.clerk"])
    assert soon.exit_code == 0 and received.reference in soon.output
    later = runner.invoke(app, ["case", "list", "--due-within", "2d", "--user", "es.clerk"])
    overdue = runner.invoke(app, ["case", "list", "--overdue", "--user", "es.clerk"])
    assert received.reference not in later.output and received.reference not in overdue.output


def test_keys_import_names_the_authority_and_a_revocation_travels(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXHORTO_KEY_PASSPHRASE", "cli-test-passphrase")
    monkeypatch.setenv("EXHORTO_KEY_KDF_COST", "10")
    es, co = (("--db", f"sqlite:///{tmp_path / name}") for name in ("es.db", "co.db"))
    for node in (es, co):
        for code, country in (("ES-MJ", "ES"), ("CO-FGN", "CO"), ("FR-MJ", "FR")):
            cli(*node, "authority", "add", code, "--country", country, "--name", code, "--languages", "es",
                "--timezone", "UTC", "--email", f"x@{code.lower()}.example")
    cli(*es, "keys", "generate", "ES-MJ")
    cli(*co, "keys", "generate", "CO-FGN")
    es_keys, co_keys = tmp_path / "es.json", tmp_path / "co.json"
    cli(*es, "keys", "export", "--out", str(es_keys))
    cli(*co, "keys", "export", "--out", str(co_keys))
    refused = cli(*es, "keys", "import", str(co_keys), "--authority", "FR-MJ", ok=False)  # not FR-MJ's keys
    assert "a key of CO-FGN" in refused and "Traceback" not in refused
    assert "served by this node" in cli(*es, "keys", "import", str(es_keys), "--authority", "ES-MJ", ok=False)
    assert "CO-FGN#" in cli(*es, "keys", "import", str(co_keys), "--authority", "CO-FGN")
    key_id = json.loads(co_keys.read_text())[0]["key_id"]
    revoked = cli(*co, "keys", "revoke", key_id, "--compromised-at", "2026-11-30T08:00:00+00:00")
    assert f"key {key_id} revoked" in revoked and "now signs for CO-FGN" in revoked
    cli(*co, "keys", "export", "--out", str(co_keys))
    cli(*es, "keys", "import", str(co_keys), "--authority", "CO-FGN")
    listed = [line for line in cli(*es, "keys", "list").splitlines() if line.startswith(key_id)]
    assert len(listed) == 1 and "REVOKED" in listed[0]


def test_a_form_of_another_exchange_is_refused_at_the_input_boundary(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The README's refusal belongs to its exchange; the Mexico → France example refusal names other references
    and is refused with a field error on each, nothing written; the references come from the system."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("EXHORTO_KEY_PASSPHRASE", "test passphrase")
    for code, country, zone in (("CO-FGN", "CO", "America/Bogota"), ("ES-MJ", "ES", "Europe/Madrid")):
        cli("authority", "add", code, "--country", country, "--name", code, "--languages", "es", "--timezone", zone,
            "--email", f"coop@{code.lower()}.example")
    for name, authority, role in (("ana", "CO-FGN", "clerk"), ("juez", "CO-FGN", "judge"),
                                  ("juez-es", "ES-MJ", "judge")):
        cli("user", "add", name, "--authority", authority, "--role", role)
    cli("case", "create", "--to", "ES-MJ", "--payload", str(root / "docs/examples/co-es-request.json"), "-u", "ana")
    cli("case", "act", "CO-FGN/2026/000001", "submit", "-u", "ana")
    cli("case", "act", "CO-FGN/2026/000001", "approve", "-u", "juez", "--version", "2")
    cli("case", "act", "CO-FGN/2026/000001", "transmit", "-u", "ana")
    assert "delivered 1" in cli("dispatch")
    foreign = root / "forms/examples/refusal/mx-fr-double-criminality.json"
    out = cli("case", "act", "ES-MJ/2026/000001", "refuse", "--payload", str(foreign), "-u", "juez-es", ok=False)
    assert "/references/requesting" in out and "CO-FGN/2026/000001" in out and "/references/requested" in out
    assert "state: Delivered  version: 1" in cli("case", "show", "ES-MJ/2026/000001", "-u", "juez-es")
    own = cli("case", "act", "ES-MJ/2026/000001", "refuse", "--payload", str(root / "docs/examples/es-co-refusal.json"),
              "-u", "juez-es")
    assert "Refused" in own
    shown = json.loads(cli("case", "show", "ES-MJ/2026/000001", "-u", "juez-es", "--json"))
    assert shown["state"] == "refused"
