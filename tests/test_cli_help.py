"""Every command of ``exhorto`` says what it does and every argument and option says what it takes; ``--lang`` and
``--user`` are accepted at every level of the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


def _missing_help() -> list[str]:
    missing: list[str] = []
    for path, command in _walk(typer.main.get_command(app)):
        where = " ".join(("exhorto", *path))
        if not (command.help or command.short_help or "").strip():
            missing.append(f"{where}: no description")
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                name = param.opts[0] if param.param_type_name == "option" else param.name.upper()
                missing.append(f"{where} {name}: no help")
    return missing


def test_every_command_and_parameter_has_help() -> None:
    assert _missing_help() == []


def test_lang_and_user_are_accepted_by_every_command() -> None:
    for path, command in _walk(typer.main.get_command(app)):
        options = {name for param in command.params for name in param.opts}
        assert {"--lang", "--user"} <= options, " ".join(("exhorto", *path))


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EXHORTO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("EXHORTO_USER", raising=False)
    monkeypatch.delenv("EXHORTO_LANG", raising=False)

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    invoke("authority", "add", "CO-FGN", "--country", "CO", "--name", "Fiscalía General de la Nación",
           "--languages", "es", "--timezone", "America/Bogota", "--email", "dai@fiscalia.example.co")
    invoke("user", "add", "ana", "--authority", "CO-FGN", "--role", "clerk")
    return invoke


@pytest.mark.parametrize("args", [
    ["--lang", "es", "case", "show", "CO-FGN/2026/000009", "--user", "ana"],   # global
    ["case", "--lang", "es", "show", "CO-FGN/2026/000009", "--user", "ana"],   # group
    ["case", "show", "CO-FGN/2026/000009", "--lang", "es", "--user", "ana"],   # command
    ["--lang", "fr", "case", "show", "CO-FGN/2026/000009", "--lang", "es", "-u", "ana"],  # the nearest wins
], ids=["global", "group", "command", "both"])
def test_lang_at_every_level(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, output = cli(*args)
    assert (code, output.strip()) == (1, "error: El expediente CO-FGN/2026/000009 no existe.")


@pytest.mark.parametrize("args", [
    ["--user", "ana", "case", "list"], ["-u", "ana", "case", "list"], ["case", "--user", "ana", "list"],
    ["case", "list", "--user", "ana"], ["case", "list", "-u", "ana"],
], ids=["global", "global-short", "group", "command", "command-short"])
def test_user_at_every_level(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, output = cli(*args)
    assert code == 0, output


def test_lang_and_user_on_commands_that_do_not_declare_them(cli) -> None:  # type: ignore[no-untyped-def]
    code, output = cli("authority", "list", "--lang", "pt", "--user", "ana")
    assert code == 0 and "CO-FGN" in output
    code, output = cli("audit", "verify", "--lang", "xx")
    assert code == 2 and output.startswith("error: ") and len(output.strip().splitlines()) == 1


def test_form_validate_follows_the_global_lang(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    _, english = cli("form", "validate", str(bad), "--form", "refusal")
    _, spanish = cli("--lang", "es", "form", "validate", str(bad), "--form", "refusal")
    _, local = cli("form", "validate", str(bad), "--form", "refusal", "--lang", "es")
    assert spanish == local != english
