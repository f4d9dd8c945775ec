"""The ladder: reminder at 75 %, overdue notice at 100 %, escalation after the grace — each exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, func, select

from engine.deadlines.sweep import sweep_once
from engine.deadlines.tracking import parse_window, timeline, tracked
from engine.store.db import Database
from engine.store.deadline_models import Escalation, Notification
from engine.store.models import Case, Deadline
from tests.helpers import make_world


def clock(db: Database, case: Case, kind: str) -> Deadline:
    with db.reader() as session:
        return session.exec(select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == kind)).one()


def at_fraction(d: Deadline, fraction: float) -> datetime:
    return d.started_at + timedelta(seconds=d.period_seconds * fraction)


def notices(db: Database) -> list[Notification]:
    with db.reader() as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))))


def test_ladder_levels_recipients_and_languages(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted("FR-MJ", "MX-FGR")
    ack = clock(db, requested, "acknowledge")

    assert sweep_once(db, now=at_fraction(ack, 0.5), send=False).levels == 0
    first = sweep_once(db, now=at_fraction(ack, 0.8), send=False)
    assert first.levels == 1
    reminder = [n for n in notices(db) if n.channel == "email"]
    assert [(n.recipient_label, n.language) for n in reminder] == [("mx.clerk", "es")]
    assert reminder[0].subject.startswith("Recordatorio") or "Reminder" in reminder[0].subject

    assert sweep_once(db, now=at_fraction(ack, 0.8), send=False).levels == 0  # rerun: nothing new
    overdue_at = ack.due_at + timedelta(minutes=1)
    assert sweep_once(db, now=overdue_at, send=False).levels >= 1
    late = sweep_once(db, now=ack.due_at + timedelta(days=10), send=False)
    assert late.levels >= 1
    with db.reader() as session:
        levels = session.exec(
            select(Escalation.level, Escalation.name)
            .where(Escalation.deadline_id == ack.id)
            .order_by(col(Escalation.level))
        ).all()
    assert [tuple(x) for x in levels] == [(1, "reminder"), (2, "overdue"), (3, "escalation")]
    by_level = {}
    for n in notices(db):
        if (
            n.data.get("deadline") == "acknowledge"
            and n.channel == "email"
            and n.data["case"] == requested.reference
        ):
            by_level.setdefault(n.data["level_name"], []).append((n.recipient_label, n.language))
    assert by_level["overdue"] == [("mx.clerk", "es"), ("mx.judge", "es")]
    assert by_level["escalation"] == [("mx.supervisor", "es"), ("contact:FR-MJ", "fr")]
    french = next(n for n in notices(db) if n.recipient_label == "contact:FR-MJ")
    assert "MX-FGR" in french.body or requested.reference in french.body
    assert clock(db, requested, "acknowledge").next_action_at is None  # ladder done

    # the requesting side's watch clock tells its own clerk and judge that the counterpart is late
    watch = clock(db, requesting, "await_acknowledgement")
    assert watch.level_sent == 1
    assert {n.recipient_label for n in notices(db) if n.case_id == requesting.id} == {"fr.clerk", "fr.judge"}

    # a late sweep sends every level that fell due, in order, still once each
    with db.reader() as session:
        assert session.exec(select(func.count()).select_from(Escalation)).one() == len(
            session.exec(select(Escalation.deadline_id, Escalation.level).distinct()).all()
        )


def test_tracking_lists_and_timeline(db: Database) -> None:
    world = make_world(db)
    _, requested = world.transmitted("CO-FGN", "ES-MJ")
    ack = clock(db, requested, "acknowledge")
    now = ack.due_at + timedelta(hours=1)
    overdue = tracked(db, authority="ES-MJ", overdue=True, now=now)
    assert [(t.reference, t.kind) for t in overdue] == [(requested.reference, "acknowledge")]
    soon = tracked(db, authority="ES-MJ", due_within=parse_window("30d"), now=now)
    assert [t.kind for t in soon] == ["decide"]
    assert tracked(db, authority="CO-FGN", overdue=True, now=ack.started_at) == []
    sweep_once(db, now=now, send=False)
    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    _, entries = timeline(db, requested.reference, actor=world.actor("ES-MJ", "judge"))
    events = [(e.kind, e.event) for e in entries]
    assert events[:2] == [("acknowledge", "started"), ("decide", "started")]
    assert ("acknowledge", "escalated") in events and ("acknowledge", "met") in events
