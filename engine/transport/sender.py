"""The sending half of a transmission: attach files, sign the envelope, check the signed receipt that answers it.

Shared by every transport (hub and HTTP) so both carry the same envelopes through the same verification.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine import keys, pki
from engine.store.db import Database
from engine.store.federation_models import Attachment, AuthorityKey, SignedMessage
from engine.store.models import Authority, Message, utcnow
from engine.store.upsert import insert_ignore
from engine.transport.base import TransportError
from engine.transport.envelope import Envelope, Receipt
from engine.transport.signing import (
    ED25519,
    Malformed,
    Signature,
    Transmission,
    X509Signer,
    parse_receipt,
    sign_envelope,
)

# "x509" (default): an authority with a signing certificate on this node signs envelopes and receipts with it;
# "ed25519": keep the bare keys (a transition while counterparts have not yet put this node's CA on their trust
# list — they refuse an untrusted certificate with ``untrusted_certificate`` and the message stays queued).
ENVELOPE_SIGNATURE_ENV = "EXHORTO_ENVELOPE_SIGNATURE"
_signers: dict[tuple[str, str], X509Signer] = {}
_signers_lock = threading.Lock()


def envelope_signer(db: Database, authority: str, at: datetime | None = None) -> keys.SigningKey:
    """What signs ``authority``'s envelopes and receipts now: its X.509 signing identity (the certificate that
    also signs its PDFs) when this node holds one, otherwise its Ed25519 key (:class:`keys.NoSigningKey` when
    neither)."""
    at = at or utcnow()
    if os.environ.get(ENVELOPE_SIGNATURE_ENV, "x509").strip().lower() != "ed25519":
        with db.reader() as session:
            row = pki.signing_row(session, authority, at)
        if row is not None:
            cache_key = (db.url, row.fingerprint)
            with _signers_lock:
                signer = _signers.get(cache_key)
            if signer is None:
                signer = X509Signer.of(pki.identity_of(row, db.url))
                with _signers_lock:
                    _signers[cache_key] = signer
            return keys.SigningKey(key_id=signer.key_id, authority=authority, private=signer)
    return keys.signing_key(db, authority, at=at)


def stored_signature(row: SignedMessage) -> Signature:
    """The signature of a stored envelope, in its own format (rows from before X.509 envelopes are Ed25519)."""
    return Signature(key_id=row.key_id, value=row.signature, alg=row.algorithm or ED25519,
                     x5c=tuple(row.certificates or ()))

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


def hub_authority(session: Session, code: str) -> bool:
    """Whether messages to ``code`` stay on this node (hub path): it is served here (its private key is here), or
    this node is a pure hub — it has imported no counterpart's key — and ``code`` is registered with neither an
    endpoint nor a key of its own: then its key is made on first use. A node that federates serves exactly the
    authorities whose private keys it holds; an authority known by its public keys is a counterpart on another
    node, never served here and never given a key."""
    if code in keys.served_authorities(session):
        return True
    authority = session.get(Authority, code)
    if authority is None or authority.endpoint_url:
        return False
    if session.exec(select(AuthorityKey.key_id).where(AuthorityKey.authority_code == code)).first() is not None:
        return False
    federated = session.exec(select(AuthorityKey.key_id).where(col(AuthorityKey.private_key).is_(None))).first()
    return federated is None


def not_deliverable(session: Session, code: str) -> str | None:
    """Why a message to ``code`` cannot leave this node now (shown on the queued message, retried), or None."""
    authority = session.get(Authority, code)
    if authority is None:
        return f"not deliverable: {code} is not a known authority"
    if hub_authority(session, code) or authority.endpoint_url:
        return None
    return f"not deliverable: no endpoint URL registered for {code} (an authority on another node; set its inbox URL)"


def ensure_hub_keys(db: Database, envelope: Envelope) -> None:
    """Hub mode: the sender, and a hub recipient (see :func:`hub_authority`), live on this node; each gets a
    signing key the first time it is needed. A recipient on another node raises :class:`TransportError`."""
    with db.reader() as session:
        sender_here = hub_authority(session, envelope.sender)
        recipient_here = hub_authority(session, envelope.recipient)
        problem = None if recipient_here else (not_deliverable(session, envelope.recipient)
                                               or f"not deliverable here: {envelope.recipient} is on another node")
    if not sender_here:
        raise keys.NoSigningKey(authority=envelope.sender)
    if problem is not None:
        raise TransportError(problem)
    keys.ensure_signing_key(db, envelope.sender)
    keys.ensure_signing_key(db, envelope.recipient)


def _case_files(session: Session, message_id: str, digests: list[str]) -> dict[str, Attachment]:
    """The files with these hashes that belong to the case of outbound message ``message_id``: nothing else
    ever travels (a payload naming another case's file hash ships nothing)."""
    case_id = session.exec(select(Message.case_id).where(Message.direction == "out",
                                                         Message.message_id == message_id)).first()
    if case_id is None or not digests:
        return {}
    rows = session.exec(select(Attachment).where(Attachment.case_id == case_id,
                                                 col(Attachment.sha256).in_(digests))).all()
    return {r.sha256: r for r in rows}


def _stored(session: Session, message_id: str) -> SignedMessage | None:
    return session.exec(select(SignedMessage).where(SignedMessage.direction == "out",
                                                    SignedMessage.message_id == message_id)).first()


def prepare(db: Database, envelope: Envelope, *, now: datetime | None = None) -> Transmission:
    """The signed transmission of ``envelope``. Files of the message's case named in the payload travel with it
    and are listed (name, media type, size, SHA-256) in the signed envelope; others stay references only.

    Re-signing rule: ``sent_at`` is the signing time. A retransmission reuses the envelope signed before (same
    bytes, same SHA-256) while it is younger than half the freshness window and its key still signs; otherwise the
    message is signed again with the current key and ``sent_at`` = now, so a message queued for days (node down,
    no endpoint) or across a rotation or revocation still arrives fresh. The receiver recognises the re-signed
    envelope as the same message; hashes signed before are kept so that a receipt for any of them settles it."""
    now = now or utcnow()
    key = envelope_signer(db, envelope.sender, at=now)
    wanted = _descriptors(envelope)
    with db.reader() as session:
        stored = _stored(session, envelope.message_id)
        reused = stored.envelope if stored is not None else None
        digests = [w["sha256"] for w in wanted] + [a["sha256"] for a in (reused or {}).get("attachments", [])]
        held = _case_files(session, envelope.message_id, digests)
    if stored is not None and stored.key_id == key.key_id and _reusable(stored, held, now):
        contents = {a["sha256"]: held[a["sha256"]].content for a in stored.envelope["attachments"]}
        return Transmission(envelope=stored.envelope, signature=stored_signature(stored), contents=contents)
    listed = [{"name": r.name, "media_type": r.media_type, "size": r.size, "sha256": r.sha256}
              for r in (held.get(w["sha256"]) for w in wanted) if r is not None]
    contents = {item["sha256"]: held[item["sha256"]].content for item in listed}
    signed_at = now.astimezone(UTC).isoformat(timespec="microseconds")
    transmission = sign_envelope(replace(envelope, sent_at=signed_at, attachments=listed), key.private,
                                 key.key_id, contents)
    _record_signed(db, envelope.message_id, transmission, key.key_id, now)
    return transmission


def signature_columns(signature: Signature) -> dict[str, Any]:
    """The ``signed_message`` columns that keep a signature's format and certificates with it."""
    if not signature.x509:
        return {"algorithm": None, "certificates": None}
    return {"algorithm": signature.alg, "certificates": list(signature.x5c)}


def _reusable(stored: SignedMessage, held: dict[str, Attachment], now: datetime) -> bool:
    try:
        sent_at = datetime.fromisoformat(stored.envelope["sent_at"])
    except (KeyError, TypeError, ValueError):
        return False
    return (sent_at.tzinfo is not None and keys.fresh(sent_at, now, share=0.5)
            and all(a["sha256"] in held for a in stored.envelope.get("attachments", [])))


def _record_signed(db: Database, message_id: str, transmission: Transmission, key_id: str,
                   now: datetime) -> None:
    values = {"envelope_sha256": transmission.envelope_sha256, "key_id": key_id,
              "signature": transmission.signature.value, "envelope": transmission.envelope,
              **signature_columns(transmission.signature)}
    with db.transaction() as session:
        if insert_ignore(session, SignedMessage, {"direction": "out", "message_id": message_id,
                                                  "created_at": now, **values}):
            return
        row = _stored(session, message_id)
        assert row is not None
        if row.envelope_sha256 != transmission.envelope_sha256:
            row.earlier_sha256 = [*(row.earlier_sha256 or []), row.envelope_sha256]
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


# Refusals that name a configuration problem between the two nodes (a clock, a key not imported yet), not the
# message: the message stays queued with the reason shown, and is signed afresh and sent again.
RETRY_REASONS = frozenset({"not_fresh", "unknown_key", "key_not_valid", "key_revoked", "untrusted_certificate"})


def accept_receipt(db: Database, transmission: Transmission, body: bytes | dict[str, Any],
                   now: datetime | None = None) -> Receipt:
    """The receipt in ``body`` if it answers this message — one of the envelopes signed for it, by SHA-256 — and
    is signed by a key of the authority that gave it, trusted for a receipt issued when it says
    (:func:`engine.keys.receipt_problem`); otherwise :class:`TransportError` (the message stays queued: an
    unverifiable answer proves nothing)."""
    now = now or utcnow()
    envelope = transmission.as_envelope()
    try:
        signed = parse_receipt(body)
        issued_at = datetime.fromisoformat(str(signed.receipt.get("at")))
        if issued_at.tzinfo is None:
            raise ValueError("no time zone")
    except (Malformed, ValueError) as error:
        raise TransportError(f"unusable receipt from {envelope.recipient}: {error}") from None
    with db.reader() as session:
        row = None if signed.signature.x509 else keys.lookup(session, signed.signature.key_id)
        log = _stored(session, envelope.message_id)
    chain = None
    if signed.signature.x509:
        try:
            chain = pki.trust_store(db).check(signed.signature.x5c)
        except pki.Untrusted as error:
            raise TransportError(f"receipt for {envelope.message_id}: {error}") from None
        if chain.thumbprint != signed.signature.key_id or not signed.holds(chain.public_key):
            raise TransportError(f"receipt for {envelope.message_id}: signature does not verify")
    else:
        if row is None or row.authority_code != signed.signer:
            raise TransportError(f"receipt for {envelope.message_id} is signed with an unknown key "
                                 f"{signed.signature.key_id}")
        if not signed.holds(keys.public_key(row)):
            raise TransportError(f"receipt for {envelope.message_id}: signature does not verify")
    if signed.receipt.get("message_id") != envelope.message_id:
        raise TransportError(f"receipt answers message {signed.receipt.get('message_id')}, "
                             f"not {envelope.message_id}")
    ours = {transmission.envelope_sha256}
    if log is not None:
        ours |= {log.envelope_sha256, *(log.earlier_sha256 or [])}
    if signed.receipt.get("envelope_sha256") not in ours:
        raise TransportError(f"receipt for {envelope.message_id} answers another envelope "
                             f"({signed.receipt.get('envelope_sha256')})")
    first_sent = log.created_at if log is not None else datetime.fromisoformat(envelope.sent_at)
    problem = (keys.certificate_receipt_problem(chain, signed.signer, issued_at, first_sent, now)
               if chain is not None else keys.receipt_problem(row, issued_at, first_sent, now))  # type: ignore[arg-type]
    if problem is not None:
        raise TransportError(f"receipt for {envelope.message_id} is not trusted: {problem}")
    receipt = signed.as_receipt()
    if receipt.delivered and signed.signer != envelope.recipient:
        raise TransportError(f"delivery receipt signed by {signed.signer}, not by {envelope.recipient}")
    if not receipt.delivered and receipt.reason in RETRY_REASONS:
        raise TransportError(f"{envelope.recipient} refused the message for now: {receipt.reason}: {receipt.detail}")
    with db.transaction() as session:
        stored = _stored(session, envelope.message_id)
        if stored is not None:
            stored.receipt = signed.to_dict()
            session.add(stored)
    return receipt
