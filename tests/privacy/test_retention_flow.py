"""The Prefect flow ``retention`` on the real (test) Prefect server: pseudonymises the due cases, and a rerun
does nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from engine import audit, privacy
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.privacy_models import CaseRedaction
from tests.helpers import make_world

pytestmark = pytest.mark.xdist_group("prefect")


def test_retention_flow(prefect_harness: str, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflows.retention import retention

    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    monkeypatch.setenv("EXHORTO_DATABASE_URL", sqlite_db.url)  # the flow's database: from the environment
    world = make_world(sqlite_db)
    for _ in range(2):
        req, _ = world.transmitted()
        world.act(req, "withdraw", "CO-FGN", "judge")
    open_case, _ = world.transmitted()
    privacy.set_policy(sqlite_db, "CO-FGN", 2, by="co.supervisor")
    later = utcnow() + timedelta(days=2 * 366 + 1)
    result = retention(now=later)
    assert result["redacted"] == 2 and result["skipped"] == 0
    assert retention(now=later)["redacted"] == 0
    with sqlite_db.reader() as session:
        assert len(session.exec(select(CaseRedaction)).all()) == 2
        assert audit.verify_all(session)[1] == []
    assert open_case.reference not in result["references"]
