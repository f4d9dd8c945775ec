"""The transition hot path: statements on the driver's cursor (engine/store/driver.py: psycopg and sqlite3) and, on
PostgreSQL, the pool without pre-ping (engine/store/db.py). Same values, same errors, and a dead pooled connection
is not used."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, literal_column, text
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
        pytest.skip("PostgreSQL's: the COMMIT sent with a statement, lost connections, the idle ping")
    return db


def test_locked_read_gives_the_case_the_orm_path_gives(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    with db.transaction() as session:
        through_driver = load_case(session, case.reference, for_update=True)
    with db.reader() as session:
        through_core = load_case(session, case.reference)
    for column in Case.__table__.c:  # type: ignore[attr-defined]
        assert getattr(through_driver, column.key) == getattr(through_core, column.key), column.key
    assert through_driver.updated_at.utcoffset() is not None and through_driver.updated_at.utcoffset().seconds == 0
    assert isinstance(through_driver.payload, dict) and through_driver.payload


def _backend_pid(pg: Database) -> int:
    with pg.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _other_connection(pg: Database) -> psycopg.Connection[Any]:
    """A driver connection of its own to the test database (autocommit), outside the pool and its transactions."""
    return psycopg.connect(pg.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _terminate(pg: Database, pid: int) -> None:
    with _other_connection(pg) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _duplicate_first_event(db: Database, case: Case) -> tuple[driver.DriverStatement, dict[str, object]]:
    """A driver INSERT and the values of an audit event that repeats the case's first (a unique violation)."""
    duplicate = {"case_id": case.id, "seq": 1, "at": case.created_at, "actor": "x", "action": "x",
                 "from_state": None, "to_state": None, "payload_hash": None, "detail": {}, "access_reads": None,
                 "prev_hash": "", "hash": "", "format": 2}
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    insert = driver.compiled(events.insert().values({k: bindparam(k, type_=events.c[k].type) for k in duplicate}),
                             db.engine.dialect)
    return insert, duplicate


def test_driver_errors_are_sqlalchemys(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    insert, duplicate = _duplicate_first_event(db, case)
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        insert.first(connection, duplicate)
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        insert.write(connection, duplicate)


def test_a_connection_lost_under_a_driver_statement_is_invalidated(pg: Database) -> None:
    # A connection lost under the statement: SQLAlchemy's OperationalError, the connection invalidated.
    with pytest.raises(OperationalError) as lost, pg.engine.begin() as connection:
        _terminate(pg, int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))
        driver.compiled(Case.__table__.select(), pg.engine.dialect).first(connection, {})  # type: ignore[attr-defined]
    assert lost.value.connection_invalidated
    assert _backend_pid(pg) > 0  # and the next transaction has a working connection


def test_a_write_reports_its_rows_and_the_id_it_added_and_rolls_back_with_its_transaction(db: Database) -> None:
    """``write``: the rows an UPDATE changed and the id an INSERT added (SQLite's move, engine.actions._move), its
    values bound as SQLAlchemy binds them (the event's time, its JSON detail), inside the caller's transaction."""
    world = make_world(db)
    case = world.new_request()
    cases, events = Case.__table__, AuditEvent.__table__  # type: ignore[attr-defined]
    bump = driver.compiled(cases.update().where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_v"))
                           .values(version=bindparam("b_new")), db.engine.dialect)
    insert, event = _duplicate_first_event(db, case)
    event = {**event, "seq": 1000, "detail": {"reasons": "Añádase la cuenta — ñ"}}
    with db.engine.begin() as connection:
        assert bump.write(connection, {"b_id": case.id, "b_v": case.version, "b_new": case.version + 1}).rowcount == 1
        assert bump.write(connection, {"b_id": case.id, "b_v": case.version, "b_new": case.version + 2}).rowcount == 0
        added = insert.write(connection, event).lastrowid
        assert (added is None) == (db.dialect == "postgresql")  # psycopg has no lastrowid
        stored = connection.execute(events.select().where(events.c.seq == 1000)).mappings().one()
        assert added in (None, stored["id"])
    assert (stored["seq"], stored["at"], stored["detail"]) == (1000, case.created_at, event["detail"])
    with db.reader() as session:
        assert load_case(session, case.id).version == case.version + 1
    with pytest.raises(RuntimeError), db.engine.begin() as connection:
        insert.write(connection, {**event, "seq": 1001})
        raise RuntimeError("the caller fails after the write")
    with db.reader() as session:
        assert session.execute(text("SELECT COUNT(*) FROM auditevent WHERE seq = 1001")).scalar_one() == 0


def _version(pg: Database, case_id: int) -> int:
    """The case's version as committed, read on a connection of its own."""
    with _other_connection(pg) as other:
        row = other.execute('SELECT version FROM "case" WHERE id = %s', (case_id,)).fetchone()
    assert row is not None
    return int(row[0])


_BUMP = Case.__table__.update().where(Case.__table__.c.id == bindparam("b_id")).values(  # type: ignore[attr-defined]
    version=Case.__table__.c.version + literal_column("1")).returning(Case.__table__.c.version)  # type: ignore[attr-defined]


def test_a_statement_sent_with_its_commit_is_committed_when_it_returns(pg: Database) -> None:
    case = make_world(pg).new_request()
    before = _version(pg, case.id)
    bump = driver.compiled(_BUMP, pg.engine.dialect)
    with pg.engine.begin() as connection:
        assert bump.first(connection, {"b_id": case.id}, commit=True) == (before + 1,)
        # Committed already, inside SQLAlchemy's block: another connection sees it, and the row lock is gone.
        assert _version(pg, case.id) == before + 1
        with _other_connection(pg) as other:
            other.execute('SELECT id FROM "case" WHERE id = %s FOR UPDATE NOWAIT', (case.id,))
    assert _version(pg, case.id) == before + 1  # and SQLAlchemy's own COMMIT found nothing more to do
    with pg.engine.begin() as connection:  # the pooled connection goes on working, with or without commit
        assert bump.first(connection, {"b_id": case.id}) == (before + 2,)
        assert bump.first(connection, {"b_id": case.id}, commit=True) == (before + 3,)
    assert _version(pg, case.id) == before + 3


def test_a_statement_sent_with_its_commit_fails_as_without_and_commits_nothing(pg: Database) -> None:
    world = make_world(pg)
    case = world.new_request()
    before = _version(pg, case.id)
    bump = driver.compiled(_BUMP, pg.engine.dialect)
    insert, duplicate = _duplicate_first_event(pg, case)
    with pytest.raises(IntegrityError), pg.engine.begin() as connection:
        bump.first(connection, {"b_id": case.id})  # written earlier in the same transaction ...
        insert.first(connection, duplicate, commit=True)
    assert _version(pg, case.id) == before  # ... and rolled back with it
    with pytest.raises(OperationalError) as lost, pg.engine.begin() as connection:
        _terminate(pg, int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))
        bump.first(connection, {"b_id": case.id}, commit=True)
    assert lost.value.connection_invalidated
    assert _version(pg, case.id) == before
    assert _backend_pid(pg) > 0


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


def test_without_pipeline_mode_the_commit_comes_at_the_end_of_the_block(pg: Database,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A libpq older than 14 has no pipeline mode: the statement runs alone and SQLAlchemy's COMMIT ends it."""
    monkeypatch.setattr(driver, "_pipelines", lambda: False)
    case = make_world(pg).new_request()
    before = _version(pg, case.id)
    with pg.engine.begin() as connection:
        assert driver.compiled(_BUMP, pg.engine.dialect).first(connection, {"b_id": case.id}, commit=True) == (
            before + 1,)
        assert _version(pg, case.id) == before  # not committed yet
    assert _version(pg, case.id) == before + 1
