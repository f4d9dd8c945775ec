"""The web case page shows each signed PDF's verdict in the user's language, as ``exhorto pdf verify`` words it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import pki
from engine.api import create_app
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from tests.helpers import make_world
from tests.web.conftest import Web


@pytest.mark.slow
def test_received_signed_request_shows_a_valid_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "1")
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    ensure_schema(db)
    world = make_world(db)
    pki.create_ca(db, "hub CA")
    pki.issue_certificate(db, "CO-FGN")
    _, received = world.transmitted()
    web = Web(world=world, app=create_app(db))

    page = web.client("es.clerk", lang="es").get(f"/web/cases/{received.id}")
    assert page.status_code == 200
    assert "Veredicto: válido." in page.text
    assert "Firmado por:" in page.text and "CO-FGN" in page.text

    # Once the CA is no longer trusted here, the same page says so.
    [ca] = pki.trust_list(db)
    pki.trust_remove(db, ca.fingerprint)
    page = web.client("es.clerk", lang="en").get(f"/web/cases/{received.id}")
    assert "Verdict: NOT valid." in page.text and "NOT trusted" in page.text
