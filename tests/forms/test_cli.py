"""``exhorto form …`` through typer's test runner on the forms app itself."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine import forms
from engine.cli.forms import app
from tests.forms.conftest import EXAMPLES

runner = CliRunner()
INVALID = EXAMPLES / "invalid" / "refusal-other-without-explanation.json"


def test_list() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in forms.FORMS:
        assert forms.schema_id(name) in result.output


def test_schema() -> None:
    result = runner.invoke(app, ["schema", "refusal"])
    assert result.exit_code == 0
    assert json.loads(result.output)["$id"] == "https://exhorto.eu/schemas/refusal/v1"


def test_schema_unknown() -> None:
    result = runner.invoke(app, ["schema", "letter"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Unknown form letter" in result.output
    assert "Traceback" not in result.output


def test_validate_valid_examples() -> None:
    for path in sorted(EXAMPLES.glob("request/*.json")):
        result = runner.invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("ok:")


def test_validate_uses_declared_schema_and_localizes() -> None:
    result = runner.invoke(app, ["validate", str(INVALID), "--lang", "pt"])
    assert result.exit_code == 2
    assert "/other_ground\trequired\t«Outro motivo (explicação)» é obrigatório." in result.output.splitlines()


def test_validate_json_output_matches_expected_errors() -> None:
    result = runner.invoke(app, ["validate", str(INVALID), "--json", "--lang", "fr"])
    assert result.exit_code == 2
    expected = json.loads(INVALID.with_name(INVALID.stem + ".errors.json").read_text())
    assert [{"pointer": e["pointer"], "code": e["code"]} for e in json.loads(result.output)] == expected


def test_validate_form_option_and_draft(tmp_path: Path) -> None:
    draft = tmp_path / "draft.json"
    draft.write_text('{"urgency": {"level": "urgent"}}')
    assert runner.invoke(app, ["validate", str(draft), "--form", "request", "--draft"]).exit_code == 0
    result = runner.invoke(app, ["validate", str(draft), "--form", "request", "--lang", "es"])
    assert result.exit_code == 2 and "«Motivo de la urgencia» es obligatorio." in result.output


def test_validate_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"references": ')
    result = runner.invoke(app, ["validate", str(bad), "--lang", "es"])
    assert result.exit_code == 2
    assert "El documento no es un JSON válido" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and result.output.startswith("error:")
    result = runner.invoke(app, ["validate", str(bad), "--form", "letter"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["validate", str(bad), "--lang", "de"])
    assert result.exit_code == 2 and "unsupported language" in result.output


def test_validate_stdin() -> None:
    text = (EXAMPLES / "withdrawal" / "cl-uy-withdrawal.json").read_text()
    result = runner.invoke(app, ["validate", "-"], input=text)
    assert result.exit_code == 0, result.output
