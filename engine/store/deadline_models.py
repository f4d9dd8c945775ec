"""Tables of the deadlines area: the clocks' timeline, the escalation ladder sent, and the notification log.

Exactly-once escalation rests on ``uq_escalation_deadline_level``: the row for (deadline, level) and its
notifications are written in one transaction *before* anything is sent, so a crash or a rerun can neither
send a level twice nor forget one (pending notifications are picked up by the next run).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime


def _now() -> datetime:
    from engine.store.models import utcnow

    return utcnow()


class DeadlineEvent(SQLModel, table=True):
    """One line of a clock's timeline: started, paused, resumed, extended, met, cancelled, escalated."""

    __tablename__ = "deadline_event"

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    event: str = Field(max_length=20)
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    actor: str = Field(default="system", max_length=140)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Escalation(SQLModel, table=True):
    """A ladder level of a deadline, claimed once: the unique key is the exactly-once guarantee."""

    __table_args__ = (UniqueConstraint("deadline_id", "level", name="uq_escalation_deadline_level"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    level: int
    name: str = Field(max_length=40)  # reminder | overdue | escalation | …
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # when the level fell due
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False))


class Notification(SQLModel, table=True):
    """Outgoing notice (e-mail or webhook) with its delivery status: pending → sending → sent | failed."""

    __table_args__ = (Index("ix_notification_dispatch", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True)  # idempotency key, sent as Message-ID / X-Exhorto-Delivery
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    channel: str = Field(max_length=10)  # email | webhook
    recipient: str = Field(max_length=500)  # address or URL
    recipient_label: str = Field(default="", max_length=140)  # user name or "counterpart"
    language: str = Field(default="en", max_length=5)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(default_factory=_now, sa_column=Column(UTCDateTime(), nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
