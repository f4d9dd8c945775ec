"""Receiving an evidence stated by the counterpart — today the Retrieval of a request it received — and keeping it
on this node's case of the exchange, as the counterpart signed it.

The envelope that carries it was authenticated by the inbox (signature, trust, freshness). The record is kept
word for word with its own signature and the certificates that verify it, so that it can be exported and checked
without exhorto; a record whose signature does not verify with the certificate sent along, or that speaks of
another exchange, another issuer or a message this authority did not send, is refused."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlmodel import Session, select

from engine.canonical import canonical_json
from engine.errors import MessageRejected
from engine.ids import new_id
from engine.pki import fingerprint
from engine.store.models import Case, Message
from engine.store.pki_models import DeliveryEvidence
from engine.store.upsert import insert_ignore
from engine.transport.envelope import Envelope

# What a counterpart may state about a message this node sent.
STATED_BY_RECIPIENT = frozenset({"Retrieval"})


def _reject(reason: str, detail: str) -> MessageRejected:
    return MessageRejected(reason=reason, detail=detail)


def _signature_holds(certificate: x509.Certificate, signature: str, data: bytes) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        key = certificate.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _statement(envelope: Envelope) -> tuple[dict[str, Any], str | None, list[str]]:
    statement = envelope.payload.get("statement")
    if not isinstance(statement, dict) or not isinstance(statement.get("record"), dict):
        raise _reject("schema_invalid", "payload.statement: expected {record, signature, x5c}")
    signature, x5c = statement.get("signature"), statement.get("x5c", [])
    if signature is not None and not isinstance(signature, str):
        raise _reject("schema_invalid", "payload.statement.signature: expected a base64url string or null")
    if not isinstance(x5c, list) or not all(isinstance(c, str) for c in x5c) or len(x5c) > 5:
        raise _reject("schema_invalid", "payload.statement.x5c: expected up to 5 base64 DER certificates")
    return statement["record"], signature, x5c


def accept_inbound(session: Session, envelope: Envelope, now: datetime) -> Case:
    """Keep the evidence carried by ``envelope`` on the recipient's case of its exchange; return that case."""
    record, signature, x5c = _statement(envelope)
    case = session.exec(select(Case).where(Case.authority_code == envelope.recipient,
                                           Case.exchange_id == envelope.exchange_id)).first()
    if case is None or case.counterpart_code != envelope.sender:
        raise _reject("unknown_exchange", f"no case of {envelope.recipient} for exchange {envelope.exchange_id} "
                                          f"shared with {envelope.sender}")
    kind, message = record.get("evidence"), record.get("message")
    if kind not in STATED_BY_RECIPIENT or not isinstance(message, dict):
        raise _reject("schema_invalid", f"payload.statement.record.evidence: {kind!r} cannot be stated by the "
                                        "recipient (expected Retrieval)")
    if record.get("issuer") != envelope.sender or message.get("exchange_id") != envelope.exchange_id \
            or message.get("sender") != envelope.recipient:
        raise _reject("schema_invalid", "payload.statement.record: issuer, exchange or message do not match "
                                        "the envelope")
    ours = session.exec(select(Message.id).where(Message.direction == "out", Message.case_id == case.id,
                                                 Message.message_id == message.get("message_id"))).first()
    if ours is None:
        raise _reject("schema_invalid", f"payload.statement.record.message: {message.get('message_id')!r} is not "
                                        f"a message {envelope.recipient} sent in this exchange")
    try:
        event_at = datetime.fromisoformat(str(record.get("at")))
        if event_at.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        raise _reject("schema_invalid", "payload.statement.record.at: not an ISO 8601 date-time with time zone") \
            from None
    certificate_fingerprint = None
    if signature is not None:
        try:
            leaf = x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
        except (IndexError, ValueError, binascii.Error):
            raise _reject("schema_invalid", "payload.statement.x5c: the signer's certificate is missing or not "
                                            "base64 DER") from None
        if not _signature_holds(leaf, signature, canonical_json(record)):
            raise _reject("bad_signature", "payload.statement.signature does not verify with the certificate "
                                           "sent (x5c[0])")
        certificate_fingerprint = fingerprint(leaf)
    if not record.get("evidence_id"):
        raise _reject("schema_invalid", "payload.statement.record.evidence_id: missing")
    insert_ignore(session, DeliveryEvidence, {
        # A row id of this node (in hub mode the stating side's row is in this database too); the record keeps
        # the counterpart's evidence_id.
        "evidence_id": new_id(),
        "case_id": case.id, "message_id": str(message["message_id"]), "kind": kind, "issuer_code": envelope.sender,
        "event_at": event_at, "record": record, "signature": signature,
        "certificate_fingerprint": certificate_fingerprint, "certificates": x5c or None, "created_at": now})
    return case

