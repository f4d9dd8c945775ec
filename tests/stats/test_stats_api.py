"""The statistics and privacy routes over real HTTP (FastAPI app served by uvicorn on loopback)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import uvicorn

from engine import tokens
from engine.api.app import create_app
from engine.i18n import translate_context
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
        year = str(date.today().year)
        data = http.get("/stats", params={"period": year}, headers=auth).json()
        assert data["totals"] == {"sent": 0, "received": None}  # 3 < 5, the policy's smallest group
        md = http.get("/stats", params={"period": year, "format": "md"}, headers={**auth, "Accept-Language": "es"})
        received = translate_context("es", "direction", "Received")
        assert md.status_code == 200 and received in md.text and "| <5 |" in md.text
        # Arbitrary ranges are refused, naming the field, in the user's language.
        bad = http.get("/stats", params={"from": f"{year}-01-01", "to": f"{year}-07-01"},
                       headers={**auth, "Accept-Language": "es"})
        assert bad.status_code == 422 and bad.json()["code"] == "not_calendar_period"
        assert bad.json()["field"] == "to" and "trimestre" in bad.json()["detail"]
        same = http.get("/stats", params={"from": f"{year}-01-01", "to": f"{year}-12-31"}, headers=auth).json()
        assert same["totals"] == data["totals"] and same["period"]["code"] == year
        # A clerk cannot lower the smallest group (nor can anyone below the policy); a larger one is fine.
        low = http.get("/stats", params={"period": year, "min_group": 1}, headers=auth)
        assert low.status_code == 422 and low.json()["code"] == "min_group_below_policy"
        assert low.json()["field"] == "min_group"
        assert http.get("/stats", params={"period": year, "min_group": 7}, headers=auth).json()["threshold"] == 7
        assert http.put("/stats/policy", json={"min_group": 2}, headers=auth).status_code == 403
        # Another authority's statistics: not for an auditor of ES (nor any ES user).
        auditor, _ = tokens.issue(sqlite_db, "es.auditor")
        foreign = http.get("/stats", params={"period": year, "authority": "CO-FGN"},
                           headers={"Authorization": f"Bearer {auditor}"})
        assert foreign.status_code == 403 and foreign.json()["code"] == "statistics_not_allowed"
        assert (
            http.post("/privacy/subject-export", json={"surname": "Restrepo Gaviria"}, headers=auth).status_code == 403
        )
        boss = {"Authorization": f"Bearer {supervisor}"}
        export = http.post("/privacy/subject-export", json={"surname": "Restrepo Gaviria"}, headers=boss).json()
        assert len(export["cases"]) == 3
        pdf = http.post("/privacy/subject-export?format=pdf", json={"document_number": "71234567"}, headers=boss)
        assert pdf.content.startswith(b"%PDF")
        changed = http.put("/stats/policy", json={"min_group": 3}, headers=boss).json()
        assert changed["min_group"] == 3 and changed["history"][-1]["set_by"] == "es.supervisor"
        assert changed["history"][-1]["previous"] == 5
        assert http.get("/stats", params={"period": year}, headers=auth).json()["totals"]["received"] == 3
        assert http.put("/stats/policy", json={"min_group": 1}, headers=boss).status_code == 422
        log = http.get("/privacy/access-log", headers=boss).json()
        assert [e["purpose"] for e in log][:3] == ["subject_export"] * 3
        assert all(e["channel"] == "api" for e in log)
