"""Tables. Timestamps are timezone-aware UTC; JSON columns hold form payloads as received."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)

class Authority(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)  # e.g. ES-MJ
    country: str = Field(max_length=2, index=True)  # ISO 3166-1 alpha-2
    name: str = Field(max_length=300)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    timezone: str = Field(max_length=64)
    contact_email: str = Field(max_length=320)
    endpoint_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)
    authority_code: str = Field(foreign_key="authority.code", index=True, max_length=32)
    role: str = Field(max_length=20)
    full_name: str = Field(default="", max_length=300)
    email: str | None = Field(default=None, max_length=320)
    preferred_language: str = Field(default="en", max_length=5)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Argon2id hash for the web UI's password login (engine.web.passwords); None: no password login.
    password_hash: str | None = Field(default=None, max_length=200)
    # Last web logout: browser sessions opened before it are void (engine.web.session.session_fingerprint).
    sessions_revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ReferenceCounter(SQLModel, table=True):
    """Last local reference number used per authority and year; bumped inside the case-creating transaction."""

    authority_code: str = Field(foreign_key="authority.code", primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    last: int = 0


class Case(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("authority_code", "exchange_id", name="uq_case_authority_exchange"),
        Index("ix_case_authority_state", "authority_code", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: str = Field(max_length=36, index=True)  # UUIDv7, shared by both sides' records
    authority_code: str = Field(foreign_key="authority.code", max_length=32)  # owner of this record
    side: str = Field(max_length=10)
    reference: str = Field(max_length=64, unique=True)  # ES-MJ/2026/000123
    counterpart_code: str = Field(foreign_key="authority.code", max_length=32, index=True)
    counterpart_reference: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=32)
    urgency: str = Field(default="normal", max_length=10)
    legal_basis: str | None = Field(default=None, max_length=64)
    schema_id: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=100)
    submitted_by: str | None = Field(default=None, max_length=100)
    version: int = 1
    audit_seq: int = 0
    audit_head: str = Field(default="0" * 64, max_length=64)
    # Reads of this case recorded in its authority's access log (engine.privacy): moved in the same transaction
    # as the log entry, so deleting log entries (or a whole log) leaves a count that no longer matches.
    access_reads: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained per case: hash = sha256(prev_hash + canonical JSON of the event)."""

    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    seq: int
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=140)
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    payload_hash: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    access_reads: int | None = None  # the case's logged reads when appended (hashed; engine.audit)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # 1: free texts inside ``detail``; 2: free texts in ``audit_text``, their salted hash in ``detail`` (audit.py)
    format: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AuditText(SQLModel, table=True):
    """A free text of an audit event (a decision's reasons), kept beside the chain so that retention can erase
    it: the event holds ``sha256(salt + text)``, so the chain verifies with or without the text, and an altered
    text is caught while it is there. Erasing empties ``text`` and ``salt`` (without the salt, the hash cannot
    be checked against guessed texts)."""

    __tablename__ = "audit_text"
    __table_args__ = (UniqueConstraint("case_id", "seq", "key", name="uq_audit_text_event_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    seq: int  # the audit event's seq on the case
    key: str = Field(max_length=40)  # the detail key (``reasons``)
    salt: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Message(SQLModel, table=True):
    """Outbox (direction ``out``) and inbox (``in``) rows. One message_id is applied at most once per direction."""

    __table_args__ = (
        UniqueConstraint("direction", "message_id", name="uq_message_direction_id"),
        Index("ix_message_dispatch", "direction", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=36)
    direction: str = Field(max_length=3)  # out | in
    exchange_id: str = Field(max_length=36, index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    kind: str = Field(max_length=40)
    sender_code: str = Field(max_length=32)
    recipient_code: str = Field(max_length=32)
    schema_id: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    in_reply_to: str | None = Field(default=None, max_length=36)
    status: str = Field(default="pending", max_length=20)  # out: pending|delivered|rejected; in: applied|rejected
    receipt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(default_factory=utcnow,
                                      sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Outbound: a dispatcher ("host:pid" in claimed_by) holds the message until then, claimed before sending so
    # that two dispatchers never send or settle it twice; the claim of a dead dispatcher is taken over (at once on
    # the same host, at expiry from another).
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    # Outbound: the PDF of the form it carries is still to be rendered and signed — by the dispatcher, before the
    # first delivery attempt (engine.outbox.prepare_document), so that the click that sent it need not wait.
    document_pending: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class Deadline(SQLModel, table=True):
    """A running clock on a case. Orchestration (policy, sweeps, escalations) lives in engine.deadlines/workflows."""

    __table_args__ = (Index("ix_deadline_due", "status", "due_at"),
                      # the sweep selects by this index: running clocks whose next ladder level is due
                      Index("ix_deadline_next_action", "status", "next_action_at"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: str = Field(max_length=40)  # acknowledge | decide | execute | answer_clarification | …
    responsible_code: str = Field(foreign_key="authority.code", max_length=32)
    status: str = Field(default="running", max_length=12)  # running | paused | met | cancelled
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    paused_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    stopped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    level_sent: int = 0
    # Added by the deadlines area (engine/deadlines): policy used, length, time left while paused, and when
    # the next escalation level falls due (None once the whole ladder has been sent).
    policy: str | None = Field(default=None, max_length=64)
    period: str = Field(default="", max_length=40)
    period_seconds: int = 0
    remaining_seconds: int | None = None
    next_action_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# Tables owned by other areas live in their own modules and register here, so that create_all and Alembic see
# the whole schema from one import.
from engine.store import deadline_models as _deadline_models  # noqa: E402,F401
from engine.store import documents_models as _documents_models  # noqa: E402,F401
from engine.store import federation_models as _federation_models  # noqa: E402,F401
from engine.store import observatory_models as _observatory_models  # noqa: E402,F401
from engine.store import ops_models as _ops_models  # noqa: E402,F401
from engine.store import pki_models as _pki_models  # noqa: E402,F401
from engine.store import privacy_models as _privacy_models  # noqa: E402,F401
