"""Node B's inbox refuses every kind of bad delivery with a signed negative receipt naming the reason, and
changes nothing; the very same message twice has one effect."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from engine import keys
from engine.actions import apply_action
from engine.cases import create_case
from engine.directory import actor_for
from engine.store.models import Message, utcnow
from engine.transport.envelope import Envelope
from engine.transport.sender import prepare
from engine.transport.signing import Transmission, parse_receipt, sign_envelope
from tests.federation.conftest import MAX_BYTES
from tests.federation.nodes import Node
from tests.helpers import example


def queued_request(a: Node) -> Envelope:
    """A request approved and transmitted on node A, still in A's outbox (not dispatched)."""
    clerk, judge = actor_for(a.db, "co.clerk"), actor_for(a.db, "co.judge")
    case = create_case(a.db, actor=clerk, counterpart="ES-MJ", payload=example("request"))
    for action, actor in (("submit", clerk), ("approve", judge), ("transmit", clerk)):
        apply_action(a.db, case=case.reference, action=action, actor=actor)
    with a.db.reader() as session:
        message = session.exec(select(Message).where(Message.case_id == case.id,
                                                     Message.direction == "out")).one()
    return Envelope.from_message(message)


def minutes_ago(minutes: int) -> str:
    return (utcnow() - timedelta(minutes=minutes)).isoformat()


def post(b: Node, body: bytes) -> tuple[int, dict[str, Any]]:
    response = httpx.post(b.inbox, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    signed = parse_receipt(response.content)
    with b.db.reader() as session:
        row = keys.lookup(session, signed.signature.key_id)
    assert row is not None and row.authority_code == "ES-MJ" and signed.holds(keys.public_key(row))
    return response.status_code, signed.receipt


def with_envelope(t: Transmission, **changes: Any) -> bytes:
    data = t.to_dict()
    data["envelope"] = {**data["envelope"], **changes}
    return json.dumps(data).encode()


def resign(t: Transmission, private: Ed25519PrivateKey, key_id: str, **changes: Any) -> bytes:
    envelope = Envelope.from_dict({**t.envelope, **changes})
    return sign_envelope(envelope, private, key_id, t.contents).to_bytes()


@pytest.fixture
def signed(nodes: tuple[Node, Node]) -> Transmission:
    return prepare(nodes[0].db, queued_request(nodes[0]))


def test_each_bad_delivery_is_refused_with_its_reason_and_changes_nothing(
        nodes: tuple[Node, Node], signed: Transmission) -> None:
    a, b = nodes
    co_key = keys.signing_key(a.db, "CO-FGN")
    stranger = Ed25519PrivateKey.generate()
    # A key B knows, but of another authority (BR-MJSP), used to sign CO-FGN's envelope.
    br = Ed25519PrivateKey.generate()
    br_id = keys.key_id_for("BR-MJSP", keys.public_raw(br))
    keys.import_public(b.db, {"authority": "BR-MJSP", "public_key": keys.b64e(keys.public_raw(br))},
                      authority="BR-MJSP")
    tampered_payload = {**signed.envelope["payload"], "summary_of_facts": "Otros hechos."}
    cases: list[tuple[str, bytes, int, str]] = [
        ("oversized", b'{"envelope": "' + b"x" * (MAX_BYTES + 10) + b'"}', 413, "too_large"),
        ("malformed JSON", b'{"envelope": {"exchange_id": ', 400, "malformed"),
        ("not a transmission", b'{"hello": "world"}', 400, "malformed"),
        ("tampered payload", with_envelope(signed, payload=tampered_payload), 422, "bad_signature"),
        ("tampered signature", json.dumps({**signed.to_dict(), "signature": {
            **signed.signature.to_dict(), "value": keys.b64e(b"\0" * 64)}}).encode(), 422, "bad_signature"),
        ("unregistered key", resign(signed, stranger, "CO-FGN#0000000000000000"), 422, "unknown_key"),
        ("another authority's key", resign(signed, br, br_id), 422, "sender_key_mismatch"),
        ("wrong recipient", resign(signed, co_key.private, co_key.key_id, to="FR-MJ"), 422, "unknown_recipient"),
        ("dated before the key", resign(signed, br, br_id, **{"from": "BR-MJSP", "sent_at": minutes_ago(2)}),
         422, "key_not_valid"),
        # A backdated or future-dated sent_at cannot borrow a key's validity: the receiver compares it with its clock.
        ("backdated beyond the freshness window", resign(signed, co_key.private, co_key.key_id,
                                                         sent_at=minutes_ago(60)), 422, "not_fresh"),
        ("dated in 2099", resign(signed, co_key.private, co_key.key_id, sent_at="2099-01-01T00:00:00+00:00"),
         422, "not_fresh"),
    ]
    before = b.counts()
    for label, body, status, reason in cases:
        got_status, receipt = post(b, body)
        assert (got_status, receipt["status"], receipt["reason"]) == (status, "rejected", reason), label
        assert receipt["detail"], label
        assert b.counts() == before, label


def test_attachment_hashes_are_checked(nodes: tuple[Node, Node], signed: Transmission) -> None:
    a, b = nodes
    key = keys.signing_key(a.db, "CO-FGN")
    content = b"annex"
    listed = {"name": "annex.txt", "media_type": "text/plain", "size": len(content),
              "sha256": keys.hashlib.sha256(content).hexdigest()}
    envelope = replace(signed.as_envelope(), attachments=[listed])
    missing = sign_envelope(envelope, key.private, key.key_id, {})
    swapped = sign_envelope(envelope, key.private, key.key_id, {listed["sha256"]: b"other"})
    before = b.counts()
    status, receipt = post(b, missing.to_bytes())
    assert (status, receipt["reason"]) == (422, "attachment_missing")
    # The first authenticated rejection is recorded (so its retransmission gets the same answer) …
    after_first = b.counts()
    assert after_first["Case"] == before["Case"] and after_first["AuditEvent"] == before["AuditEvent"]
    assert post(b, missing.to_bytes())[1] == receipt
    # … files travel beside the signed envelope: the same envelope with other files is the same message.
    assert post(b, swapped.to_bytes())[1] == receipt
    fresh = sign_envelope(replace(envelope, message_id="01900000-0000-7000-8000-00000000beef"), key.private,
                          key.key_id, {listed["sha256"]: base64.b64decode(base64.b64encode(b"other"))})
    assert post(b, fresh.to_bytes())[1]["reason"] == "attachment_mismatch"
    assert b.counts()["Case"] == before["Case"]


def test_schema_is_checked_after_authentication(nodes: tuple[Node, Node], signed: Transmission) -> None:
    a, b = nodes
    key = keys.signing_key(a.db, "CO-FGN")
    bad = resign(signed, key.private, key.key_id, message_id="01900000-0000-7000-8000-0000000000aa",
                 payload={"summary_of_facts": 42})
    before = b.counts()
    status, receipt = post(b, bad)
    assert (status, receipt["reason"]) == (422, "schema_invalid")
    assert b.counts()["Case"] == before["Case"] and b.counts()["AuditEvent"] == before["AuditEvent"]


def test_replayed_delivery_has_one_effect(nodes: tuple[Node, Node], signed: Transmission) -> None:
    a, b = nodes
    before = b.counts()
    status, first = post(b, signed.to_bytes())
    assert (status, first["status"]) == (200, "delivered")
    after = b.counts()
    assert after["Case"] == before["Case"] + 1
    status, again = post(b, signed.to_bytes())  # a captured message posted again
    assert status == 200 and again == first  # the original receipt, word for word
    assert b.counts() == after
    key = keys.signing_key(a.db, "CO-FGN")
    altered = resign(signed, key.private, key.key_id, payload={**signed.envelope["payload"], "facts": "Otros hechos."})
    status, replay = post(b, altered)
    assert (status, replay["reason"]) == (422, "replay"), replay
    assert b.counts() == after
