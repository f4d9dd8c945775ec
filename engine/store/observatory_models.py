"""Tables of the observatory area (Santa Marta §5): which authorities act as observatories, who reports to
them, and the statistical returns an observatory accepted. Returns hold aggregates only, already suppressed
by their sender: never a case, a name or a reference."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.models import utcnow
from engine.store.types import UTCDateTime


class Observatory(SQLModel, table=True):
    """An authority of the directory that acts as a joint observatory. ``granularity`` is the only calendar
    period its returns may cover (year, quarter or month): one granularity, so published periods never
    overlap and cannot be differenced. ``threshold`` is its smallest published group."""

    code: str = Field(foreign_key="authority.code", primary_key=True, max_length=32)
    granularity: str = Field(default="year", max_length=10)
    threshold: int = 5
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ObservatoryMember(SQLModel, table=True):
    """``member`` reports to ``observatory``: on the member's node, where to send returns; on the
    observatory's node, whose returns are trusted."""

    __tablename__ = "observatory_member"

    observatory_code: str = Field(foreign_key="observatory.code", primary_key=True, max_length=32)
    member_code: str = Field(foreign_key="authority.code", primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class StatisticalReturn(SQLModel, table=True):
    """A return accepted by an observatory: one per sender and period (a second one is refused)."""

    __tablename__ = "statistical_return"
    __table_args__ = (
        UniqueConstraint("observatory_code", "sender_code", "period", name="uq_statistical_return_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    observatory_code: str = Field(foreign_key="observatory.code", max_length=32, index=True)
    sender_code: str = Field(foreign_key="authority.code", max_length=32)
    period: str = Field(max_length=10)  # 2026 | 2026-Q1 | 2026-03
    message_id: str = Field(max_length=36)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
