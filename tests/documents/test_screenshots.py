"""`make screenshots` regenerates docs/screenshots/form-*.png: one image of the first page of every kind of document."""

from __future__ import annotations

import struct
from pathlib import Path

from engine.documents.screenshots import KINDS, first_pages

ROOT = Path(__file__).resolve().parents[2]


def test_make_screenshots_regenerates_every_form_image(tmp_path: Path) -> None:
    assert "engine.documents.screenshots docs/screenshots" in (ROOT / "Makefile").read_text(encoding="utf-8")
    written = first_pages(tmp_path, resolution=12)
    committed = {path.name for path in (ROOT / "docs" / "screenshots").glob("form-*.png")}
    assert {path.name for path in written} == committed == {f"{kind[0]}.png" for kind in KINDS}
    for path in written:
        head = path.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", path
        width, height = struct.unpack(">II", head[16:24])  # IHDR
        assert abs(width / height - 210 / 297) < 0.02, (path, width, height)  # an A4 page
