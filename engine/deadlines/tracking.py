"""What judges and clerks track: clocks overdue or due soon, and each case's clock timeline (read-only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from engine import guards
from engine.errors import InvalidInput
from engine.guards import Actor
from engine.store.db import Database
from engine.store.deadline_models import DeadlineEvent
from engine.store.models import Case, Deadline, utcnow
from engine.store.queries import load_case

_WINDOW = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_window(text: str) -> timedelta:
    """``48h``, ``7d``, ``2w`` → a timedelta."""
    match = _WINDOW.match(text or "")
    if not match:
        raise InvalidInput(field="due-within", reason="expected a number followed by h, d or w, e.g. 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class TrackedClock:
    reference: str
    case_id: int
    kind: str
    status: str
    responsible: str
    started_at: datetime
    due_at: datetime
    level_sent: int
    period: str

    def overdue(self, now: datetime) -> bool:
        return self.status == "running" and self.due_at <= now


def tracked(
    db: Database,
    *,
    authority: str,
    overdue: bool = False,
    due_within: timedelta | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> list[TrackedClock]:
    """Open clocks on ``authority``'s records, soonest due first. ``overdue``: only those past due;
    ``due_within``: only running clocks falling due between now and now + window (overdue ones excluded)."""
    now = now or utcnow()
    query = (
        select(Deadline, Case.reference)
        .join(Case, col(Case.id) == Deadline.case_id)
        .where(Case.authority_code == authority, col(Deadline.status).in_(("running", "paused")))
    )
    if overdue:
        query = query.where(Deadline.status == "running", col(Deadline.due_at) <= now)
    if due_within is not None:
        query = query.where(
            Deadline.status == "running", col(Deadline.due_at) > now, col(Deadline.due_at) <= now + due_within
        )
    with db.reader() as session:
        rows = session.exec(query.order_by(col(Deadline.due_at), col(Deadline.id)).limit(limit)).all()
    return [
        TrackedClock(
            reference=ref,
            case_id=d.case_id,
            kind=d.kind,
            status=d.status,
            responsible=d.responsible_code,
            started_at=d.started_at,
            due_at=d.due_at,
            level_sent=d.level_sent,
            period=d.period,
        )
        for d, ref in rows
    ]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    event: str
    due_at: datetime | None
    actor: str
    detail: dict[str, object]


def timeline(
    db: Database, case: int | str, *, actor: Actor | None = None
) -> tuple[Case, list[TimelineEntry]]:
    """Every clock event of the case in order: started, paused, resumed, extended, notices, met, cancelled."""
    with db.reader() as session:
        record = load_case(session, case, authority=actor.authority_code if actor is not None else None)
        if actor is not None:
            guards.check(guards.UNIVERSAL_GUARDS, guards.GuardContext(record, actor, None, {}))  # type: ignore[arg-type]
        rows = session.exec(
            select(DeadlineEvent, Deadline.kind)
            .join(Deadline, col(Deadline.id) == DeadlineEvent.deadline_id)
            .where(DeadlineEvent.case_id == record.id)
            .order_by(col(DeadlineEvent.at), col(DeadlineEvent.id))
        ).all()
    return record, [TimelineEntry(e.at, kind, e.event, e.due_at, e.actor, dict(e.detail)) for e, kind in rows]


def clocks_of(db: Database, case_id: int) -> list[Deadline]:
    with db.reader() as session:
        return list(
            session.exec(select(Deadline).where(Deadline.case_id == case_id).order_by(col(Deadline.id)))
        )


__all__ = ["TimelineEntry", "TrackedClock", "clocks_of", "parse_window", "timeline", "tracked"]
