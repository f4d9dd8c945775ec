"""Hub mode (both authorities in one database) carries the same signed envelopes through the same verification."""

from __future__ import annotations

import json

from sqlmodel import select

from engine import keys
from engine.inbox import receive_signed
from engine.store.db import Database
from engine.store.federation_models import SignedMessage
from engine.store.models import Message
from engine.transport.envelope import Envelope
from engine.transport.sender import prepare
from tests.helpers import make_world


def test_hub_deliveries_are_signed_verified_and_receipted(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted()
    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    from engine.outbox import dispatch_all

    dispatch_all(db)
    assert world.refresh(requesting).state == "acknowledged"
    with db.reader() as session:
        log = {(s.direction, s.message_id): s for s in session.exec(select(SignedMessage))}
        sent = session.exec(select(Message).where(Message.direction == "out")).all()
    own = {k.authority_code for k in keys.list_keys(db)}
    assert own == {"CO-FGN", "ES-MJ"}  # keys made on first use, encrypted with the node's passphrase
    for message in sent:
        out, received = log[("out", message.message_id)], log[("in", message.message_id)]
        assert out.envelope_sha256 == received.envelope_sha256 and out.signature == received.signature
        assert out.receipt == received.receipt and out.receipt["receipt"]["status"] == "delivered"
        assert out.key_id.startswith(message.sender_code + "#")
        assert out.receipt["signature"]["key_id"].startswith(message.recipient_code + "#")


def test_hub_rejects_a_tampered_envelope_and_applies_nothing(db: Database) -> None:
    world = make_world(db)
    case = world.new_request()
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        world.act(case, action, "CO-FGN", role)
    keys.ensure_signing_key(db, "CO-FGN")
    keys.ensure_signing_key(db, "ES-MJ")
    with db.reader() as session:
        message = session.exec(select(Message).where(Message.kind == "request")).one()
    wire = prepare(db, Envelope.from_message(message)).to_dict()
    wire["envelope"]["payload"]["language"] = "fr" if wire["envelope"]["payload"].get("language") != "fr" else "es"
    before = world.counts()
    receipt = receive_signed(db, json.dumps(wire).encode()).receipt
    assert (receipt["status"], receipt["reason"]) == ("rejected", "bad_signature")
    assert world.counts() == before
