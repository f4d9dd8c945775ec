"""Reads of a case's personal data through the API are written to the access log, with the user."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine import privacy, tokens
from engine.api.app import create_app
from engine.store.db import Database
from tests.helpers import make_world


def test_api_case_and_pdf_reads_are_logged(sqlite_db: Database) -> None:
    world = make_world(sqlite_db)
    case = world.new_request()
    token, _ = tokens.issue(sqlite_db, "co.clerk")
    with TestClient(create_app(sqlite_db)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(f"/cases/{case.id}", headers=headers).status_code == 200
        assert client.get(f"/cases/{case.id}/document?lang=es", headers=headers).status_code == 200
    entries = privacy.access_log(sqlite_db, "CO-FGN")
    assert sorted((e.username, e.channel) for e in entries) == [("co.clerk", "api"), ("co.clerk", "pdf")]


def test_api_attachment_downloads_are_logged_and_foreign_ones_are_not_found(sqlite_db: Database) -> None:
    world = make_world(sqlite_db)
    case = world.new_request()
    own, _ = tokens.issue(sqlite_db, "co.clerk")
    foreign, _ = tokens.issue(sqlite_db, "fr.clerk")
    with TestClient(create_app(sqlite_db)) as client:
        headers = {"Authorization": f"Bearer {own}"}
        uploaded = client.post(f"/cases/{case.id}/attachments", params={"name": "annex.txt"}, content=b"annex",
                               headers={**headers, "Content-Type": "text/plain"})
        digest = uploaded.json()["sha256"]
        assert not privacy.access_log(sqlite_db, "CO-FGN")
        assert client.get(f"/cases/{case.id}/attachments/{digest}", headers=headers).content == b"annex"
        other = client.get(f"/cases/{case.id}/attachments/{digest}", headers={"Authorization": f"Bearer {foreign}"})
        missing = client.get(f"/cases/999999/attachments/{digest}", headers={"Authorization": f"Bearer {foreign}"})
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"] == missing.json()["detail"].replace("999999", str(case.id))
    entries = privacy.access_log(sqlite_db, "CO-FGN")
    assert [(e.username, e.channel, e.case_id) for e in entries] == [("co.clerk", "api", case.id)]
    assert not privacy.access_log(sqlite_db, "FR-MJ")
