"""Receiving a counterpart's message: verify, then apply exactly once, or reject and apply nothing.

Checks run in this order and the first failure decides the signed negative receipt's ``reason``:

1. size limit                 ``too_large``; then the shape: ``malformed``
2. signature                  ``unknown_key`` (key id not registered), ``bad_signature``
3. trusted sender key         ``sender_key_mismatch`` (key of another authority), ``key_revoked`` (revoked, known
                              here before this arrived), ``not_fresh`` (``sent_at`` more than the freshness window
                              from this node's clock), ``key_not_valid`` (not valid at ``sent_at``); decided by
                              :func:`engine.keys.message_problem`. An X.509 signature (``ES256``/``RS256``) is
                              decided by :func:`engine.keys.certificate_problem` with the same reasons, plus
                              ``untrusted_certificate`` (the chain does not lead to this node's trust list) — the
                              certificate must name the sender (organization) and revocation comes from the CRLs
4. addressed to me            ``unknown_recipient``
5. not a replay               ``replay`` (message id already used for a different envelope); the same envelope
                              again — or the same message re-signed with a later ``sent_at`` — is a retransmission:
                              its original receipt is returned, nothing applied
6. attachment hashes          ``attachment_missing``, ``attachment_mismatch``, ``attachment_unlisted``
7. schema valid               ``unknown_schema``, ``schema_invalid``
8. action allowed             ``unknown_exchange``, ``unknown_kind``, ``duplicate_exchange``, ``not_allowed_in_state``

Every receipt names the SHA-256 of the envelope it answers (``envelope_sha256``).

A ``statistical_return`` opens no case: after checks 1–6 it goes to :mod:`engine.observatory.inbound`, whose own
reasons (``untrusted_sender``, ``out_of_period``, ``duplicate_return``, …) are listed there.

Failures 1–5 happen before the sender is authenticated and the message is new, so nothing is stored (a forged
message id must not squat a genuine one). Failures 6–8 are recorded on the inbox row with their receipt, so the
same message again gets the same answer.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from engine import audit, deadlines, evidence, keys, pki
from engine.actions import apply_in_session
from engine.canonical import payload_hash, sha256_hex
from engine.cases import allocate_reference, columns_from_payload
from engine.errors import ExhortoError, MessageRejected
from engine.guards import Actor
from engine.lifecycle import Side, State, inbound_action
from engine.observatory import inbound as observatory_inbound
from engine.store.db import Database
from engine.store.federation_models import Attachment, SignedMessage
from engine.store.models import Authority, Case, Message, utcnow
from engine.store.upsert import insert_ignore
from engine.transport.envelope import Envelope, Receipt
from engine.transport.signing import (
    Malformed,
    SignedReceipt,
    Transmission,
    parse_transmission,
    sign_receipt,
    signature_from_dict,
    signature_holds,
    x509_signature_holds,
)

MAX_BYTES_ENV = "EXHORTO_MAX_MESSAGE_BYTES"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024


def max_message_bytes() -> int:
    return int(os.environ.get(MAX_BYTES_ENV, DEFAULT_MAX_BYTES))


def _reject(reason: str, detail: str) -> MessageRejected:
    return MessageRejected(reason=reason, detail=detail)


def receive(db: Database, envelope: Envelope, *, now: datetime | None = None) -> Receipt:
    """Hub convenience: sign ``envelope`` as its sender (served by this node) and run it through the whole
    verification of :func:`receive_signed`; the same message twice → the same receipt, one effect."""
    from engine.transport.sender import hub_authority, prepare

    keys.ensure_signing_key(db, envelope.sender)
    with db.reader() as session:
        recipient_here = hub_authority(session, envelope.recipient)
    if recipient_here:
        keys.ensure_signing_key(db, envelope.recipient)
    return receive_signed(db, prepare(db, envelope), now=now).as_receipt()


def receive_signed(db: Database, transmission: bytes | Transmission, *, now: datetime | None = None,
                   max_bytes: int | None = None) -> SignedReceipt:
    """Verify and apply one signed transmission (what ``POST /inbox`` receives); return the signed receipt,
    positive or negative. The same transmission twice → the same receipt and one effect."""
    now = now or utcnow()
    limit = max_bytes if max_bytes is not None else max_message_bytes()
    raw = transmission.to_bytes() if isinstance(transmission, Transmission) else transmission
    if len(raw) > limit:
        return refuse(db, "too_large", f"the message is {len(raw)} bytes; this node accepts at most {limit}")
    try:
        parsed = parse_transmission(raw)
    except Malformed as error:
        return refuse(db, "malformed", str(error))
    try:
        digest = parsed.envelope_sha256  # what the signature and every receipt refer to
    except ValueError as error:  # no RFC 8785 form (e.g. an integer beyond 2^53): nothing could be verified
        return refuse(db, "malformed", f"envelope: {error}")
    envelope = parsed.as_envelope()
    try:
        _authenticate(db, parsed, envelope, now)
    except MessageRejected as error:
        return refuse(db, error.params["reason"], error.params["detail"], envelope, digest)
    return _apply_once(db, parsed, envelope, now)


def refuse(db: Database, reason: str, detail: str, envelope: Envelope | None = None,
           envelope_sha256: str | None = None) -> SignedReceipt:
    """A signed negative receipt for a message that is not stored (failures before authentication)."""
    receipt = Receipt.now(envelope.message_id if envelope else "", "rejected", reason=reason, detail=detail,
                          envelope_sha256=envelope_sha256)
    return _sign(db, receipt, envelope)


def _sign(db: Database, receipt: Receipt, envelope: Envelope | None) -> SignedReceipt:
    """Receipts are signed by the addressed authority when this node serves it, otherwise by the node's first
    authority (a wrong-recipient answer still proves which node gave it)."""
    with db.reader() as session:
        served = sorted(keys.served_authorities(session))
    if envelope is not None and envelope.recipient in served:
        signer = envelope.recipient
    elif served:
        signer = served[0]
    else:
        raise keys.NoSigningKey(authority="(any authority of this node)")
    key = _receipt_signer(db, signer)
    return sign_receipt(receipt, signer=signer, addressee=envelope.sender if envelope else "",
                        private=key.private, key_id=key.key_id)


def _authenticate(db: Database, parsed: Transmission, envelope: Envelope, now: datetime) -> None:
    """Checks 2–4: genuine signature, by a key of the sender trusted for this message now, to an authority
    served here."""
    with db.reader() as session:
        served = keys.served_authorities(session)
    if parsed.signature.x509:
        problem = _x509_problem(db, parsed, envelope, now)
    else:
        with db.reader() as session:
            row = keys.lookup(session, parsed.signature.key_id)
        if row is None:
            raise _reject("unknown_key", f"key {parsed.signature.key_id} is not registered on this node")
        if not signature_holds(keys.public_key(row), parsed.signature, parsed.signed_bytes):
            raise _reject("bad_signature", f"the signature does not match the envelope (key {row.key_id})")
        if row.authority_code != envelope.sender:
            raise _reject("sender_key_mismatch",
                          f"key {row.key_id} belongs to {row.authority_code}, not to the sender {envelope.sender}")
        problem = keys.message_problem(row, _sent_at(envelope), now)
    if problem is not None:
        raise _reject(*problem)
    if envelope.recipient not in served:
        raise _reject("unknown_recipient", f"authority {envelope.recipient} is not served by this node")


def _sent_at(envelope: Envelope) -> datetime:
    try:
        sent_at = datetime.fromisoformat(envelope.sent_at)
    except ValueError:
        raise _reject("malformed", "envelope.sent_at: not an ISO 8601 date-time") from None
    if sent_at.tzinfo is None:
        raise _reject("malformed", "envelope.sent_at: give a time zone")
    return sent_at


def _x509_problem(db: Database, parsed: Transmission, envelope: Envelope, now: datetime) -> tuple[str, str] | None:
    """Checks 2–3 for an X.509 signature: the chain (decided once per chain and trust list, then cached), the
    signature by its first certificate, and the certificate's standing for this sender at ``sent_at``."""
    try:
        chain = pki.trust_store(db).check(parsed.signature.x5c)
    except pki.Untrusted as error:  # of the right shape, but no certificate to verify with
        raise _reject("bad_signature", f"signature.{error}") from None
    if chain.thumbprint != parsed.signature.key_id:
        raise _reject("bad_signature", "signature.x5t#S256 does not name the first certificate of x5c")
    if not x509_signature_holds(chain.public_key, parsed.signature, parsed.signed_bytes):
        raise _reject("bad_signature", f"the signature does not match the envelope (certificate "
                                       f"{chain.leaf.subject.rfc4514_string()})")
    return keys.certificate_problem(chain, envelope.sender, _sent_at(envelope), now)


def _receipt_signer(db: Database, authority: str) -> keys.SigningKey:
    from engine.transport.sender import envelope_signer

    return envelope_signer(db, authority)


def _apply_once(db: Database, parsed: Transmission, envelope: Envelope, now: datetime) -> SignedReceipt:
    from engine.transport.sender import signature_columns

    key = _receipt_signer(db, envelope.recipient)
    digest = parsed.envelope_sha256
    with db.transaction() as session:
        inserted = insert_ignore(session, SignedMessage, {
            "direction": "in", "message_id": envelope.message_id, "envelope_sha256": digest,
            "key_id": parsed.signature.key_id, "signature": parsed.signature.value, "envelope": parsed.envelope,
            **signature_columns(parsed.signature), "created_at": now})
        log = session.exec(select(SignedMessage).where(SignedMessage.direction == "in",
                                                       SignedMessage.message_id == envelope.message_id)).one()
        if not inserted:
            if log.receipt is not None and (log.envelope_sha256 == digest
                                            or same_message(log.envelope, parsed.envelope)):
                return _stored_receipt(session, log, key)
            replay = Receipt.now(envelope.message_id, "rejected", reason="replay", envelope_sha256=digest,
                                 detail=f"message {envelope.message_id} was already received with other content")
            return sign_receipt(replay, signer=envelope.recipient, addressee=envelope.sender,
                                private=key.private, key_id=key.key_id)
        row = Message(message_id=envelope.message_id, direction="in", exchange_id=envelope.exchange_id,
                      kind=envelope.kind, sender_code=envelope.sender, recipient_code=envelope.recipient,
                      schema_id=envelope.schema_id, payload=envelope.payload, attachments=envelope.attachments,
                      status="received", created_at=now, next_attempt_at=now, attempts=1)
        session.add(row)
        session.flush()
        try:
            with session.begin_nested():
                _check_attachments(parsed, envelope)
                if envelope.kind in observatory_inbound.KINDS:  # no case: aggregates for an observatory
                    case_id, reference = None, observatory_inbound.accept(session, envelope, now)
                elif envelope.kind == evidence.EVIDENCE_KIND:  # the counterpart's Retrieval: no state change
                    case = evidence.accept_inbound(session, envelope, now)
                    case_id, reference = case.id, case.reference
                else:
                    case = _apply(session, envelope, now)
                    _store_contents(session, parsed, envelope, case, now)
                    case_id, reference = case.id, case.reference
            row.case_id, row.status = case_id, "applied"
            receipt = Receipt.now(envelope.message_id, "delivered", reference=reference, envelope_sha256=digest)
        except ExhortoError as error:
            reason = error.params["reason"] if isinstance(error, MessageRejected) else error.code
            detail = error.params["detail"] if isinstance(error, MessageRejected) else error.message("en")
            row.status, row.last_error = "rejected", f"{reason}: {detail}"[:2000]
            receipt = Receipt.now(envelope.message_id, "rejected", reason=reason, detail=detail,
                                  envelope_sha256=digest)
        signed = sign_receipt(receipt, signer=envelope.recipient, addressee=envelope.sender,
                              private=key.private, key_id=key.key_id)
        row.receipt, row.sent_at = receipt.to_dict(), now
        log.receipt = signed.to_dict()
        session.add(row)
        session.add(log)
    return signed


def same_message(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """The same message signed twice: equal envelopes but for ``sent_at`` (a stale envelope is re-signed)."""
    return {**first, "sent_at": None} == {**second, "sent_at": None}


def _stored_receipt(session: Session, log: SignedMessage, key: keys.SigningKey) -> SignedReceipt:
    """The receipt first given for ``log``, word for word — unless its key has been revoked since, or it predates
    receipts naming their envelope: then the same answer (same time) is signed again with the current key."""
    assert log.receipt is not None
    stored = SignedReceipt(receipt=log.receipt["receipt"], signature=signature_from_dict(log.receipt["signature"]))
    row = None if stored.signature.x509 else keys.lookup(session, stored.signature.key_id)
    still_good = stored.signature.x509 or (row is not None and row.revoked_at is None)
    if stored.receipt.get("envelope_sha256") and still_good:
        return stored
    content = {k: v for k, v in stored.receipt.items() if k not in ("from", "to")}
    receipt = Receipt.from_dict({**content, "envelope_sha256": log.envelope_sha256})
    signed = sign_receipt(receipt, signer=key.authority, addressee=str(stored.receipt.get("to", "")),
                          private=key.private, key_id=key.key_id)
    log.receipt = signed.to_dict()
    session.add(log)
    return signed


def verify_stored(db: Database, row: SignedMessage) -> bool:
    """Whether a stored envelope (sent or received) still verifies against the key or certificate that signed it —
    after any number of rotations: an Ed25519 key stays in the registry, an X.509 signature keeps its
    certificates in the row. (Trust at the time was decided on receipt; this re-checks the bytes.)"""
    from engine.canonical import canonical_json
    from engine.transport.sender import stored_signature

    signature, data = stored_signature(row), canonical_json(row.envelope)
    if signature.x509:
        try:
            chain = pki.TrustStore([], []).check(signature.x5c)
        except pki.Untrusted:
            return False
        return chain.thumbprint == signature.key_id and x509_signature_holds(chain.public_key, signature, data)
    with db.reader() as session:
        key = keys.lookup(session, signature.key_id)
    return key is not None and signature_holds(keys.public_key(key), signature, data)


def _check_attachments(parsed: Transmission, envelope: Envelope) -> None:
    """Check 6: every listed file came with the message, with the listed size and SHA-256, and nothing else."""
    listed = {a["sha256"] for a in envelope.attachments}
    for item in envelope.attachments:
        content = parsed.contents.get(item["sha256"])
        if content is None:
            raise _reject("attachment_missing", f"attachment {item['name']} is listed but was not sent")
        if len(content) != item["size"] or sha256_hex(content) != item["sha256"]:
            raise _reject("attachment_mismatch",
                          f"attachment {item['name']}: size or SHA-256 differs from the signed envelope")
    extra = sorted(set(parsed.contents) - listed)
    if extra:
        raise _reject("attachment_unlisted", f"files not listed in the signed envelope: {', '.join(extra)}")


def _store_contents(session: Session, parsed: Transmission, envelope: Envelope, case: Case,
                    now: datetime) -> None:
    for item in envelope.attachments:
        insert_ignore(session, Attachment, {
            "authority_code": envelope.recipient, "case_id": case.id, "sha256": item["sha256"],
            "name": item["name"], "media_type": item.get("media_type") or "application/octet-stream",
            "size": item["size"], "content": parsed.contents[item["sha256"]], "created_at": now})


def _apply(session: Session, envelope: Envelope, now: datetime) -> Case:
    recipient = session.get(Authority, envelope.recipient)
    if recipient is None:
        raise _reject("unknown_recipient", f"authority {envelope.recipient} is not served by this node")
    _check_schema(envelope)
    if envelope.kind == "request":
        return _open_requested_case(session, recipient, envelope, now)
    case = session.exec(select(Case).where(Case.authority_code == recipient.code,
                                           Case.exchange_id == envelope.exchange_id)).first()
    if case is None:
        raise _reject("unknown_exchange", f"no case of {recipient.code} for exchange {envelope.exchange_id}")
    if case.counterpart_code != envelope.sender:
        raise _reject("unknown_exchange",
                      f"exchange {envelope.exchange_id} is not shared with {envelope.sender}")
    action = inbound_action(envelope.kind, envelope.payload)
    if action is None:
        raise _reject("unknown_kind", f"message kind {envelope.kind!r} cannot be applied")
    actor = Actor.system(recipient.code, on_behalf_of=envelope.sender)
    try:
        apply_in_session(session, case, action=action, actor=actor, payload=envelope.payload, now=now)
    except ExhortoError as error:
        raise _reject("not_allowed_in_state", error.message("en")) from error
    return case


def _check_schema(envelope: Envelope) -> None:
    from engine import forms

    form = envelope.schema_id or envelope.kind
    try:
        errors = forms.validate(form, envelope.payload, complete=True)
    except ExhortoError as error:
        raise _reject("unknown_schema", error.message("en")) from error
    if errors:
        first = "; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors[:5])
        raise _reject("schema_invalid", f"{len(errors)} schema errors: {first}")


def _open_requested_case(session: Session, recipient: Authority, envelope: Envelope, now: datetime) -> Case:
    payload: dict[str, Any] = envelope.payload
    if session.exec(select(Case).where(Case.authority_code == recipient.code,
                                       Case.exchange_id == envelope.exchange_id)).first() is not None:
        raise _reject("duplicate_exchange", f"exchange {envelope.exchange_id} is already open here")
    references = payload.get("references") if isinstance(payload.get("references"), dict) else {}
    case = Case(exchange_id=envelope.exchange_id, authority_code=recipient.code, side=Side.REQUESTED.value,
                reference=allocate_reference(session, recipient, now), counterpart_code=envelope.sender,
                counterpart_reference=(references or {}).get("requesting"), state=State.DELIVERED.value,
                schema_id=envelope.schema_id, payload=payload, created_by=f"system:{envelope.sender}",
                created_at=now, updated_at=now, **columns_from_payload(payload))
    session.add(case)
    session.flush()
    audit.append(session, case, at=now, actor=f"system:{envelope.sender}", action="receive", from_state=None,
                 to_state=State.DELIVERED.value, payload_hash=payload_hash(payload),
                 detail={"message_id": envelope.message_id})
    deadlines.on_transition(session, case, "receive", None, State.DELIVERED, now)
    return case
