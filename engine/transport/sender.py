"""The sending half of a transmission: attach files, sign the envelope, check the signed receipt that answers it.

Shared by every transport (hub and HTTP) so both carry the same envelopes through the same verification.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import select

from engine import keys
from engine.store.db import Database
from engine.store.federation_models import Attachment, SignedMessage
from engine.store.models import Authority, utcnow
from engine.store.upsert import insert_ignore
from engine.transport.base import TransportError
from engine.transport.envelope import Envelope, Receipt
from engine.transport.signing import Malformed, Transmission, parse_receipt, sign_envelope

# Payload lists whose file descriptors ({name, media_type, size, sha256}) may have stored content to carry.
FILE_LISTS = ("attachments", "evidence")


def _descriptors(envelope: Envelope) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    candidates = list(envelope.attachments)
    for name in FILE_LISTS:
        value = envelope.payload.get(name)
        if isinstance(value, list):
            candidates += [v for v in value if isinstance(v, dict)]
    for item in candidates:
        digest = item.get("sha256")
        if isinstance(digest, str) and digest not in seen:
            seen[digest] = item
    return list(seen.values())


def ensure_hub_keys(db: Database, envelope: Envelope) -> None:
    """Hub mode: the sender, and a recipient registered here without an endpoint of its own, live on this node;
    each gets a signing key the first time it is needed."""
    keys.ensure_signing_key(db, envelope.sender)
    with db.reader() as session:
        recipient = session.get(Authority, envelope.recipient)
    if recipient is not None and not recipient.endpoint_url:
        keys.ensure_signing_key(db, envelope.recipient)


def prepare(db: Database, envelope: Envelope) -> Transmission:
    """Sign ``envelope`` with the sender's current key. Files named in the payload whose content this node holds
    travel with it and are listed (name, media type, size, SHA-256) in the signed envelope; files not held here
    stay references in the payload only."""
    wanted = _descriptors(envelope)
    contents: dict[str, bytes] = {}
    listed: list[dict[str, Any]] = []
    if wanted:
        with db.reader() as session:
            rows = session.exec(select(Attachment).where(
                Attachment.authority_code == envelope.sender,
                Attachment.sha256.in_([w["sha256"] for w in wanted]))).all()  # type: ignore[attr-defined]
        held = {r.sha256: r for r in rows}
        for item in wanted:
            row = held.get(item["sha256"])
            if row is not None:
                contents[row.sha256] = row.content
                listed.append({"name": row.name, "media_type": row.media_type, "size": row.size,
                               "sha256": row.sha256})
    # The key valid when the message was written: after a rotation, queued messages keep their original key.
    key = keys.signing_key(db, envelope.sender, at=datetime.fromisoformat(envelope.sent_at))
    transmission = sign_envelope(replace(envelope, attachments=listed), key.private, key.key_id, contents)
    with db.transaction() as session:
        insert_ignore(session, SignedMessage, {
            "direction": "out", "message_id": envelope.message_id,
            "envelope_sha256": transmission.envelope_sha256, "key_id": key.key_id,
            "signature": transmission.signature.value, "envelope": transmission.envelope, "created_at": utcnow()})
    return transmission


def accept_receipt(db: Database, transmission: Transmission, body: bytes | dict[str, Any],
                   now: datetime | None = None) -> Receipt:
    """The receipt in ``body`` if it is signed by a key of the authority that gave it and answers this message;
    otherwise :class:`TransportError` (the message stays queued: an unverifiable answer proves nothing)."""
    envelope = transmission.as_envelope()
    try:
        signed = parse_receipt(body)
    except Malformed as error:
        raise TransportError(f"unusable receipt from {envelope.recipient}: {error}") from None
    with db.reader() as session:
        row = keys.lookup(session, signed.signature.key_id)
    if row is None or row.authority_code != signed.signer or not keys.valid_at(row, now or utcnow()):
        raise TransportError(f"receipt for {envelope.message_id} is signed with an unknown or invalid key "
                             f"{signed.signature.key_id}")
    if not signed.holds(keys.public_key(row)):
        raise TransportError(f"receipt for {envelope.message_id}: signature does not verify")
    if signed.receipt.get("message_id") != envelope.message_id:
        raise TransportError(f"receipt answers message {signed.receipt.get('message_id')}, "
                             f"not {envelope.message_id}")
    receipt = signed.as_receipt()
    if receipt.delivered and signed.signer != envelope.recipient:
        raise TransportError(f"delivery receipt signed by {signed.signer}, not by {envelope.recipient}")
    with db.transaction() as session:
        log = session.exec(select(SignedMessage).where(SignedMessage.direction == "out",
                                                       SignedMessage.message_id == envelope.message_id)).first()
        if log is not None:
            log.receipt = signed.to_dict()
            session.add(log)
    return receipt
