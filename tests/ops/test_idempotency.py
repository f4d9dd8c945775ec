"""Idempotency keys: a retried action is answered from the first attempt and applied once (SQLite and
PostgreSQL), over the engine and over the real HTTP API."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlmodel import func, select

from engine.audit import verify_all
from engine.errors import ActionNotAllowedInState, InvalidInput
from engine.idempotency import IdempotencyKeyReused, act_once
from engine.store.db import Database
from engine.store.models import AuditEvent
from engine.store.ops_models import IdempotencyKey
from tests.federation.nodes import make_node
from tests.helpers import make_world


def _render(outcome):  # type: ignore[no-untyped-def]
    return {"state": outcome.case.state, "seq": outcome.event.seq}


def _events(db: Database, case_id: int) -> int:
    with db.reader() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.case_id == case_id)).one()


def test_same_key_applies_once_and_replays(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    clerk = world.actor("CO-FGN", "clerk")
    first = act_once(db, key="k-1", case=case.id, action="submit", actor=clerk, payload=None,
                     expected_version=1, render=_render)
    again = act_once(db, key="k-1", case=case.id, action="submit", actor=clerk, payload=None,
                     expected_version=1, render=_render)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.response == first.response == {"state": "pending_approval", "seq": 2}
    assert _events(db, case.id) == 2
    # Without the key the same request is a new attempt, refused by the lifecycle.
    with pytest.raises(ActionNotAllowedInState):
        act_once(db, key=None, case=case.id, action="submit", actor=clerk, payload=None,
                 expected_version=None, render=_render)
    # The same key for another request is refused and writes nothing.
    with pytest.raises(IdempotencyKeyReused):
        act_once(db, key="k-1", case=case.id, action="approve", actor=clerk, payload=None,
                 expected_version=2, render=_render)
    with pytest.raises(InvalidInput):
        act_once(db, key="bad key with spaces", case=case.id, action="approve", actor=clerk, payload=None,
                 expected_version=2, render=_render)
    with db.reader() as session:
        assert session.exec(select(func.count()).select_from(IdempotencyKey)).one() == 1
        assert verify_all(session) == (1, [])


def test_concurrent_retries_apply_once(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    clerk = world.actor("CO-FGN", "clerk")
    answers, failures = [], []

    def attempt() -> None:
        try:
            answers.append(act_once(db, key="same", case=case.id, action="submit", actor=clerk, payload=None,
                                    expected_version=1, render=_render))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(not a.replayed for a in answers) == 1
    assert {a.response["seq"] for a in answers} == {2}
    assert _events(db, case.id) == 2


def test_api_idempotency_header(tmp_path: Path) -> None:
    node = make_node(tmp_path, "node", "CO-FGN")
    try:
        with node.client("clerk") as client:
            created = client.post("/cases", json={"counterpart": "ES-MJ", "payload": _request()}).json()
            key = str(uuid.uuid4())
            body = {"action": "submit", "version": created["version"]}
            path = f"/cases/{created['id']}/actions"
            first = client.post(path, json=body, headers={"Idempotency-Key": key})
            again = client.post(path, json=body, headers={"Idempotency-Key": key})
            assert first.status_code == again.status_code == 200, first.text
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert "Idempotent-Replayed" not in first.headers
            assert again.json() == first.json()
            other = client.post(path, json={"action": "approve", "version": 2},
                                headers={"Idempotency-Key": key})
            assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
            bad = client.post(path, json=body, headers={"Idempotency-Key": "x" * 201})
            assert bad.status_code == 422
        assert _events(node.db, created["id"]) == 2
    finally:
        node.server.stop()
        node.db.dispose()


def _request() -> dict:  # type: ignore[type-arg]
    from tests.helpers import example

    return example("request", "co-es-bank-records")


