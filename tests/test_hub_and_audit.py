"""Hub delivery is idempotent; the audit chain catches edits and deletions made behind the engine's back."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import func, select

from engine.audit import verify_all
from engine.inbox import receive
from engine.outbox import dispatch, dispatch_all
from engine.store.db import Database
from engine.store.models import Case, Message
from engine.transport import Envelope, LocalTransport
from tests.helpers import make_world


def test_the_same_message_delivered_twice_has_one_effect(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        world.act(case, action, "CO-FGN", role)
    with db.reader() as session:
        outbound = session.exec(select(Message).where(Message.kind == "request")).one()
    envelope = Envelope.from_message(outbound)
    first = LocalTransport(db).deliver(envelope)  # delivered, but the sender "crashed" before recording it
    assert first.delivered
    summary = dispatch(db)  # the dispatcher retries the same message
    assert summary.delivered == 1
    again = receive(db, envelope)
    assert again == first
    with db.reader() as session:
        assert session.exec(select(func.count()).select_from(Case).where(Case.authority_code == "ES-MJ")).one() == 1
        inbox = session.exec(select(Message).where(Message.direction == "in")).all()
    assert len(inbox) == 1 and inbox[0].status == "applied"
    assert world.refresh(case).state == "delivered"


def test_a_message_the_state_does_not_allow_is_rejected_and_applies_nothing(db: Database) -> None:
    world = make_world(db)
    requesting, received = world.transmitted()
    world.act(received, "refuse", "ES-MJ", "judge")
    with db.reader() as session:
        refusal = session.exec(select(Message).where(Message.kind == "refusal")).one()
    replayed = Envelope.from_dict({**Envelope.from_message(refusal).to_dict(), "message_id": "another-id",
                                   "kind": "acknowledgement", "payload": {"received_at": "2026-11-23T10:00:00Z"}})
    dispatch_all(db)
    before = world.counts()
    receipt = receive(db, replayed)
    assert not receipt.delivered and receipt.reason in {"not_allowed_in_state", "schema_invalid"}
    assert world.refresh(requesting).state == "refused"
    assert world.counts()[0] == before[0]  # no audit event: nothing applied


def test_unknown_recipient_and_exchange_are_rejected(db: Database) -> None:
    make_world(db)
    base = {"exchange_id": "0190-none", "message_id": "m-1", "kind": "withdrawal", "from": "CO-FGN",
            "to": "XX-NOPE", "sent_at": "2026-11-23T10:00:00Z", "schema_id": None,
            "payload": {"reasons": "no longer needed"}}
    assert receive(db, Envelope.from_dict(base)).reason == "unknown_recipient"
    assert receive(db, Envelope.from_dict({**base, "message_id": "m-2", "to": "ES-MJ"})).reason in {
        "unknown_exchange", "schema_invalid"}


def test_audit_verify_catches_edit_and_deletion(db: Database) -> None:
    world = make_world(db)
    requesting, received = world.transmitted()
    world.act(received, "acknowledge", "ES-MJ", "clerk")
    dispatch_all(db)
    with db.reader() as session:
        assert verify_all(session) == (2, [])

    with db.engine.begin() as connection:  # an insider edits an event's actor
        original = connection.execute(text("SELECT actor FROM auditevent WHERE case_id = :c AND seq = 2"),
                                      {"c": requesting.id}).scalar()
        connection.execute(text("UPDATE auditevent SET actor = 'nobody' WHERE case_id = :c AND seq = 2"),
                           {"c": requesting.id})
    with db.reader() as session:
        checked, breaks = verify_all(session)
    assert [(b.reference, b.seq) for b in breaks] == [(requesting.reference, 2)]
    assert "altered" in breaks[0].problem

    with db.engine.begin() as connection:  # … and deletes the middle event of the other case
        connection.execute(text("DELETE FROM auditevent WHERE case_id = :c AND seq = 2"), {"c": received.id})
    with db.reader() as session:
        _, breaks = verify_all(session)
    assert (received.reference, 2) in [(b.reference, b.seq) for b in breaks]

    with db.engine.begin() as connection:  # deleting the newest event is caught through the case's head
        connection.execute(text("UPDATE auditevent SET actor = :a WHERE case_id = :c AND seq = 2"),
                           {"a": original, "c": requesting.id})
        last = connection.execute(text("SELECT max(seq) FROM auditevent WHERE case_id = :c"),
                                  {"c": requesting.id}).scalar()
        connection.execute(text("DELETE FROM auditevent WHERE case_id = :c AND seq = :s"),
                           {"c": requesting.id, "s": last})
    with db.reader() as session:
        _, breaks = verify_all(session)
    problems = {b.reference: b.problem for b in breaks}
    assert "missing" in problems[requesting.reference] or "head" in problems[requesting.reference]
