"""Concurrent actors: exactly one of two conflicting actions wins; references never repeat nor skip."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlmodel import col, func, select

from engine.actions import apply_action
from engine.cases import create_case
from engine.errors import ExhortoError, InvalidInput, StaleVersion
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, Message
from tests.helpers import example, make_world


def race(*attempts: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(attempts))
    wins: list[object] = []
    losses: list[BaseException] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], object]) -> None:
        barrier.wait()
        try:
            result = attempt()
            with lock:
                wins.append(result)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            with lock:
                losses.append(error)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins, losses


def test_conflicting_actions_exactly_one_wins(db: Database) -> None:
    world = make_world(db)
    judge, supervisor = world.actor("CO-FGN", "judge"), world.actor("CO-FGN", "supervisor")
    for _ in range(5):
        case = world.new_request()
        world.act(case, "submit", "CO-FGN", "clerk")
        version = world.refresh(case).version
        events_before = world.counts()[0]
        wins, losses = race(
            lambda ref=case.reference, v=version: apply_action(db, case=ref, action="approve", actor=judge,
                                                               expected_version=v),
            lambda ref=case.reference, v=version: apply_action(db, case=ref, action="withdraw", actor=supervisor,
                                                               payload=example("withdrawal"), expected_version=v),
        )
        assert len(wins) == 1 and len(losses) == 1, losses
        assert isinstance(losses[0], StaleVersion)
        final = world.refresh(case)
        assert final.version == version + 1
        assert world.counts()[0] == events_before + 1
        with db.reader() as session:
            last = session.exec(select(AuditEvent).where(AuditEvent.case_id == final.id)
                                .order_by(col(AuditEvent.seq).desc())).first()
        assert last is not None and last.to_state == final.state


def test_same_action_twice_without_version_applies_once(db: Database) -> None:
    world = make_world(db)
    _, received = world.transmitted()
    clerk = world.actor("ES-MJ", "clerk")
    payload = example("acknowledgement")
    wins, losses = race(*[lambda: apply_action(db, case=received.reference, action="acknowledge", actor=clerk,
                                               payload=payload)] * 3)
    assert len(wins) == 1 and len(losses) == 2
    assert all(isinstance(e, ExhortoError) for e in losses)
    with db.reader() as session:
        acks = session.exec(select(func.count()).select_from(Message)
                            .where(Message.kind == "acknowledgement")).one()
    assert acks == 1


def test_references_are_gap_free_and_unique_under_concurrency(db: Database) -> None:
    world = make_world(db)
    clerk = world.actor("CO-FGN", "clerk")
    payload = example("request")
    attempts = [lambda: create_case(db, actor=clerk, counterpart="ES-MJ", payload=payload) for _ in range(8)]
    wins, losses = race(*attempts)
    assert losses == []
    # a failed creation must not consume a number
    with pytest.raises(InvalidInput):
        create_case(db, actor=clerk, counterpart="CO-FGN", payload=payload)
    create_case(db, actor=clerk, counterpart="ES-MJ", payload=payload)
    with db.reader() as session:
        refs = session.exec(select(Case.reference).where(Case.authority_code == "CO-FGN")).all()
    numbers = sorted(int(r.rsplit("/", 1)[1]) for r in refs)
    assert numbers == list(range(1, 10))
