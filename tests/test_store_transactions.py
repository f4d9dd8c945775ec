"""The store's transaction discipline and the fast case loader every action starts with."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from engine import audit
from engine.errors import CaseNotFound
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, utcnow
from engine.store.queries import load_case
from tests.helpers import make_world


def _orm_row(db: Database, case_id: int) -> dict[str, object]:
    with db.reader() as session:
        record = session.get(Case, case_id)
        assert record is not None
        return {c.name: getattr(record, c.name) for c in Case.__table__.columns}  # type: ignore[attr-defined]


def test_load_case_by_id_and_reference_matches_what_the_orm_loads(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    expected = _orm_row(db, case.id)
    with db.transaction() as session:
        by_id, by_reference = load_case(session, case.id), load_case(session, case.reference)
        by_text_id = load_case(session, str(case.id))
    for record in (by_id, by_reference, by_text_id):
        assert {c: getattr(record, c) for c in expected} == expected
        assert inspect(record).detached  # read without the session's bookkeeping, nothing pending
        assert not inspect(record).modified


def test_load_case_returns_the_instance_the_session_already_holds(db: Database) -> None:
    case = make_world(db).new_request()
    with db.transaction() as session:
        held = session.exec(select(Case).where(Case.id == case.id)).one()
        assert load_case(session, case.reference) is held


def test_unknown_case_is_refused(db: Database) -> None:
    make_world(db)
    with db.transaction() as session, pytest.raises(CaseNotFound):
        load_case(session, "ES-MJ/2026/999999")


def test_a_loaded_case_changed_and_added_is_written_and_a_failed_transaction_writes_nothing(db: Database) -> None:
    case = make_world(db).new_request()
    with db.transaction() as session:
        record = load_case(session, case.id)
        audit.append(session, record, at=utcnow(), actor="tester", action="note", from_state=record.state,
                     to_state=record.state, detail={"why": "test"})
    assert _orm_row(db, case.id)["audit_seq"] == case.audit_seq + 1

    with pytest.raises(RuntimeError), db.transaction() as session:
        record = load_case(session, case.id)
        audit.append(session, record, at=utcnow(), actor="tester", action="note", from_state=record.state,
                     to_state=record.state)
        session.flush()  # written inside the transaction…
        raise RuntimeError("crash before commit")
    assert _orm_row(db, case.id)["audit_seq"] == case.audit_seq + 1  # …and rolled back with it


def test_sqlite_readers_do_not_wait_for_a_writer(sqlite_db: Database) -> None:
    """A reader is a WAL snapshot: while a writer holds the write lock it reads the last committed state at once
    (writers start with BEGIN IMMEDIATE; a reader that did too would wait up to the 30 s busy timeout)."""
    case = make_world(sqlite_db).new_request()
    with sqlite_db.engine.connect() as writer:
        held = writer.begin()  # BEGIN IMMEDIATE: the write lock is taken now
        writer.exec_driver_sql("UPDATE \"case\" SET state = 'changing' WHERE id = ?", (case.id,))
        started = time.monotonic()
        with sqlite_db.reader() as session:
            seen = load_case(session, case.id)
        assert time.monotonic() - started < 5
        assert seen.state == case.state  # the uncommitted change is invisible
        held.rollback()


def test_a_created_case_is_what_the_database_holds_and_its_chain_opens_intact(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    assert {c: getattr(case, c) for c in _orm_row(db, case.id)} == _orm_row(db, case.id)
    assert (case.version, case.audit_seq, case.urgency) == (1, 1, case.payload["urgency"]["level"])
    with db.reader() as session:
        assert audit.verify_case(session, case) is None
        [event] = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
    assert (event.action, event.to_state, event.prev_hash, event.hash) == ("create", "draft", audit.GENESIS,
                                                                          case.audit_head)


def test_a_move_commits_with_its_write_only_when_nothing_follows_it(db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a move whose write is its transaction's last is committed with that write (engine/actions.py
    ``_move``); a move that sends a message or changes a clock commits after those, all together."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite serializes its writers; the commit goes with the move on PostgreSQL only")
    from engine.store import driver

    sent_with_commit: list[bool] = []
    first = driver.DriverStatement.first

    def spied(self: driver.DriverStatement, connection: object, params: object, *, commit: bool = False) -> object:
        if self.sql.lstrip().startswith("WITH moved"):  # the move's one statement
            sent_with_commit.append(commit)
        return first(self, connection, params, commit=commit)  # type: ignore[arg-type]

    monkeypatch.setattr(driver.DriverStatement, "first", spied)
    world = make_world(db)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    world.act(case, "transmit", "CO-FGN", "clerk")  # sends the request: its message is written after the move
    draft = world.new_request()
    world.act(draft, "withdraw", "CO-FGN", "supervisor")  # closes the case: its clocks are stopped after the move
    assert sent_with_commit == [True, True, False, False]
    with db.reader() as session:
        for record in (world.refresh(case), world.refresh(draft)):
            assert audit.verify_case(session, record) is None
    assert (world.refresh(case).state, world.refresh(draft).state) == ("transmitted", "withdrawn")
    assert world.counts()[1] >= 1  # the request's message, written in the transmit's transaction
