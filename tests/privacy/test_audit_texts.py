"""Free-text reasons live beside the hash chain (event format 2): the chain verifies with them and after their
erasure, an altered, emptied or deleted text is detected, and chains written in format 1 still verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, delete, select

from engine import audit, cases, privacy
from engine.store.db import Database
from engine.store.models import AuditEvent, AuditText, Case, utcnow
from tests.helpers import World, make_world

REASONS = "Please add the account numbers of Eulalia Quintanilla."


@pytest.fixture
def world(db: Database, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    return make_world(db)


def _sent_back(world: World) -> tuple[Case, AuditEvent]:
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "send_back", "CO-FGN", "judge", {"reasons": REASONS})
    with world.db.reader() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                      AuditEvent.action == "send_back")).one()
    return world.refresh(case), event


def _break(db: Database, case: Case) -> str | None:
    with db.reader() as session:
        found = audit.verify_case(session, session.get(Case, case.id))
    return found.problem if found else None


def test_reasons_are_kept_beside_the_chain_and_shown(world: World) -> None:
    case, event = _sent_back(world)
    assert event.format == audit.FORMAT and set(event.detail["reasons"]) == {audit.TEXT_REF}
    assert REASONS not in repr(event.detail)
    assert _break(world.db, case) is None
    shown = next(e for e in cases.history(world.db, case.reference) if e.action == "send_back")
    assert shown.detail["reasons"] == REASONS


@pytest.mark.parametrize("tamper", ["alter", "empty", "delete"])
def test_a_tampered_reason_is_detected(world: World, tamper: str) -> None:
    case, event = _sent_back(world)
    where = (col(AuditText.case_id) == case.id) & (col(AuditText.seq) == event.seq)
    with world.db.transaction() as session:
        if tamper == "alter":
            session.execute(update(AuditText).where(where).values(text=REASONS.replace("Eulalia", "Elena")))
        elif tamper == "empty":  # an "erasure" that no redact event accounts for
            session.execute(update(AuditText).where(where).values(text=None, salt=None, erased_at=utcnow()))
        else:
            session.execute(delete(AuditText).where(where))
    problem = _break(world.db, case)
    assert problem is not None and "free text 'reasons'" in problem


def test_the_chain_verifies_after_the_reasons_are_erased(world: World) -> None:
    case, event = _sent_back(world)
    world.act(case, "withdraw", "CO-FGN", "judge", {"reasons": "Eulalia Quintanilla paid."})
    privacy.set_policy(world.db, "CO-FGN", 1, by="co.supervisor")
    summary = privacy.run_retention(world.db, authority="CO-FGN", now=utcnow() + timedelta(days=400),
                                    rerender=False)
    assert summary.redacted == [case.reference]
    with world.db.reader() as session:
        texts = session.exec(select(AuditText).where(AuditText.case_id == case.id)).all()
    assert len(texts) == 2 and all(t.text is None and t.salt is None and t.erased_at for t in texts)
    assert _break(world.db, case) is None
    shown = [e.detail.get("reasons") for e in cases.history(world.db, case.reference) if "reasons" in e.detail]
    assert shown == [audit.ERASED_TEXT, audit.ERASED_TEXT]


def test_format_1_chains_still_verify_and_a_format_downgrade_is_detected(world: World) -> None:
    case = world.new_request()
    with world.db.transaction() as session:  # an event as a node before format 2 wrote it: reasons inline
        record = session.get(Case, case.id)
        assert record is not None
        at = utcnow()
        detail = {"reasons": REASONS}
        digest = audit.event_hash(record.audit_head, reference=record.reference, seq=record.audit_seq + 1, at=at,
                                  actor="co.judge", action="note", from_state=None, to_state=None,
                                  payload_hash=None, detail=detail, format=1)
        session.add(AuditEvent(case_id=record.id, seq=record.audit_seq + 1, at=at, actor="co.judge", action="note",
                               detail=detail, prev_hash=record.audit_head, hash=digest, format=1))
        record.audit_seq, record.audit_head = record.audit_seq + 1, digest
        session.add(record)
    assert _break(world.db, case) is None
    with world.db.transaction() as session:  # a format-2 event presented as format 1
        session.execute(update(AuditEvent).where(col(AuditEvent.case_id) == case.id, col(AuditEvent.seq) == 1)
                        .values(format=1))
    assert _break(world.db, case) == "content altered (hash mismatch)"
