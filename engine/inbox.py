"""Receiving a counterpart's message: verify, then apply exactly once, or reject and apply nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from engine import audit, deadlines
from engine.actions import apply_in_session
from engine.canonical import payload_hash
from engine.cases import allocate_reference, columns_from_payload
from engine.errors import ExhortoError, MessageRejected
from engine.guards import Actor
from engine.lifecycle import Side, State, inbound_action
from engine.store.db import Database
from engine.store.models import Authority, Case, Message, utcnow
from engine.store.upsert import insert_ignore
from engine.transport.envelope import Envelope, Receipt


def _reject(reason: str, detail: str) -> MessageRejected:
    return MessageRejected(reason=reason, detail=detail)


def receive(db: Database, envelope: Envelope, *, now: datetime | None = None) -> Receipt:
    """Apply ``envelope`` on the recipient's record and return the receipt; the same message twice → same receipt."""
    now = now or utcnow()
    with db.transaction() as session:
        inserted = insert_ignore(session, Message, {
            "message_id": envelope.message_id, "direction": "in", "exchange_id": envelope.exchange_id,
            "kind": envelope.kind, "sender_code": envelope.sender, "recipient_code": envelope.recipient,
            "schema_id": envelope.schema_id, "payload": envelope.payload, "attachments": envelope.attachments,
            "status": "received", "created_at": now, "next_attempt_at": now, "attempts": 1,
        })
        row = session.exec(select(Message).where(Message.direction == "in",
                                                 Message.message_id == envelope.message_id)).one()
        if not inserted:  # already received: answer as before, change nothing
            return Receipt.from_dict(row.receipt or {"message_id": envelope.message_id, "status": "delivered",
                                                     "at": now.isoformat()})
        try:
            with session.begin_nested():
                case = _apply(session, envelope, now)
            row.case_id, row.status = case.id, "applied"
            receipt = Receipt.now(envelope.message_id, "delivered", reference=case.reference)
        except ExhortoError as error:
            reason = error.params["reason"] if isinstance(error, MessageRejected) else error.code
            row.status, row.last_error = "rejected", error.message("en")
            receipt = Receipt.now(envelope.message_id, "rejected", reason=reason, detail=error.message("en"))
        row.receipt, row.sent_at = receipt.to_dict(), now
        session.add(row)
    return receipt


def _apply(session: Session, envelope: Envelope, now: datetime) -> Case:
    recipient = session.get(Authority, envelope.recipient)
    if recipient is None:
        raise _reject("unknown_recipient", f"authority {envelope.recipient} is not served by this node")
    if session.get(Authority, envelope.sender) is None:
        raise _reject("unknown_sender", f"authority {envelope.sender} is not registered here")
    _check_schema(envelope)
    if envelope.kind == "request":
        return _open_requested_case(session, recipient, envelope, now)
    case = session.exec(select(Case).where(Case.authority_code == recipient.code,
                                           Case.exchange_id == envelope.exchange_id)).first()
    if case is None:
        raise _reject("unknown_exchange", f"no case of {recipient.code} for exchange {envelope.exchange_id}")
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
