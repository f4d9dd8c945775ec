"""The supervisors' operations view: what has not reached its recipient (outbound messages still queued or
refused, notifications that failed) and the retries, each recorded in the case's audit chain.

Framework-free and scoped to one authority: only its own cases' messages and notifications are listed or
retried; anything else is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from engine import audit
from engine.errors import MessageNotFound, NotFound
from engine.guards import Actor
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.deadline_models import Notification
from engine.store.models import Case, Message, utcnow

LIMIT = 200
RETRY_MESSAGE = "retry_delivery"
RETRY_NOTIFICATION = "retry_notification"


def allowed(actor: Actor) -> bool:
    """Retrying deliveries is a supervisor's call (the node's operator, not the case workers)."""
    return actor.role == Role.SUPERVISOR


@dataclass(frozen=True)
class Undelivered:
    message: Message
    case_id: int
    reference: str


@dataclass(frozen=True)
class FailedNotification:
    notification: Notification
    case_id: int | None
    reference: str | None


def undelivered(db: Database, authority: str) -> list[Undelivered]:
    """The authority's outbound messages not delivered: queued (with their attempts) or refused, oldest first."""
    with db.reader() as session:
        rows = session.exec(
            select(Message, Case.id, Case.reference)
            .join(Case, col(Case.id) == col(Message.case_id))
            .where(Case.authority_code == authority, Message.direction == "out",
                   col(Message.status).in_(("pending", "rejected")))
            .order_by(col(Message.id)).limit(LIMIT)
        ).all()
    return [Undelivered(message, case_id or 0, reference) for message, case_id, reference in rows]


def failed_notifications(db: Database, authority: str) -> list[FailedNotification]:
    with db.reader() as session:
        rows = session.exec(
            select(Notification, Case.id, Case.reference)
            .join(Case, col(Case.id) == col(Notification.case_id))
            .where(Case.authority_code == authority, Notification.status == "failed")
            .order_by(col(Notification.id)).limit(LIMIT)
        ).all()
    return [FailedNotification(notification, case_id, reference) for notification, case_id, reference in rows]


def _own_case(session: Session, case_id: int | None, authority: str) -> Case | None:
    if case_id is None:
        return None
    return session.exec(
        select(Case).where(Case.id == case_id, Case.authority_code == authority).with_for_update()
    ).first()


def retry_message(db: Database, actor: Actor, message_id: str, *, now: datetime | None = None) -> Case:
    """Make a queued message due now (the next dispatch sends it) and record who asked, in the case's chain."""
    now = now or utcnow()
    with db.transaction() as session:
        message = session.exec(
            select(Message).where(Message.direction == "out", Message.message_id == message_id,
                                  Message.status == "pending").with_for_update()
        ).first()
        case = _own_case(session, message.case_id if message else None, actor.authority_code)
        if message is None or case is None or not allowed(actor):
            raise MessageNotFound(message=message_id)
        message.next_attempt_at = now
        session.add(message)
        audit.append(session, case, at=now, actor=actor.username, action=RETRY_MESSAGE, from_state=case.state,
                     to_state=case.state, detail={"message_id": message_id, "attempts": message.attempts})
        return case


def retry_notification(db: Database, actor: Actor, notification_id: int, *, now: datetime | None = None) -> Case:
    """Put a failed notification back in the queue (as ``exhorto deadlines notifications --retry`` does for
    all), recorded in its case's chain."""
    now = now or utcnow()
    with db.transaction() as session:
        notification = session.exec(
            select(Notification).where(Notification.id == notification_id, Notification.status == "failed")
            .with_for_update()
        ).first()
        case = _own_case(session, notification.case_id if notification else None, actor.authority_code)
        if notification is None or case is None or not allowed(actor):
            raise NotFound()
        notification.status, notification.attempts, notification.next_attempt_at = "pending", 0, now
        session.add(notification)
        audit.append(session, case, at=now, actor=actor.username, action=RETRY_NOTIFICATION, from_state=case.state,
                     to_state=case.state, detail={"notification": notification.uid,
                                                  "error": (notification.last_error or "")[:500]})
        return case
