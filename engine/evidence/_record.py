"""Recording evidences: each one a canonical JSON record signed (ECDSA, SHA-256) with the stating authority's X.509
certificate when this node holds one; kept with the case; one per message, kind and issuer (retries add nothing).

Called inside the transaction of the event it attests, so an evidence exists exactly when its event does."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlmodel import Session, col, select

from engine.canonical import canonical_json, sha256_hex
from engine.evidence._kinds import EVIDENCE_KIND, KINDS
from engine.ids import new_id
from engine.store.federation_models import SignedMessage
from engine.store.models import Case, Message, utcnow
from engine.store.pki_models import DeliveryEvidence, OwnCertificate
from engine.store.upsert import insert_ignore


def _sign(session: Session, issuer: str, at: datetime, data: bytes) -> tuple[str | None, str | None]:
    from engine import pki

    row = pki.signing_row(session, issuer, at)
    if row is None:
        return None, None
    key = pki.identity_of(row, str(session.get_bind().engine.url)).key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:  # pragma: no cover - import refuses other key types
        return None, None
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode(), row.fingerprint


def record(session: Session, kind: str, message: Message, *, issuer: str, at: datetime,
           reason: str | None = None, detail: str | None = None,
           receipt: dict[str, Any] | None = None) -> bool:
    """Record evidence ``kind`` about ``message``, stated by authority ``issuer``. True when new."""
    spec = KINDS[kind]
    if message.kind == EVIDENCE_KIND:  # evidences travel as messages too; no evidence about an evidence
        return False
    case = session.get(Case, message.case_id) if message.case_id is not None else None
    evidence_id = new_id()
    body: dict[str, Any] = {
        "evidence_id": evidence_id, "evidence": spec.name, "etsi_rem_event": spec.etsi_event,
        "issuer": issuer, "at": at.isoformat(timespec="microseconds"),
        "message": {"message_id": message.message_id, "kind": message.kind, "sender": message.sender_code,
                    "recipient": message.recipient_code, "exchange_id": message.exchange_id,
                    "payload_sha256": sha256_hex(canonical_json(message.payload))},
        "case_reference": case.reference if case is not None else None,
    }
    envelope = session.exec(select(SignedMessage.envelope_sha256).where(
        SignedMessage.message_id == message.message_id)).first()
    if envelope:
        body["message"]["envelope_sha256"] = envelope
    if reason or detail:
        body["reason"] = {"code": reason, "detail": detail}
    if receipt is not None:
        body["counterpart_receipt"] = receipt  # the recipient node's own signed receipt: the primary proof
    signature, fingerprint = _sign(session, issuer, at, canonical_json(body))
    return insert_ignore(session, DeliveryEvidence, {
        "evidence_id": evidence_id, "case_id": message.case_id, "message_id": message.message_id, "kind": kind,
        "issuer_code": issuer, "event_at": at, "record": body, "signature": signature,
        "certificate_fingerprint": fingerprint, "created_at": utcnow()})


def on_receipt(session: Session, message: Message, receipt: dict[str, Any], at: datetime) -> None:
    """The sender's node got the recipient's signed receipt for ``message``."""
    signed = session.exec(select(SignedMessage.receipt).where(SignedMessage.direction == "out",
                                                              SignedMessage.message_id == message.message_id)).first()
    proof = signed or receipt
    if receipt.get("status") == "delivered":
        for kind in ("RelayREMMDAcceptance", "Delivery"):
            record(session, kind, message, issuer=message.sender_code, at=at, receipt=proof)
    else:
        reason, detail = receipt.get("reason"), receipt.get("detail")
        for kind in ("RelayREMMDRejection", "NonDelivery"):
            record(session, kind, message, issuer=message.sender_code, at=at, reason=reason, detail=detail,
                   receipt=proof)


def on_first_read(session: Session, case: Case, at: datetime) -> None:
    """A user of the requested authority opened the case: the request it received is retrieved (once)."""
    if case.side != "requested":
        return
    inbound = session.exec(select(Message).where(Message.case_id == case.id, Message.direction == "in",
                                                 Message.kind == "request").order_by(col(Message.id))).first()
    if inbound is None:
        return
    exists = session.exec(select(DeliveryEvidence.id).where(DeliveryEvidence.case_id == case.id,
                                                            DeliveryEvidence.message_id == inbound.message_id,
                                                            DeliveryEvidence.kind == "Retrieval")).first()
    if exists is None and record(session, "Retrieval", inbound, issuer=case.authority_code, at=at):
        _send_back(session, case, inbound, at)


def _send_back(session: Session, case: Case, inbound: Message, at: datetime) -> None:
    """Queue the Retrieval just recorded for the requesting authority, whose case it proves something about: an
    ``evidence`` message of the exchange (signed like every envelope), stored on the sender's case timeline by
    :func:`engine.evidence.accept_inbound`."""
    row = session.exec(select(DeliveryEvidence).where(DeliveryEvidence.case_id == case.id,
                                                      DeliveryEvidence.message_id == inbound.message_id,
                                                      DeliveryEvidence.kind == "Retrieval")).one()
    statement: dict[str, Any] = {"record": row.record, "signature": row.signature, "x5c": []}
    if row.certificate_fingerprint:
        own = session.get(OwnCertificate, row.certificate_fingerprint)
        if own is not None:
            identity_chain = [own.certificate, *(base64.b64decode(c) for c in own.chain)]
            statement["x5c"] = [base64.b64encode(c).decode() for c in identity_chain]
    session.add(Message(message_id=new_id(), direction="out", exchange_id=case.exchange_id, case_id=case.id,
                        kind=EVIDENCE_KIND, sender_code=case.authority_code, recipient_code=case.counterpart_code,
                        schema_id=None, payload={"statement": statement}, attachments=[],
                        in_reply_to=inbound.message_id, status="pending", created_at=at, next_attempt_at=at))


def list_for_case(session: Session, case_id: int) -> list[DeliveryEvidence]:
    return list(session.exec(select(DeliveryEvidence).where(DeliveryEvidence.case_id == case_id)
                             .order_by(col(DeliveryEvidence.event_at), col(DeliveryEvidence.id))))
