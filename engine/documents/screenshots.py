"""Images of the first page of each kind of document, for docs/screenshots/: ``make screenshots``.

Renders the examples in ``forms/examples`` (an EIO Annex A request, its Annex B acknowledgement, a numbered
UN-convention request, and every other form) and rasterises page 1 with poppler's ``pdftoppm``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from engine.documents._render import Party, RenderRequest, render_pdf

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
ISSUED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

# (image name, form, example, language, instrument of the case)
KINDS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("form-eio-annex-a", "request", "fr-es-eio-interception", "fr", None),
    ("form-eio-annex-b", "acknowledgement", "es-co-receipt", "es", "EIO"),
    ("form-un-convention-request", "request", "ie-jm-search-and-seizure", "en", None),
    ("form-treaty-request", "request", "co-es-bank-records", "es", None),
    ("form-clarification-request", "clarification_request", "es-co-account-holders", "es", None),
    ("form-clarification-answer", "clarification_answer", "co-es-account-holders", "es", None),
    ("form-refusal", "refusal", "mx-fr-double-criminality", "es", None),
    ("form-postponement", "postponement", "pt-br-ongoing-investigation", "pt", None),
    ("form-execution-report", "execution_report", "es-co-final", "es", None),
    ("form-withdrawal", "withdrawal", "cl-uy-withdrawal", "es", None),
    ("form-closure", "closure", "es-co-executed", "es", None),
)


def _party(payload: dict, key: str, code: str, country: str) -> Party:
    """The request's own authority in the running header (its example names both); a placeholder for the other
    forms, whose payloads leave the two authorities to the case."""
    block = payload.get(key)
    if isinstance(block, dict) and {"code", "name", "country"} <= set(block):
        return Party(block["code"], block["name"], block["country"])
    side = "sender" if key == "requesting_authority" else "recipient"
    return Party(code, f"Central authority ({side})", country)


def first_pages(out: Path, resolution: int = 70) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, form, slug, lang, instrument in KINDS:
            raw = (EXAMPLES / form / f"{slug}.json").read_bytes()
            payload = json.loads(raw)
            pdf = render_pdf(RenderRequest(
                form=form, payload=payload, language=lang, payload_bytes=raw, issued_at=ISSUED,
                instrument=instrument, sender=_party(payload, "requesting_authority", "XX-SENDER", "FR"),
                recipient=_party(payload, "requested_authority", "XX-RECIPIENT", "ES"),
            ))
            source = Path(tmp) / f"{name}.pdf"
            source.write_bytes(pdf.content)
            subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", "1", "-l", "1", "-singlefile",
                            str(source), str(out / name)], check=True)
            written.append(out / f"{name}.png")
    return written


if __name__ == "__main__":
    for path in first_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
