"""The outbox dispatcher: deliver pending messages in order, record receipts, retry with backoff.

Several dispatchers may run at once (the web's dispatch-after-send, the background one, a Prefect flow): each
*claims* a message (``claimed_until``, one conditional UPDATE) before sending it, so a message is sent and settled
by one of them. A claim left by a dispatcher that died is taken over at once on its host, else after
:data:`CLAIM_LEASE`."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from engine import audit
from engine import evidence as _evidence
from engine.actions import apply_in_session
from engine.guards import Actor
from engine.lifecycle import State
from engine.retry import exponential_backoff
from engine.store.db import Database
from engine.store.models import Case, Message, utcnow
from engine.transport.base import Transport, TransportError
from engine.transport.envelope import Envelope, Receipt

MAX_BACKOFF = timedelta(hours=1)
# Longer than any one delivery (HTTP timeout 30 s, signing, recording): only a crashed dispatcher's claim expires.
CLAIM_LEASE = timedelta(minutes=5)


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
        if not _claim(db, message):  # another dispatcher is sending it (or has just settled it)
            waiting.add(message.exchange_id)
            continue
        try:
            message = prepare_document(db, message)
        except Exception as error:  # noqa: BLE001 - e.g. no key to sign with: retried with backoff, logged here
            _schedule_retry(db, message, f"document: {error}", now, evidence=False)
            summary.retrying += 1
            summary.errors.append(f"{message.message_id}: document: {error}")
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
        except BaseException:
            _release(db, message)  # an unexpected failure: let the next dispatch try again at once
            raise
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


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_here(holder: str | None) -> bool:
    """Whether ``holder`` is a dispatcher process of this host that no longer runs (killed between sending and
    recording): its claim need not wait for the lease. A holder on another host is never presumed dead."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _claim(db: Database, message: Message) -> bool:
    """Take ``message`` for this dispatcher: True when no other live one holds it. The wall clock, not the
    dispatch's ``now`` (which may be a simulated future), dates the lease."""
    wall, holder = utcnow(), _holder()
    free = or_(col(Message.claimed_until).is_(None), col(Message.claimed_until) < wall)
    with db.reader() as session:
        current = session.exec(select(Message.claimed_by).where(Message.id == message.id)).first()
    if _dead_here(current):
        free = or_(free, col(Message.claimed_by) == current)
    with db.transaction() as session:
        result = session.execute(update(Message).where(
            col(Message.id) == message.id, col(Message.status) == "pending", free,
        ).values(claimed_until=wall + CLAIM_LEASE, claimed_by=holder))
    return result.rowcount == 1  # type: ignore[attr-defined]


def _release(db: Database, message: Message) -> None:
    with db.transaction() as session:
        session.execute(update(Message).where(col(Message.id) == message.id)
                        .values(claimed_until=None, claimed_by=None))


def prepare_document(db: Database, message: Message) -> Message:
    """Render and sign the PDF of a message queued with ``document_pending`` (the web's actions leave it to the
    dispatcher, so that the click that sent it answers at once) and list it in the message's attachments; return
    the message as now stored, ready to be put in its envelope.

    The rendering and the signature happen outside any transaction (they take ~0.5 s; a timestamp authority may
    be called). The write is one transaction that keeps the document and lists it only if the message still waits
    for it: a crash before the commit leaves the message as it was (rendered again on the next run), and a second
    dispatcher — which the claim already keeps away — would find it done. The document listed, carried in the
    envelope and kept with the case is therefore the one signed, exactly once."""
    if not message.document_pending:
        return message
    from engine import documents

    with db.reader() as session:
        case = session.get(Case, message.case_id)
        request = documents.outbound_rendering(session, case, message) if case is not None else None
    made = documents.Prerendered(request=request, pdf=documents.render_signed(db, request)) if request else None
    with db.transaction() as session:
        row = session.exec(select(Message).where(Message.id == message.id).with_for_update()).one()
        if row.document_pending:
            if case is not None:
                documents.attach_outbound_document(session, session.get(Case, row.case_id), row, made)
            row.document_pending = False
            session.add(row)
        return row


def _schedule_retry(db: Database, message: Message, error: str, now: datetime, *, evidence: bool = True) -> None:
    with db.transaction() as session:
        row = session.exec(select(Message).where(Message.id == message.id).with_for_update()).first()
        if row is None or row.status != "pending":
            return
        row.claimed_until, row.claimed_by = None, None
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = now + backoff(row.attempts)
        session.add(row)
        if evidence:  # a failed relay, not a document this node could not make
            _evidence.record(session, "RelayREMMDFailure", row, issuer=row.sender_code, at=now, detail=error[:500])


def record_receipt(db: Database, message_id: str, receipt: Receipt, *, now: datetime | None = None) -> None:
    """Mark the outbound message with its receipt; a delivered request moves the sender's case to delivered.
    Idempotent: a second receipt for an already settled message changes nothing."""
    now = now or utcnow()
    with db.transaction() as session:
        # FOR UPDATE: a second settlement (another dispatcher, a late receipt) waits, then sees it settled.
        row = session.exec(select(Message).where(Message.direction == "out", Message.message_id == message_id)
                           .with_for_update()).one()
        if row.status != "pending":
            return
        row.claimed_until, row.claimed_by = None, None
        row.attempts += 1
        row.status = "delivered" if receipt.delivered else "rejected"
        row.receipt, row.sent_at = receipt.to_dict(), now
        row.last_error = None if receipt.delivered else f"{receipt.reason}: {receipt.detail}"
        session.add(row)
        _evidence.on_receipt(session, row, receipt.to_dict(), now)
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
