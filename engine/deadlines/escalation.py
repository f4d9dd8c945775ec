"""The escalation ladder: claim each due (deadline, level) exactly once, with its notifications.

:func:`select_due` reads due clocks by the ``(status, next_action_at)`` index, never the whole table.
:func:`escalate` then, in **one transaction per clock**, inserts the unique ``Escalation`` row for each
level that fell due, the ``Notification`` rows it implies (texts already rendered in each recipient's
language), the timeline entry, and moves the clock's ``level_sent``/``next_action_at`` on. Nothing is sent
here: sending (:mod:`engine.notify.dispatch`) works from the notification log, so a crash at any point either
left the level unclaimed (the rerun claims it) or claimed with pending notifications (the rerun sends them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.deadlines.clocks import reschedule
from engine.deadlines.ladder import levels_due
from engine.deadlines.messages import compose
from engine.deadlines.policy import ClockRule, Level, load_policy
from engine.i18n import negotiate
from engine.ids import new_id
from engine.notify.settings import NotifySettings
from engine.store.db import Database
from engine.store.deadline_models import DeadlineEvent, Escalation, Notification
from engine.store.models import Authority, Case, Deadline, User
from engine.store.upsert import insert_ignore

ROLES = ("clerk", "judge", "supervisor")


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    label: str
    language: str


def select_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of running clocks whose next ladder level is due, oldest first (an index range scan)."""
    query = (
        select(Deadline.id)
        .where(Deadline.status == "running", col(Deadline.next_action_at) <= now)
        .order_by(col(Deadline.next_action_at))
        .limit(limit)
    )
    return [i for i in session.exec(query) if i is not None]


def recipients(session: Session, case: Case, level: Level, settings: NotifySettings) -> list[Recipient]:
    found: list[Recipient] = []
    roles = [r for r in level.notify if r in ROLES]
    if roles:
        users = session.exec(
            select(User)
            .where(
                User.authority_code == case.authority_code,
                col(User.role).in_(roles),
                col(User.active).is_(True),
            )
            .order_by(col(User.id))
        )
        found += [
            Recipient("email", u.email, u.username, negotiate(u.preferred_language)) for u in users if u.email
        ]
    if "counterpart" in level.notify:
        other = session.get(Authority, case.counterpart_code)
        if other is not None:
            found.append(
                Recipient("email", other.contact_email, f"contact:{other.code}", negotiate(other.languages))
            )
    if "webhook" in level.notify and settings.webhook_url:
        found.append(Recipient("webhook", settings.webhook_url, "webhook", "en"))
    return found


def escalate(db: Database, deadline_id: int, now: datetime, settings: NotifySettings) -> tuple[int, int]:
    """Claim the due levels of one clock; returns (levels claimed, notifications queued)."""
    with db.transaction() as session:
        query = select(Deadline).where(Deadline.id == deadline_id)
        if db.dialect == "postgresql":
            query = (
                query.with_for_update()
            )  # two sweeps at once: the second waits, then sees level_sent moved
        clock = session.exec(query).first()
        if (
            clock is None
            or clock.status != "running"
            or clock.next_action_at is None
            or clock.next_action_at > now
        ):
            return 0, 0
        rule = load_policy().clock(clock.policy, clock.kind)
        if rule is None:  # the operator removed this clock from the policy: nothing more to send
            clock.next_action_at = None
            session.add(clock)
            return 0, 0
        case = session.get(Case, clock.case_id)
        authority = session.get(Authority, clock.responsible_code)
        assert case is not None and authority is not None
        due = levels_due(
            rule.ladder,
            clock.level_sent,
            now,
            due_at=clock.due_at,
            period_seconds=clock.period_seconds,
            country=authority.country,
            timezone=authority.timezone,
        )
        claimed = queued = 0
        for level, level_at in due:
            if insert_ignore(
                session,
                Escalation,
                {
                    "deadline_id": clock.id,
                    "case_id": clock.case_id,
                    "level": level.number,
                    "name": level.name,
                    "due_at": level_at,
                    "created_at": now,
                },
            ):
                queued += _queue(session, clock, case, authority, rule, level, level_at, now, settings)
                claimed += 1
        if due:
            clock.level_sent = max(clock.level_sent, due[-1][0].number)
        reschedule(session, clock)
        return claimed, queued


def _queue(
    session: Session,
    clock: Deadline,
    case: Case,
    authority: Authority,
    rule: ClockRule,
    level: Level,
    level_at: datetime,
    now: datetime,
    settings: NotifySettings,
) -> int:
    escalation_id = session.exec(
        select(Escalation.id).where(Escalation.deadline_id == clock.id, Escalation.level == level.number)
    ).one()
    targets = recipients(session, case, level, settings)
    watch = rule.responsible == "counterpart"
    event: dict[str, Any] = {
        "event": "deadline." + level.name,
        "case": case.reference,
        "exchange_id": case.exchange_id,
        "authority": case.authority_code,
        "counterpart": case.counterpart_code,
        "deadline": clock.kind,
        "responsible": clock.responsible_code,
        "level": level.number,
        "level_name": level.name,
        "due_at": clock.due_at.isoformat(),
        "level_due_at": level_at.isoformat(),
    }
    for target in targets:
        subject, body = compose(
            level=level.name,
            kind=clock.kind,
            language=target.language,
            reference=case.reference,
            counterpart=case.counterpart_code,
            counterpart_reference=case.counterpart_reference,
            due_at=clock.due_at,
            timezone=authority.timezone,
            watch=watch,
            responsible=authority.code,
        )
        session.add(
            Notification(
                uid=new_id(),
                escalation_id=escalation_id,
                case_id=case.id,
                channel=target.channel,
                recipient=target.address,
                recipient_label=target.label,
                language=target.language,
                subject=subject[:300],
                body=body,
                data=event,
                status="pending",
                created_at=now,
                next_attempt_at=now,
            )
        )
    session.add(
        DeadlineEvent(
            deadline_id=clock.id,
            case_id=clock.case_id,
            at=now,
            event="escalated",
            due_at=clock.due_at,
            detail={"level": level.number, "name": level.name, "recipients": [t.label for t in targets]},
        )
    )
    return len(targets)


__all__ = ["Recipient", "escalate", "recipients", "select_due"]
