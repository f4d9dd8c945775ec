"""Tables of the operations area: idempotency keys of API writes (a retry is answered, not re-applied)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime


class IdempotencyKey(SQLModel, table=True):
    """One applied write per (user, Idempotency-Key), inserted in the transaction that applied it: if the row
    exists the write happened, and its stored answer is what a retry gets back."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("username", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    key: str = Field(max_length=200)
    request_sha256: str = Field(max_length=64)  # what was asked: the same key for another request is refused
    case_id: int | None = Field(default=None, index=True)
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
