"""Starting, pausing, resuming, extending and stopping a case's clocks, inside the caller's transaction.

:func:`on_transition` is called by :mod:`engine.actions` and :mod:`engine.inbox` with every lifecycle move,
so a clock changes in the same transaction as the state: a rolled-back action leaves the clocks untouched.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from engine import audit
from engine.deadlines.calendar import Unit, add_period, due_date_deadline
from engine.deadlines.ladder import next_level_due
from engine.deadlines.policy import ClockRule, load_policy
from engine.errors import InvalidInput, RoleNotAllowed, StaleVersion
from engine.guards import UNIVERSAL_GUARDS, Actor, GuardContext, check
from engine.lifecycle import TERMINAL_STATES, Role, State
from engine.store.db import Database
from engine.store.deadline_models import DeadlineEvent
from engine.store.models import Authority, Case, Deadline, utcnow
from engine.store.queries import load_case

OPEN = ("running", "paused")
EXTENDERS = frozenset({Role.JUDGE, Role.SUPERVISOR})


def on_transition(
    session: Session, case: Case, action: str, from_state: State | None, to_state: State, now: datetime
) -> None:
    """Start, pause, resume or stop the case's clocks for this move (inside the caller's transaction).

    ``action`` is a lifecycle action, or ``receive`` when a request arrives and the requested side's record
    opens."""
    assert case.id is not None
    if not moves_clocks(case, action, to_state):
        return  # most moves touch no clock: skip the query on the lifecycle's hot path
    policy = load_policy()
    terminal = State(to_state) in TERMINAL_STATES
    rules = [r for r in policy.clocks_for(case.legal_basis) if r.side == case.side]
    open_clocks = {
        d.kind: d
        for d in session.exec(
            select(Deadline).where(Deadline.case_id == case.id, col(Deadline.status).in_(OPEN))
        )
    }
    for rule in rules:
        clock = open_clocks.get(rule.kind)
        if clock is not None:
            if action in rule.stop:
                _finish(session, clock, "met", action, now)
                clock = None
            elif action in rule.cancel:
                _finish(session, clock, "cancelled", action, now)
                clock = None
            elif action in rule.pause and clock.status == "running":
                _pause(session, clock, action, now)
            elif action in rule.resume and clock.status == "paused":
                _resume(session, case, clock, rule, action, now)
        if action in rule.start and clock is None:
            open_clocks[rule.kind] = start_clock(session, case, rule, action, now)
    if terminal:  # nothing is owed on a closed or withdrawn case
        for clock in open_clocks.values():
            if clock.status in OPEN:
                _finish(session, clock, "cancelled", action, now)


def moves_clocks(case: Case, action: str, to_state: State) -> bool:
    """Whether this move may start, stop, pause or resume a clock of the case (when not, :func:`on_transition`
    neither reads nor writes anything)."""
    return State(to_state) in TERMINAL_STATES or load_policy().moves_a_clock(case.legal_basis, case.side, action)


def responsible_of(session: Session, case: Case, rule: ClockRule) -> Authority:
    code = case.authority_code if rule.responsible == "self" else case.counterpart_code
    authority = session.get(Authority, code)
    assert authority is not None, code  # foreign keys guarantee it
    return authority


def _requested_date(case: Case) -> date | None:
    urgency = case.payload.get("urgency") if isinstance(case.payload, dict) else None
    raw = urgency.get("due_date") if isinstance(urgency, dict) else None
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def compute_due(rule: ClockRule, case: Case, authority: Authority, now: datetime) -> tuple[datetime, str]:
    """Due time of a clock started ``now`` and the period it ran under (for display)."""
    urgent = case.urgency == "urgent"
    amount, unit = rule.length(urgent)
    due = add_period(now, amount, unit, country=authority.country, timezone=authority.timezone)
    label = f"{amount} {unit.value}"
    requested = _requested_date(case) if urgent and rule.use_due_date else None
    if requested is not None:
        by_date = due_date_deadline(requested, timezone=authority.timezone)
        if by_date < due:
            due, label = by_date, f"until {requested.isoformat()}"
    return due, label


def start_clock(session: Session, case: Case, rule: ClockRule, action: str, now: datetime) -> Deadline:
    authority = responsible_of(session, case, rule)
    due, label = compute_due(rule, case, authority, now)
    clock = Deadline(
        case_id=case.id,
        kind=rule.kind,
        responsible_code=authority.code,
        status="running",
        started_at=now,
        due_at=due,
        policy=case.legal_basis,
        period=label,
        period_seconds=max(int((due - now).total_seconds()), 0),
    )
    clock.next_action_at = _next_action(clock, rule, authority)
    session.add(clock)
    session.flush()
    _event(session, clock, "started", now, action=action, period=label)
    return clock


def _next_action(clock: Deadline, rule: ClockRule | None, authority: Authority) -> datetime | None:
    if clock.status != "running" or rule is None:
        return None
    return next_level_due(
        rule.ladder,
        clock.level_sent,
        due_at=clock.due_at,
        period_seconds=clock.period_seconds,
        country=authority.country,
        timezone=authority.timezone,
    )


def reschedule(session: Session, clock: Deadline) -> None:
    """Recompute when the clock's next ladder level falls due (after a level was sent or the due time
    moved)."""
    rule = load_policy().clock(clock.policy, clock.kind)
    authority = session.get(Authority, clock.responsible_code)
    assert authority is not None
    clock.next_action_at = _next_action(clock, rule, authority)
    session.add(clock)


def _event(
    session: Session, clock: Deadline, event: str, now: datetime, *, actor: str = "system", **detail: Any
) -> None:
    assert clock.id is not None
    session.add(
        DeadlineEvent(
            deadline_id=clock.id,
            case_id=clock.case_id,
            at=now,
            event=event,
            due_at=clock.due_at,
            actor=actor,
            detail=detail,
        )
    )


def _finish(session: Session, clock: Deadline, status: str, action: str, now: datetime) -> None:
    clock.status, clock.stopped_at, clock.next_action_at = status, now, None
    session.add(clock)
    _event(session, clock, status, now, action=action, late=now > clock.due_at)


def _pause(session: Session, clock: Deadline, action: str, now: datetime) -> None:
    clock.remaining_seconds = int((clock.due_at - now).total_seconds())
    clock.status, clock.paused_at, clock.next_action_at = "paused", now, None
    session.add(clock)
    _event(session, clock, "paused", now, action=action, remaining_seconds=clock.remaining_seconds)


def _resume(
    session: Session, case: Case, clock: Deadline, rule: ClockRule, action: str, now: datetime
) -> None:
    """Resume with the time that was left when the clock paused (a pause while overdue stays overdue)."""
    old_due = clock.due_at
    clock.due_at = now + timedelta(seconds=clock.remaining_seconds or 0)
    clock.status, clock.paused_at, clock.remaining_seconds = "running", None, None
    reschedule(session, clock)
    _event(session, clock, "resumed", now, action=action)
    audit.append(
        session,
        case,
        at=now,
        actor="system:deadlines",
        action="deadline_moved",
        from_state=case.state,
        to_state=case.state,
        detail={
            "deadline": clock.kind,
            "from": old_due.isoformat(),
            "to": clock.due_at.isoformat(),
            "why": f"resumed on {action}",
        },
    )


def extend(
    db: Database,
    *,
    case: int | str,
    kind: str,
    amount: int,
    unit: Unit | str,
    reasons: str,
    actor: Actor,
    now: datetime | None = None,
) -> Deadline:
    """Move an open clock's due time by an agreed extension (e.g. EIO Art. 12(3): 30 more days to decide),
    with an audit entry on the case. Only a judge or supervisor of the record's authority may extend."""
    now = now or utcnow()
    if not reasons.strip():
        raise InvalidInput(field="reasons", reason="an extension needs its reasons")
    if isinstance(amount, bool) or amount <= 0:
        raise InvalidInput(field="amount", reason="expected a positive whole number")
    try:
        unit = Unit(unit)
    except ValueError:
        raise InvalidInput(
            field="unit", reason=f"expected one of {', '.join(u.value for u in Unit)}"
        ) from None
    with db.transaction() as session:
        record = load_case(session, case, authority=actor.authority_code)
        check(UNIVERSAL_GUARDS, GuardContext(record, actor, None, {}))  # type: ignore[arg-type]
        if actor.role not in EXTENDERS:
            raise RoleNotAllowed(role=actor.role.value, action="extend", allowed="judge, supervisor")
        clock = session.exec(
            select(Deadline).where(
                Deadline.case_id == record.id, Deadline.kind == kind, col(Deadline.status).in_(OPEN)
            )
        ).first()
        if clock is None:
            raise InvalidInput(field="kind", reason=f"case {record.reference} has no open {kind} deadline")
        authority = session.get(Authority, clock.responsible_code)
        assert authority is not None
        old_due = clock.due_at
        clock.due_at = add_period(
            old_due, amount, unit, country=authority.country, timezone=authority.timezone
        )
        if clock.status == "paused":
            clock.remaining_seconds = (clock.remaining_seconds or 0) + int(
                (clock.due_at - old_due).total_seconds()
            )
        reschedule(session, clock)
        _bump_version(session, record, now)
        _event(
            session,
            clock,
            "extended",
            now,
            actor=actor.username,
            by=f"{amount} {unit.value}",
            reasons=reasons,
        )
        audit.append(
            session,
            record,
            at=now,
            actor=actor.username,
            action="deadline_extended",
            from_state=record.state,
            to_state=record.state,
            detail={
                "deadline": kind,
                "from": old_due.isoformat(),
                "to": clock.due_at.isoformat(),
                "by": f"{amount} {unit.value}",
                "reasons": reasons,
            },
        )
    return clock


def _bump_version(session: Session, case: Case, now: datetime) -> None:
    """Same compare-and-set as a lifecycle action: the audit chain has one writer at a time."""
    result = session.execute(
        update(Case)
        .where(col(Case.id) == case.id, col(Case.version) == case.version)
        .values(version=case.version + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(case=case.reference, expected=case.version, actual="newer")
    case.version, case.updated_at = case.version + 1, now


__all__ = ["compute_due", "extend", "on_transition", "reschedule", "responsible_of", "start_clock"]
