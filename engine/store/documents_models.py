"""Rendered documents (PDF/A) kept with the case they belong to.

Bytes live in the database: one backup covers cases and their documents, and SQLite and PostgreSQL behave
alike. Rendering is deterministic, so ``(case_id, sha256)`` identifies a document: rendering the same thing
twice (a retried transaction, a second ``exhorto pdf`` call) finds the stored row instead of adding a copy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.models import utcnow
from engine.store.types import UTCDateTime


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_document_case_sha256"),
                      UniqueConstraint("case_id", "rendering_sha256", name="uq_document_case_rendering"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    message_id: str | None = Field(default=None, max_length=36, index=True)  # the message it travelled with
    kind: str = Field(max_length=40)  # the form rendered: request, refusal, …
    language: str = Field(max_length=5)
    secondary_language: str | None = Field(default=None, max_length=5)  # bilingual documents
    filename: str = Field(max_length=255)
    media_type: str = Field(default="application/pdf", max_length=127)
    size: int
    sha256: str = Field(max_length=64)
    payload_sha256: str = Field(max_length=64)  # of the embedded payload.json
    # Of the deterministic rendering before its PAdES signature (a signature differs each time: signing time,
    # ECDSA nonce, timestamp), so rendering the same thing again finds this row instead of signing a copy.
    rendering_sha256: str | None = Field(default=None, max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
