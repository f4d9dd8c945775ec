"""Clocks follow the lifecycle: started, stopped, paused and resumed with the time left, extended."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from engine import audit
from engine.audit import verify_case
from engine.deadlines import extend
from engine.errors import InvalidInput, RoleNotAllowed
from engine.outbox import dispatch_all
from engine.store.db import Database
from engine.store.deadline_models import DeadlineEvent
from engine.store.models import AuditEvent, Case, Deadline
from tests.helpers import make_world


def clocks(db: Database, case: Case) -> dict[str, Deadline]:
    with db.reader() as session:
        return {
            d.kind: d
            for d in session.exec(
                select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.id))
            )
        }


def test_receipt_starts_the_requested_sides_clocks_and_acknowledgement_stops_one(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted("CO-FGN", "ES-MJ")
    mine = clocks(db, requested)
    assert set(mine) == {"acknowledge", "decide"}
    ack = mine["acknowledge"]
    assert ack.responsible_code == "ES-MJ" and ack.status == "running" and ack.policy == "MEDELLIN"
    assert ack.next_action_at is not None and ack.started_at < ack.next_action_at < ack.due_at
    # the requesting side watches the counterpart
    assert {k: d.responsible_code for k, d in clocks(db, requesting).items()} == {
        "await_acknowledgement": "ES-MJ",
        "await_execution": "ES-MJ",
    }

    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    after = clocks(db, requested)
    assert after["acknowledge"].status == "met" and after["decide"].status == "running"
    assert clocks(db, requesting)["await_acknowledgement"].status == "running"  # message not yet delivered


def test_clarification_pauses_and_the_answer_resumes_with_the_time_left(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted("BR-MJSP", "PT-PGR")
    world.act(requested, "request_clarification", "PT-PGR", "clerk")
    paused = clocks(db, requested)["decide"]
    assert (
        paused.status == "paused" and paused.remaining_seconds is not None and paused.next_action_at is None
    )
    dispatch_all(db)
    assert clocks(db, requesting)["answer_clarification"].status == "running"
    world.act(requesting, "answer_clarification", "BR-MJSP", "clerk")
    dispatch_all(db)
    resumed = clocks(db, requested)["decide"]
    assert resumed.status == "running"
    with db.reader() as session:
        resumed_at = session.exec(
            select(DeadlineEvent.at).where(
                DeadlineEvent.deadline_id == resumed.id, DeadlineEvent.event == "resumed"
            )
        ).one()
        moved = session.exec(
            select(AuditEvent).where(
                AuditEvent.case_id == requested.id, AuditEvent.action == "deadline_moved"
            )
        ).one()
        assert verify_case(session, session.get(Case, requested.id)) is None  # type: ignore[arg-type]
    assert abs((resumed.due_at - resumed_at).total_seconds() - paused.remaining_seconds) < 1  # type: ignore[operator]
    assert moved.detail["deadline"] == "decide"
    assert clocks(db, requesting)["answer_clarification"].status == "met"


def test_execution_clock_postponement_and_withdrawal(db: Database) -> None:
    world = make_world(db)
    requesting, requested = world.transmitted("CO-FGN", "ES-MJ")
    world.act(requested, "acknowledge", "ES-MJ", "clerk")
    world.act(requested, "start_execution", "ES-MJ", "judge")
    mine = clocks(db, requested)
    assert mine["decide"].status == "met" and mine["execute"].status == "running"
    # urgent request with a due date before 30 days would have been used; this one's date is later
    assert mine["execute"].period in {"30 calendar_days", "until 2026-12-31"}
    world.act(requested, "postpone", "ES-MJ", "judge")
    assert clocks(db, requested)["execute"].status == "paused"
    world.act(requested, "resume_execution", "ES-MJ", "judge")
    assert clocks(db, requested)["execute"].status == "running"
    dispatch_all(db)
    world.act(requesting, "withdraw", "CO-FGN", "judge")
    dispatch_all(db)
    assert {d.status for d in clocks(db, requesting).values()} <= {"met", "cancelled"}
    assert clocks(db, requested)["execute"].status == "cancelled"


def test_agreed_extension_moves_the_due_date_with_an_audit_entry(db: Database) -> None:
    world = make_world(db)
    _, requested = world.transmitted("CO-FGN", "ES-MJ")
    before = clocks(db, requested)["decide"]
    judge = world.actor("ES-MJ", "judge")

    def extend_decide(**changes: Any) -> Any:
        request = {"case": requested.reference, "kind": "decide", "amount": 30, "unit": "calendar_days",
                   "reasons": "x", "actor": judge}
        return extend(db, **{**request, **changes})

    with pytest.raises(RoleNotAllowed):
        extend_decide(actor=world.actor("ES-MJ", "clerk"))
    with pytest.raises(InvalidInput) as error:
        extend_decide(reasons=" ")
    assert error.value.params["field"] == "reasons"
    with pytest.raises(InvalidInput):
        extend_decide(kind="execute")
    extended = extend_decide(reasons="Art. 12(5) EIO: complex banking records")
    assert extended.due_at - before.due_at >= timedelta(days=30)
    with db.reader() as session:
        entry = session.exec(
            select(AuditEvent).where(
                AuditEvent.case_id == requested.id, AuditEvent.action == "deadline_extended"
            )
        ).one()
        assert verify_case(session, session.get(Case, requested.id)) is None  # type: ignore[arg-type]
        # The reasons are kept beside the chain (audit event format 2) and put back for display.
        assert set(entry.detail["reasons"]) == {audit.TEXT_REF}
        entry = audit.readable(session, [entry])[0]
    assert entry.actor == "es.judge" and entry.detail["reasons"].startswith("Art. 12(5)")


def test_a_refused_action_leaves_the_clocks_untouched(db: Database) -> None:
    world = make_world(db)
    _, requested = world.transmitted("CO-FGN", "ES-MJ")
    before = {k: (d.status, d.due_at) for k, d in clocks(db, requested).items()}
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the point is that nothing changed
        world.act(requested, "refuse", "ES-MJ", "judge", payload={"reasons": ""})
    assert {k: (d.status, d.due_at) for k, d in clocks(db, requested).items()} == before
