"""Both sides' records driven through the hub: every row of the transition table is exercised."""

from __future__ import annotations

import pytest
from sqlmodel import select

from engine.audit import verify_all
from engine.lifecycle import TRANSITIONS, Side
from engine.outbox import dispatch_all
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, Message
from tests.helpers import World, make_world

ROLE_FOR = {"submit": "clerk", "approve": "judge", "send_back": "judge", "transmit": "clerk", "withdraw": "judge",
            "answer_clarification": "clerk", "close": "judge", "acknowledge": "clerk",
            "request_clarification": "clerk", "refuse": "judge", "start_execution": "judge", "postpone": "judge",
            "resume_execution": "judge", "report_partial_execution": "clerk", "report_execution": "clerk"}

SENT = ["A:submit", "A:approve", "A:transmit"]
ACK = [*SENT, "B:acknowledge"]
RUNNING = [*ACK, "B:start_execution"]

# name: (steps, final requesting state, final requested state or None if never delivered).
# "A:" acts on the requesting record, "B:" on the requested one; "!" = do not dispatch the hub afterwards.
SCENARIOS: dict[str, tuple[list[str], str, str | None]] = {
    "executed and closed": ([*RUNNING, "B:report_execution", "A:close"], "closed", "closed"),
    "sent back then withdrawn when approved": (["A:submit", "A:send_back", "A:submit", "A:approve",
                                                "A:withdraw"], "withdrawn", None),
    "withdrawn as draft": (["A:withdraw"], "withdrawn", None),
    "withdrawn pending approval": (["A:submit", "A:withdraw"], "withdrawn", None),
    "withdrawn before delivery": (["A:submit", "A:approve", "A:transmit!", "A:withdraw"], "withdrawn",
                                  "withdrawn"),
    "withdrawn after delivery": ([*SENT, "A:withdraw"], "withdrawn", "withdrawn"),
    "clarified on delivery, then refused, closed": ([*SENT, "B:request_clarification", "A:answer_clarification",
                                                     "B:refuse", "A:close"], "closed", "closed"),
    "clarification after acknowledgement, withdrawn": ([*ACK, "B:request_clarification", "A:withdraw"],
                                                       "withdrawn", "withdrawn"),
    "refused on delivery": ([*SENT, "B:refuse"], "refused", "refused"),
    "withdrawn after acknowledgement": ([*ACK, "A:withdraw"], "withdrawn", "withdrawn"),
    "partial, postponed, resumed, executed": ([*RUNNING, "B:report_partial_execution", "B:postpone",
                                               "B:resume_execution", "B:report_partial_execution",
                                               "B:report_partial_execution", "B:report_execution", "A:close"],
                                              "closed", "closed"),
    "postponed then executed": ([*RUNNING, "B:postpone", "B:resume_execution", "B:report_execution"],
                                "executed", "executed"),
    "withdrawn while postponed": ([*RUNNING, "B:postpone", "A:withdraw"], "withdrawn", "withdrawn"),
    "withdrawn after partial execution": ([*RUNNING, "B:report_partial_execution", "A:withdraw"], "withdrawn",
                                          "withdrawn"),
    "withdrawn during execution": ([*RUNNING, "A:withdraw"], "withdrawn", "withdrawn"),
    "partial result accepted and closed": ([*RUNNING, "B:report_partial_execution", "A:close"], "closed",
                                           "closed"),
}


def run(world: World, steps: list[str]) -> tuple[Case, Case | None]:
    case = world.new_request("CO-FGN", "ES-MJ")
    for step in steps:
        who, action = step.split(":")
        authority = "CO-FGN" if who == "A" else "ES-MJ"
        target = case if who == "A" else world.counterpart(case)
        world.act(target, action.rstrip("!"), authority, ROLE_FOR[action.rstrip("!")])
        if not action.endswith("!"):
            dispatch_all(world.db)
    dispatch_all(world.db)
    with world.db.reader() as session:
        other = session.exec(select(Case).where(Case.exchange_id == case.exchange_id,
                                                Case.id != case.id)).first()
    return world.refresh(case), other


def test_every_row_of_the_table_is_exercised(db: Database) -> None:
    world = make_world(db)
    for name, (steps, requesting_state, requested_state) in SCENARIOS.items():
        requesting, requested = run(world, steps)
        assert requesting.state == requesting_state, name
        assert (requested.state if requested else None) == requested_state, name
    with db.reader() as session:
        done = {(e.from_state, e.action, c.side)
                for e, c in session.exec(select(AuditEvent, Case).where(AuditEvent.case_id == Case.id))}
        undelivered = session.exec(select(Message).where(Message.status != "delivered",
                                                         Message.direction == "out")).all()
        checked, breaks = verify_all(session)
    missing = [t for t in TRANSITIONS if (t.from_state.value, t.action, t.side.value) not in done]
    assert missing == []
    assert undelivered == [] and breaks == [] and checked == sum(2 if s[2] else 1 for s in SCENARIOS.values())


@pytest.mark.parametrize("backend_db", ["sqlite"])
def test_requested_side_record_mirrors_the_request(sqlite_db: Database, backend_db: str) -> None:
    world = make_world(sqlite_db)
    requesting, requested = world.transmitted("BR-MJSP", "PT-PGR")
    assert requesting.state == requested.state == "delivered"
    assert requested.side == Side.REQUESTED and requested.authority_code == "PT-PGR"
    assert requested.reference.startswith("PT-PGR/2026/") and requested.counterpart_code == "BR-MJSP"
    assert requesting.counterpart_reference == requested.reference
    assert requested.payload == requesting.payload and requested.schema_id == requesting.schema_id
    assert requested.legal_basis == requesting.legal_basis
