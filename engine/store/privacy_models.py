"""Tables of the privacy area: the personal-data access log, retention policies and the redactions done.

The access log is its own append-only chain per authority (``hash = sha256(prev_hash + canonical entry)``),
with the head kept in ``access_log_head``: recording a read never touches (or waits for) the case row that a
concurrent lifecycle action holds, and deleting the newest entries is caught like editing an old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.models import utcnow
from engine.store.types import UTCDateTime


class AccessLogEntry(SQLModel, table=True):
    """One read of personal data: who, when, through which channel, what (a case, an export)."""

    __tablename__ = "access_log"
    __table_args__ = (
        UniqueConstraint("authority_code", "seq", name="uq_access_log_authority_seq"),
        Index("ix_access_log_case", "case_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(foreign_key="authority.code", max_length=32)
    seq: int
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    username: str = Field(max_length=140)
    channel: str = Field(max_length=10)  # cli | api | web | pdf | export | flow
    purpose: str = Field(max_length=64)  # case.show, case.history, document, subject_export, …
    case_id: int | None = Field(default=None, foreign_key="case.id")
    case_reference: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AccessLogHead(SQLModel, table=True):
    """Newest entry of an authority's access-log chain; moved by compare-and-set on ``seq``."""

    __tablename__ = "access_log_head"

    authority_code: str = Field(foreign_key="authority.code", primary_key=True, max_length=32)
    seq: int = 0
    head: str = Field(default="0" * 64, max_length=64)


class RetentionPolicy(SQLModel, table=True):
    """Personal data of an authority's closed or withdrawn cases is pseudonymised ``years`` after closure."""

    __tablename__ = "retention_policy"

    authority_code: str = Field(foreign_key="authority.code", primary_key=True, max_length=32)
    years: int
    updated_by: str = Field(max_length=140)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CaseRedaction(SQLModel, table=True):
    """A case whose personal data was pseudonymised. Unique per case: idempotency key of retention runs."""

    __tablename__ = "case_redaction"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    authority_code: str = Field(foreign_key="authority.code", max_length=32, index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=140)
    reason: str = Field(max_length=20)  # retention | manual
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    policy_years: int | None = None
    audit_seq: int  # the hash-chained ``redact`` event on the case
    fields: int = 0
    messages: int = 0
    documents: int = 0
    attachments: int = 0


class DisclosurePolicy(SQLModel, table=True):
    """The smallest group an authority's statistics publish. Append-only: the newest row of an authority is
    in force, and the rows before it are the audit of who changed it, when, and from what."""

    __tablename__ = "disclosure_policy"
    __table_args__ = (Index("ix_disclosure_policy_authority", "authority_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(foreign_key="authority.code", max_length=32)
    min_group: int
    previous: int | None = None
    set_by: str = Field(max_length=140)
    set_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ExternalFile(SQLModel, table=True):
    """A file holding personal data that the engine wrote outside the database (``exhorto pdf``, the demo's
    PDFs, delivery-evidence and data-subject exports): retention cannot erase it, so an operator must be able to
    find it. One row per case the file concerns (``case_id`` None: it concerns no case, e.g. an empty export)."""

    __tablename__ = "external_file"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(foreign_key="authority.code", max_length=32, index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    kind: str = Field(max_length=20)  # pdf | demo_pdf | evidence | subject_export
    path: str = Field(max_length=1000)  # absolute, as written
    sha256: str = Field(max_length=64)
    size: int
    actor: str = Field(max_length=140)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
