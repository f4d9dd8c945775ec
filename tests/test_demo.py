"""`exhorto demo` runs both stories to closure on a fresh embedded database and says so."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

from engine.cli import app


def test_demo_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Audit chains verified: 8/8 intact" in out
    summary = out.split("Summary", 1)[1].split("Audit trail", 1)[0]
    states = {line.split()[0]: line.split()[2] for line in summary.splitlines() if line.strip()}
    assert states == {"CO-FGN/2026/000001": "closed", "ES-MJ/2026/000001": "closed",
                      "BR-MJSP/2026/000001": "closed", "PT-PGR/2026/000001": "closed",
                      "FR-MJ/2026/000001": "acknowledged", "ES-MJ/2026/000002": "acknowledged",
                      "ES-MJ/2026/000003": "acknowledged", "MX-FGR/2026/000001": "acknowledged"}
    assert "request_clarification" in out and "answer_clarification" in out and "refuse" in out
    assert "report_partial_execution" in out and "(Cerrado)" in out or "(Encerrado)" in out
    assert (tmp_path / "exhorto-demo.db").exists()
    pdfs = sorted((tmp_path / "pdf").glob("*.pdf"))
    # File names carry BCP 47 tags: both Portuguese varieties (pt-PT, pt-BR) beside es, en, fr.
    assert {p.stem.rsplit("_", 1)[1] for p in pdfs} == {"es", "pt-PT", "pt-BR", "en", "fr"}
    assert all(str(p) in out for p in pdfs)
    assert any("CO-FGN" in p.name and "execution_report" in p.name for p in pdfs)
    assert any("BR-MJSP" in p.name and "refusal" in p.name for p in pdfs)
    text = PdfReader(next(p for p in pdfs if "BR-MJSP" in p.name and p.stem.endswith("_pt-BR"))).pages[0].extract_text()
    assert "BR-MJSP/2026/000001" in text
    # An EIO between two EU States (Annex A, Annex B) and a UN-convention request EU -> LAC, in the four languages.
    for stem, marks in (("FR-MJ-2026-000001_01-request", ("SECTION A", "SECTION L", "H7")),
                        ("FR-MJ-2026-000001_02-acknowledgement", ("SECTION E", "Annex B")),
                        ("ES-MJ-2026-000003_01-request", ("1.", "6.", "Purpose for which the evidence"))):
        for lang in ("es", "pt-PT", "pt-BR", "en", "fr"):
            path = next(p for p in pdfs if p.stem.startswith(stem) and p.stem.endswith(f"_{lang}"))
            text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
            if lang == "en":
                assert all(mark in text for mark in marks), (path, marks)
