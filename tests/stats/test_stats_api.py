"""The statistics and privacy routes over real HTTP (FastAPI app served by uvicorn on loopback)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from engine import tokens
from engine.api.app import create_app
from engine.i18n import translate
from engine.store.db import Database
from tests.helpers import make_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def base_url(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    world = make_world(sqlite_db)
    for _ in range(3):
        _, rqd = world.transmitted()
        world.act(rqd, "acknowledge", "ES-MJ", "clerk")
    app = create_app(sqlite_db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_stats_and_privacy_routes(base_url: str, sqlite_db: Database) -> None:
    clerk, _ = tokens.issue(sqlite_db, "es.clerk")
    supervisor, _ = tokens.issue(sqlite_db, "es.supervisor")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {clerk}"}
        data = http.get(
            "/stats", params={"from": "2020-01-01", "to": "2030-12-31", "min_group": 1}, headers=auth
        ).json()
        assert data["totals"] == {"sent": 0, "received": 3}
        md = http.get(
            "/stats",
            params={"from": "2020-01-01", "to": "2030-12-31", "format": "md"},
            headers={**auth, "Accept-Language": "es"},
        )
        assert md.status_code == 200 and translate("es", "Received") in md.text and "| <5 |" in md.text
        bad = http.get("/stats", params={"from": "2026-12-01", "to": "2026-01-01"}, headers=auth)
        assert bad.status_code in (400, 422)
        assert (
            http.post("/privacy/subject-export", json={"surname": "Restrepo Gaviria"}, headers=auth).status_code == 403
        )
        boss = {"Authorization": f"Bearer {supervisor}"}
        export = http.post("/privacy/subject-export", json={"surname": "Restrepo Gaviria"}, headers=boss).json()
        assert len(export["cases"]) == 3
        pdf = http.post("/privacy/subject-export?format=pdf", json={"document_number": "71234567"}, headers=boss)
        assert pdf.content.startswith(b"%PDF")
        log = http.get("/privacy/access-log", headers=boss).json()
        assert [e["purpose"] for e in log][:3] == ["subject_export"] * 3
        assert all(e["channel"] == "api" for e in log)
