"""The transition hot path on PostgreSQL: statements on the driver's cursor (engine/store/driver.py) and the pool
without pre-ping (engine/store/db.py). Same values, same errors, and a dead pooled connection is not used."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.store import db as db_module
from engine.store import driver
from engine.store.db import Database
from engine.store.models import AuditEvent, Case
from engine.store.queries import load_case
from tests.helpers import make_world


@pytest.fixture
def pg(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("the driver path and the idle ping are PostgreSQL's")
    return db


def test_locked_read_gives_the_case_the_orm_path_gives(pg: Database) -> None:
    world = make_world(pg)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    with pg.transaction() as session:
        through_driver = load_case(session, case.reference, for_update=True)
    with pg.reader() as session:
        through_core = load_case(session, case.reference)
    for column in Case.__table__.c:  # type: ignore[attr-defined]
        assert getattr(through_driver, column.key) == getattr(through_core, column.key), column.key
    assert through_driver.updated_at.utcoffset() is not None and through_driver.updated_at.utcoffset().seconds == 0
    assert isinstance(through_driver.payload, dict) and through_driver.payload


def _backend_pid(pg: Database) -> int:
    with pg.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg: Database, pid: int) -> None:
    with psycopg.connect(pg.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_driver_errors_are_sqlalchemys(pg: Database) -> None:
    world = make_world(pg)
    case = world.new_request()
    duplicate = {"case_id": case.id, "seq": 1, "at": case.created_at, "actor": "x", "action": "x",
                 "from_state": None, "to_state": None, "payload_hash": None, "detail": {}, "access_reads": None,
                 "prev_hash": "", "hash": "", "format": 2}
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    insert = driver.compiled(events.insert().values({k: bindparam(k, type_=events.c[k].type) for k in duplicate}),
                             pg.engine.dialect)
    with pytest.raises(IntegrityError), pg.engine.begin() as connection:
        insert.first(connection, duplicate)
    # A connection lost under the statement: SQLAlchemy's OperationalError, the connection invalidated.
    with pytest.raises(OperationalError) as lost, pg.engine.begin() as connection:
        _terminate(pg, int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))
        driver.compiled(Case.__table__.select(), pg.engine.dialect).first(connection, {})  # type: ignore[attr-defined]
    assert lost.value.connection_invalidated
    assert _backend_pid(pg) > 0  # and the next transaction has a working connection


def test_a_pooled_connection_dead_while_idle_is_replaced_at_checkout(pg: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    make_world(pg)
    database = Database(pg.url)  # its own pool, one connection at a time: the one terminated is the one reused
    try:
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 3600.0)
        _terminate(database, _backend_pid(database))
        # Not idle long enough to be pinged: the dead connection is used and the transaction fails (the pool
        # drops it) ...
        with pytest.raises(OperationalError):
            _backend_pid(database)
        first = _backend_pid(database)
        # ... but after IDLE_PING_SECONDS unused it is pinged at checkout and replaced: nothing fails.
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
        _terminate(database, first)
        assert _backend_pid(database) != first
    finally:
        database.dispose()
