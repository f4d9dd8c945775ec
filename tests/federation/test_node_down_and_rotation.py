"""Node B down while A transmits: A keeps the message, retries with backoff, and B receives it exactly once when
it is back. A rotated key keeps verifying what it signed before the rotation."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from engine import keys, outbox
from engine.inbox import receive_signed
from engine.store.federation_models import SignedMessage
from engine.store.models import Case, Message, utcnow
from engine.transport.http import HttpTransport
from engine.transport.sender import accept_receipt, prepare
from tests.federation.nodes import Node, Server
from tests.federation.test_inbox_rejections import queued_request


def inbox_rows(node: Node, message_id: str) -> int:
    with node.db.reader() as session:
        return session.exec(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.message_id == message_id)).one()


def test_node_down_then_back_receives_exactly_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    envelope = queued_request(a)
    b.server.stop()
    try:
        now = utcnow()
        summary = outbox.dispatch(a.db, now=now)
        assert (summary.delivered, summary.retrying) == (0, 1) and "ConnectError" in summary.errors[0]
        with a.db.reader() as session:
            queued = session.exec(select(Message).where(Message.message_id == envelope.message_id)).one()
        assert queued.status == "pending" and queued.attempts == 1 and queued.next_attempt_at > now
        assert outbox.dispatch(a.db, now=now).attempted == 0  # not due yet: backoff
        second = outbox.dispatch(a.db, now=queued.next_attempt_at)  # due, still down: backoff doubles
        assert second.retrying == 1
        with a.db.reader() as session:
            again = session.get(Message, queued.id)
        assert again is not None and again.attempts == 2
        assert again.next_attempt_at - queued.next_attempt_at >= outbox.backoff(2) - timedelta(seconds=1)
    finally:
        b.server = Server(b.server.app, b.port)
        b.server.start()
    assert outbox.dispatch(a.db, now=again.next_attempt_at).delivered == 1
    assert inbox_rows(b, envelope.message_id) == 1
    # The receipt is lost on the way back and A sends again: B answers as before and applies nothing twice.
    receipt = HttpTransport(a.db).deliver(envelope)
    assert receipt.delivered and inbox_rows(b, envelope.message_id) == 1
    with b.db.reader() as session:
        assert session.exec(select(func.count()).select_from(Case).where(
            Case.exchange_id == envelope.exchange_id)).one() == 1
    with a.db.reader() as session:
        case = session.exec(select(Case).where(Case.exchange_id == envelope.exchange_id)).one()
    assert case.state == "delivered"


def test_a_rotated_key_still_verifies_messages_it_signed(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    before_rotation = queued_request(a)
    signed_before = prepare(a.db, before_rotation)  # signed (sent_at) under the current key, still in flight
    old = keys.signing_key(a.db, "CO-FGN")
    new = keys.rotate(a.db, "CO-FGN")
    keys.import_public(b.db, keys.export_public(a.db, "CO-FGN"), authority="CO-FGN")  # A's operator sends it to B
    after_rotation = queued_request(a)
    assert accept_receipt(a.db, signed_before, receive_signed(b.db, signed_before).to_dict()).delivered
    outbox.dispatch_all(a.db)
    with b.db.reader() as session:
        signed_with = {m.message_id: m.key_id for m in session.exec(select(SignedMessage))}
        applied = {m.message_id: m.status for m in session.exec(select(Message).where(Message.direction == "in"))}
    assert signed_with[before_rotation.message_id] == old.key_id
    assert signed_with[after_rotation.message_id] == new.key_id
    assert applied[before_rotation.message_id] == applied[after_rotation.message_id] == "applied"
