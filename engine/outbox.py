"""The outbox dispatcher: deliver pending messages in order, record receipts, retry with backoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select

from engine import audit, evidence
from engine.actions import apply_in_session
from engine.guards import Actor
from engine.lifecycle import State
from engine.retry import exponential_backoff
from engine.store.db import Database
from engine.store.models import Case, Message, utcnow
from engine.transport.base import Transport, TransportError
from engine.transport.envelope import Envelope, Receipt

MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int, base: timedelta = timedelta(seconds=15)) -> timedelta:
    """Exponential: 15 s, 30 s, 1 min, … capped at one hour."""
    return exponential_backoff(attempts, base, MAX_BACKOFF)


@dataclass
class DispatchSummary:
    delivered: int = 0
    rejected: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.rejected + self.retrying


def dispatch(db: Database, transport: Transport | None = None, *, now: datetime | None = None,
             limit: int = 100) -> DispatchSummary:
    """Deliver due outbound messages. Messages of one exchange go strictly in creation order: a message waits while
    an older one of its exchange is still undelivered."""
    if transport is None:  # hub delivery for authorities served here, HTTP for those on other nodes
        from engine.transport.http import NodeTransport

        transport = NodeTransport(db)
    now = now or utcnow()
    summary = DispatchSummary()
    with db.reader() as session:
        due = list(session.exec(select(Message).where(Message.direction == "out", Message.status == "pending",
                                                      Message.next_attempt_at <= now)
                                .order_by(col(Message.id)).limit(limit)))
    waiting: set[str] = set()
    for message in due:
        if message.exchange_id in waiting or _has_older_pending(db, message):
            waiting.add(message.exchange_id)
            continue
        try:
            receipt = transport.deliver(Envelope.from_message(message))
        except TransportError as error:
            _schedule_retry(db, message, str(error), now)
            summary.retrying += 1
            summary.errors.append(f"{message.message_id}: {error}")
            waiting.add(message.exchange_id)
            continue
        record_receipt(db, message.message_id, receipt, now=now)
        if receipt.delivered:
            summary.delivered += 1
        else:
            summary.rejected += 1
    return summary


def dispatch_all(db: Database, transport: Transport | None = None, *, now: datetime | None = None,
                 max_rounds: int = 50) -> DispatchSummary:
    """Dispatch until nothing due is left (a delivery can cause the counterpart to answer, in hub mode)."""
    total = DispatchSummary()
    for _ in range(max_rounds):
        summary = dispatch(db, transport, now=now)
        total.delivered += summary.delivered
        total.rejected += summary.rejected
        total.retrying += summary.retrying
        total.errors += summary.errors
        if summary.delivered + summary.rejected == 0:
            break
    return total


def _has_older_pending(db: Database, message: Message) -> bool:
    with db.reader() as session:
        older = session.exec(select(Message.id).where(Message.direction == "out",
                                                      Message.exchange_id == message.exchange_id,
                                                      Message.sender_code == message.sender_code,
                                                      Message.status == "pending",
                                                      col(Message.id) < message.id)).first()
    return older is not None


def _schedule_retry(db: Database, message: Message, error: str, now: datetime) -> None:
    with db.transaction() as session:
        row = session.get(Message, message.id)
        if row is None or row.status != "pending":
            return
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = now + backoff(row.attempts)
        session.add(row)
        evidence.record(session, "RelayREMMDFailure", row, issuer=row.sender_code, at=now, detail=error[:500])


def record_receipt(db: Database, message_id: str, receipt: Receipt, *, now: datetime | None = None) -> None:
    """Mark the outbound message with its receipt; a delivered request moves the sender's case to delivered.
    Idempotent: a second receipt for an already settled message changes nothing."""
    now = now or utcnow()
    with db.transaction() as session:
        row = session.exec(select(Message).where(Message.direction == "out",
                                                 Message.message_id == message_id)).one()
        if row.status != "pending":
            return
        row.attempts += 1
        row.status = "delivered" if receipt.delivered else "rejected"
        row.receipt, row.sent_at = receipt.to_dict(), now
        row.last_error = None if receipt.delivered else f"{receipt.reason}: {receipt.detail}"
        session.add(row)
        evidence.on_receipt(session, row, receipt.to_dict(), now)
        case = session.get(Case, row.case_id) if row.case_id is not None else None
        if case is None:
            return
        actor = Actor.system(case.authority_code, on_behalf_of=row.recipient_code)
        if receipt.delivered and row.kind == "request":
            case.counterpart_reference = receipt.reference
            if case.state == State.TRANSMITTED:
                apply_in_session(session, case, action="record_delivery", actor=actor, now=now,
                                 payload={"received_message_id": message_id, "reference": receipt.reference})
            else:  # e.g. withdrawn before the receipt came back: keep the evidence, not the move
                audit.append(session, case, at=now, actor=actor.username, action="delivery_confirmed",
                             from_state=case.state, to_state=case.state,
                             detail={"message_id": message_id, "reference": receipt.reference or ""})
        elif not receipt.delivered:
            audit.append(session, case, at=now, actor=actor.username, action="delivery_rejected",
                         from_state=case.state, to_state=case.state,
                         detail={"message_id": message_id, "reason": receipt.reason or "", "kind": row.kind})
