"""Sending the notification log's pending rows: claim one (compare-and-set), send, record the outcome.

Status: ``pending`` → ``sending`` (claimed, ``claimed_at``) → ``sent``; a transient failure puts the row back
to ``pending`` with an exponential backoff; a permanent one, or too many attempts, ends in ``failed`` (kept,
listed by ``exhorto deadlines notifications --status failed``, re-queued by ``--retry``). A row left in
``sending`` by a crashed run is retried after the lease, so nothing is lost.

The lease runs on the wall clock, never on the sweep's ``now``: ``now`` may be injected (a replay, a test, a
sweep that runs late) and says which notices are *due*; how long ago a sender took a notice is a fact of the
real world. Dated by an injected future, a crashed run's claim would block the notice until that future came;
judged by one, a replay would take a notice another sender holds at this moment and send it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from engine.notify.channels import Channel, ChannelError, default_channels
from engine.notify.settings import NotifySettings
from engine.retry import exponential_backoff
from engine.store.db import Database
from engine.store.deadline_models import Notification
from engine.store.models import utcnow

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliverySummary) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors += other.errors


def backoff(attempts: int, base_seconds: int) -> timedelta:
    return exponential_backoff(attempts, timedelta(seconds=base_seconds), MAX_BACKOFF)


def _claimable(now: datetime, lease: timedelta, wall: datetime):  # type: ignore[no-untyped-def]
    """Due at ``now`` (possibly injected) and pending, or left ``sending`` longer than the lease on the real
    clock ``wall``."""
    return or_(
        and_(col(Notification.status) == "pending", col(Notification.next_attempt_at) <= now),
        and_(col(Notification.status) == "sending", col(Notification.claimed_at) <= wall - lease),
    )


def due_notifications(db: Database, *, now: datetime, limit: int, settings: NotifySettings) -> list[int]:
    lease = timedelta(seconds=settings.notify_lease_seconds)
    with db.reader() as session:
        return list(
            session.exec(
                select(Notification.id)
                .where(_claimable(now, lease, utcnow()))
                .order_by(col(Notification.id))
                .limit(limit)
            )
        )  # type: ignore[arg-type]


def _claim(db: Database, notification_id: int, now: datetime, lease: timedelta) -> Notification | None:
    wall = utcnow()  # the lease's clock (module docstring), whatever ``now`` says
    with db.transaction() as session:
        result = session.execute(
            update(Notification)
            .where(col(Notification.id) == notification_id, _claimable(now, lease, wall))
            .values(status="sending", claimed_at=wall, attempts=Notification.attempts + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another sender has it
        return session.get(Notification, notification_id)


def _settle(
    db: Database,
    notification: Notification,
    now: datetime,
    error: ChannelError | None,
    settings: NotifySettings,
) -> str:
    values: dict[str, object]
    if error is None:
        values = {"status": "sent", "sent_at": now, "last_error": None}
    elif error.transient and notification.attempts < settings.notify_max_attempts:
        values = {
            "status": "pending",
            "last_error": str(error)[:2000],
            "next_attempt_at": now + backoff(notification.attempts, settings.notify_retry_seconds),
        }
    else:
        values = {"status": "failed", "last_error": str(error)[:2000]}
    with db.transaction() as session:
        session.execute(
            update(Notification)
            .where(col(Notification.id) == notification.id, col(Notification.status) == "sending")
            .values(**values)
        )
    return str(values["status"])


def deliver_pending(
    db: Database,
    *,
    settings: NotifySettings | None = None,
    channels: Mapping[str, Channel] | None = None,
    now: datetime | None = None,
    limit: int = 500,
    ids: list[int] | None = None,
) -> DeliverySummary:
    """Send due notifications (or just ``ids``), oldest first."""
    settings = settings or NotifySettings()
    channels = channels if channels is not None else default_channels(settings)
    now = now or utcnow()
    lease = timedelta(seconds=settings.notify_lease_seconds)
    summary = DeliverySummary()
    for notification_id in (
        ids if ids is not None else due_notifications(db, now=now, limit=limit, settings=settings)
    ):
        notification = _claim(db, notification_id, now, lease)
        if notification is None:
            continue
        channel = channels.get(notification.channel)
        error: ChannelError | None = None
        try:
            if channel is None:
                raise ChannelError(f"no channel {notification.channel!r} configured", transient=False)
            channel.send(notification)
        except ChannelError as failure:
            error = failure
            summary.errors.append(f"{notification.uid}: {failure}")
        outcome = _settle(db, notification, utcnow() if now is None else now, error, settings)
        if outcome == "sent":
            summary.sent += 1
        elif outcome == "pending":
            summary.retrying += 1
        else:
            summary.failed += 1
    return summary


def requeue_failed(db: Database, *, now: datetime | None = None) -> int:
    """Put failed notifications back in the queue (after the operator fixed the cause)."""
    now = now or utcnow()
    with db.transaction() as session:
        result = session.execute(
            update(Notification)
            .where(col(Notification.status) == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


__all__ = ["DeliverySummary", "backoff", "deliver_pending", "due_notifications", "requeue_failed"]
