"""``exhorto pdf``: render on demand, extract the embedded JSON back, clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.canonical import canonical_json
from engine.cli import app
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from tests.helpers import make_world


@pytest.fixture
def node(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    ensure_schema(db)
    case = make_world(db).new_request("CL-MP", "UY-MEC", slug="cl-uy-service-of-documents")
    db.dispose()
    return url, case.reference


def test_render_then_extract_gives_back_the_identical_json(node: tuple[str, str], tmp_path: Path) -> None:
    url, reference = node
    out = tmp_path / "request.pdf"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "--db",
            url,
            "--lang",
            "es",
            "pdf",
            reference,
            "--lang",
            "fr",
            "--bilingual",
            "es",
            "--out",
            str(out),
            "--user",
            "cl.clerk",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Se ha escrito {out}") and out.read_bytes().startswith(b"%PDF-")
    extracted = runner.invoke(app, ["--db", url, "pdf", "extract", str(out)])
    assert extracted.exit_code == 0
    db = Database(url)
    from engine.cases import get_case

    assert extracted.stdout_bytes == canonical_json(get_case(db, reference).payload)
    saved = tmp_path / "payload.json"
    assert runner.invoke(app, ["pdf", "extract", str(out), "--out", str(saved)]).exit_code == 0
    assert saved.read_bytes() == extracted.stdout_bytes


def test_errors_are_one_clear_line(node: tuple[str, str], tmp_path: Path) -> None:
    url, reference = node
    runner = CliRunner()
    bad_lang = runner.invoke(app, ["--db", url, "--lang", "fr", "pdf", reference, "--lang", "de",
                                    "--user", "cl.clerk"])
    assert bad_lang.exit_code == 1
    assert bad_lang.output.replace("\xa0", " ").strip() == (
        "error: Les documents ne peuvent pas être établis en «\u202fde\u202f». "
        "Langues disponibles\u202f: es, pt_PT, pt_BR, en, fr."
    )
    missing = runner.invoke(app, ["--db", url, "pdf", "XX-NONE/2026/000009", "--user", "cl.clerk"])
    assert (
        missing.exit_code == 1 and missing.output.count("\n") == 1 and "XX-NONE/2026/000009" in missing.output
    )
    not_pdf = tmp_path / "note.txt"
    not_pdf.write_text("hello")
    extract = runner.invoke(app, ["--lang", "pt", "pdf", "extract", str(not_pdf)])
    assert extract.exit_code == 1 and "payload.json" in extract.output and "Traceback" not in extract.output
    assert runner.invoke(app, ["pdf", "extract"]).exit_code == 2
    assert "no such file" in runner.invoke(app, ["pdf", "extract", str(tmp_path / "absent.pdf")]).output
