"""The Prefect flow ``housekeeping`` on the real (test) Prefect server: stored idempotency answers older than the
kept period are deleted, newer ones still replay, and a rerun deletes nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from engine.idempotency import act_once
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.ops_models import IdempotencyKey
from tests.helpers import make_world

pytestmark = pytest.mark.xdist_group("prefect")


def _keys(db: Database) -> int:
    with db.reader() as session:
        return int(session.exec(select(func.count()).select_from(IdempotencyKey)).one())


def test_housekeeping_forgets_old_idempotency_answers(prefect_harness: str, sqlite_db: Database,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from workflows.housekeeping import housekeeping

    monkeypatch.setenv("EXHORTO_DATABASE_URL", sqlite_db.url)  # the flow's database: from the environment

    world = make_world(sqlite_db)
    clerk = world.actor("CO-FGN", "clerk")
    now = utcnow()
    old, recent = world.new_request(), world.new_request()
    for case, key, at in ((old, "key-old", now - timedelta(days=8)), (recent, "key-recent", now - timedelta(days=1))):
        act_once(sqlite_db, key=key, case=case.id, action="submit", actor=clerk, payload={}, expected_version=None,
                 render=lambda outcome: {"version": outcome.case.version}, now=at)
    assert _keys(sqlite_db) == 2

    assert housekeeping(now=now) == {"idempotency_keys": 1}
    assert housekeeping(now=now) == {"idempotency_keys": 0}
    assert _keys(sqlite_db) == 1
    replay = act_once(sqlite_db, key="key-recent", case=recent.id, action="submit", actor=clerk, payload={},
                      expected_version=None, render=lambda outcome: {"version": outcome.case.version})
    assert replay.replayed  # the kept answer still protects a retry

    with pytest.raises(ValueError, match="at least one day"):
        housekeeping(keep_idempotency_days=0)


def test_the_scheduler_serves_every_flow() -> None:
    from workflows.serve import DAY, deployments

    served = deployments(sweep_every=900, dispatch_every=60)
    assert {d.name for d in served} == {"deadline-sweep", "outbox-dispatch", "retention", "housekeeping"}
    intervals = {d.name: d.schedules[0].schedule.interval.total_seconds() for d in served}
    assert intervals["retention"] == intervals["housekeeping"] == DAY
    for deployment in served:  # one run at a time; no secret can be a parameter (none is stored)
        assert deployment.concurrency_limit == 1, deployment.name
        assert deployment.concurrency_options.collision_strategy == "CANCEL_NEW", deployment.name
        assert deployment.parameters == {}
        assert "database_url" not in deployment._parameter_openapi_schema.properties
