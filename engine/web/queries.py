"""What the screens list: a user's work queues and the authority's tracking, each case with its nearest
deadline.

Read-only and framework-free; every query is scoped to one authority (the user's), so no screen can list
another authority's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from engine.guards import Actor
from engine.lifecycle import TERMINAL_STATES, Role, State, available
from engine.store.db import Database
from engine.store.models import Authority, Case, Deadline, utcnow

DUE_SOON = timedelta(days=3)
OPTIONAL_ACTIONS = frozenset({"withdraw"})
LIMIT = 200


@dataclass(frozen=True)
class Badge:
    status: str  # overdue | due_soon | running | paused
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class Row:
    case: Case
    badge: Badge | None


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    country: str | None = None
    urgency: str | None = None
    overdue: bool = False
    side: str | None = None


def badge_for(deadlines: list[Deadline], now: datetime) -> Badge | None:
    """The clock that matters most: the earliest running one (overdue or due soon shows as such), else
    paused."""
    running = sorted((d for d in deadlines if d.status == "running"), key=lambda d: d.due_at)
    if running:
        first = running[0]
        status = "overdue" if first.due_at <= now else "due_soon" if first.due_at <= now + DUE_SOON else "running"
        return Badge(status, first.kind, first.due_at)
    paused = [d for d in deadlines if d.status == "paused"]
    return Badge("paused", paused[0].kind, paused[0].due_at) if paused else None


def _with_badges(db: Database, cases: list[Case], now: datetime) -> list[Row]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    with db.reader() as session:
        clocks = list(
            session.exec(
                select(Deadline).where(col(Deadline.case_id).in_(ids), col(Deadline.status).in_(("running", "paused")))
            )
        )
    by_case: dict[int, list[Deadline]] = {}
    for clock in clocks:
        by_case.setdefault(clock.case_id, []).append(clock)
    return [Row(c, badge_for(by_case.get(c.id or 0, []), now)) for c in cases]


def _states_for(role: Role, side: str) -> list[str]:
    """States in which ``role`` has something to do on ``side`` (drafts have their own list; withdrawing is
    always possible and never something a case waits for)."""
    return sorted(
        {
            t.from_state.value
            for state in State
            for t in available(state, side)
            if role in t.roles and t.from_state != State.DRAFT and t.action not in OPTIONAL_ACTIONS
        }
    )


def _cases(db: Database, query: SelectOfScalar[Case]) -> list[Case]:
    with db.reader() as session:
        return list(session.exec(query.order_by(col(Case.updated_at).desc()).limit(LIMIT)))


def needing_action(db: Database, actor: Actor, *, now: datetime | None = None) -> list[Row]:
    now = now or utcnow()
    mine = select(Case).where(Case.authority_code == actor.authority_code)
    states = {side: _states_for(actor.role, side) for side in ("requesting", "requested")}
    condition = ((col(Case.side) == "requesting") & col(Case.state).in_(states["requesting"])) | (
        (col(Case.side) == "requested") & col(Case.state).in_(states["requested"])
    )
    return _with_badges(db, _cases(db, mine.where(condition)), now)


def pending_approval(db: Database, actor: Actor, *, now: datetime | None = None) -> list[Row]:
    query = select(Case).where(Case.authority_code == actor.authority_code, Case.state == State.PENDING_APPROVAL.value)
    return _with_badges(db, _cases(db, query), now or utcnow())


def incoming(db: Database, actor: Actor, *, now: datetime | None = None) -> list[Row]:
    query = select(Case).where(
        Case.authority_code == actor.authority_code,
        Case.side == "requested",
        col(Case.state).not_in([s.value for s in TERMINAL_STATES]),
    )
    return _with_badges(db, _cases(db, query), now or utcnow())


def my_drafts(db: Database, actor: Actor, *, now: datetime | None = None) -> list[Row]:
    query = select(Case).where(
        Case.authority_code == actor.authority_code,
        Case.state == State.DRAFT.value,
        Case.created_by == actor.username,
    )
    return _with_badges(db, _cases(db, query), now or utcnow())


def tracking(db: Database, actor: Actor, filters: Filters, *, now: datetime | None = None) -> list[Row]:
    """All the authority's cases matching ``filters`` (country: the counterpart's; overdue: a running clock
    past
    due)."""
    now = now or utcnow()
    query = select(Case).where(Case.authority_code == actor.authority_code)
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.side:
        query = query.where(Case.side == filters.side)
    if filters.urgency:
        query = query.where(Case.urgency == filters.urgency)
    if filters.country:
        counterpart = aliased(Authority)
        query = query.join(counterpart, col(counterpart.code) == Case.counterpart_code).where(
            counterpart.country == filters.country
        )
    if filters.overdue:
        query = query.where(
            exists().where(
                col(Deadline.case_id) == col(Case.id), col(Deadline.status) == "running", col(Deadline.due_at) <= now
            )
        )
    return _with_badges(db, _cases(db, query), now)


def counterpart_countries(db: Database, authority: str) -> list[str]:
    with db.reader() as session:
        rows = session.exec(
            select(Authority.country)
            .join(Case, col(Case.counterpart_code) == Authority.code)
            .where(Case.authority_code == authority)
            .distinct()
        )
        return sorted(set(rows))


def authorities(db: Database, *, excluding: str) -> list[Authority]:
    with db.reader() as session:
        return list(
            session.exec(
                select(Authority)
                .where(Authority.code != excluding)
                .order_by(col(Authority.country), col(Authority.code))
            )
        )
