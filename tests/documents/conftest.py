"""Documents tests always exercise the automatic attachment, whatever the suite-wide EXHORTO_ATTACH_PDF says."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _attach_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "1")
