"""The PDF an action sends is rendered before the action's write transaction (SQLite's write lock is not held
while WeasyPrint works); a stale rendering is never used."""

from __future__ import annotations

import io
import sqlite3
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import select

from engine import actions, documents
from engine.actions import apply_in_session, prepare_outbound
from engine.store.db import Database
from engine.store.models import Message, utcnow
from engine.store.queries import load_case
from tests.helpers import make_world


def _transmit_message(db: Database) -> Message:
    with db.reader() as session:
        return session.exec(select(Message).where(Message.kind == "request", Message.direction == "out")).one()


def _write_lock_is_free(db: Database) -> bool:
    connection = sqlite3.connect(db.url.removeprefix("sqlite:///"), timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
        return True
    except sqlite3.OperationalError:  # "database is locked": a writer holds it
        return False
    finally:
        connection.close()


def test_the_sent_pdf_is_rendered_while_no_write_lock_is_held(sqlite_db: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(sqlite_db)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    renders: list[bool] = []
    real_render = documents.render_pdf

    def observed(request: Any) -> Any:
        renders.append(_write_lock_is_free(sqlite_db))
        return real_render(request)

    monkeypatch.setattr(documents, "render_pdf", observed)
    monkeypatch.setattr("engine.documents._store.render_pdf", observed)
    world.act(case, "transmit", "CO-FGN", "clerk")
    assert renders == [True]  # rendered once, outside the transaction

    message = _transmit_message(sqlite_db)
    [document] = [d for d in documents.list_documents(sqlite_db, case.reference)
                  if d.message_id == message.message_id]
    assert document.sha256 in {a["sha256"] for a in message.attachments}
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages)
    assert case.reference in text


def test_a_rendering_made_for_another_version_is_not_used(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(db)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    clerk = world.actor("CO-FGN", "clerk")
    now = utcnow()
    prepared = prepare_outbound(db, case=case.id, action="transmit", actor=clerk, payload={}, now=now)
    assert prepared is not None
    calls: list[str] = []
    real_store = documents._store._store  # type: ignore[attr-defined]

    def store(session: Any, record: Any, message_id: Any, request: Any, pdf: Any = None) -> Any:
        calls.append("prerendered" if pdf is not None else "rendered in the transaction")
        return real_store(session, record, message_id, request, pdf)

    monkeypatch.setattr("engine.documents._store._store", store)
    stale = actions.Prepared(case_id=prepared.case_id, version=prepared.version - 1, action="transmit",
                             message_id=prepared.message_id, document=prepared.document)
    with db.transaction() as session:
        record = load_case(session, case.id)
        outcome = apply_in_session(session, record, action="transmit", actor=clerk, now=now, prepared=stale)
    assert calls == ["rendered in the transaction"]
    assert outcome.message is not None and outcome.message.message_id != prepared.message_id


def test_nothing_is_prepared_for_actions_that_send_nothing_or_would_be_refused(sqlite_db: Database) -> None:
    world = make_world(sqlite_db)
    case = world.new_request()
    clerk, foreign = world.actor("CO-FGN", "clerk"), world.actor("ES-MJ", "clerk")
    now = utcnow()
    assert prepare_outbound(sqlite_db, case=case.id, action="submit", actor=clerk, payload={}, now=now) is None
    # transmit is not allowed on a draft: the write path says why, nothing is rendered ahead
    assert prepare_outbound(sqlite_db, case=case.id, action="transmit", actor=clerk, payload={}, now=now) is None
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    assert prepare_outbound(sqlite_db, case=case.id, action="transmit", actor=foreign, payload={}, now=now) is None
    assert prepare_outbound(sqlite_db, case=case.id, action="transmit", actor=clerk, payload={}, now=now) is not None
