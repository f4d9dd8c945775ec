"""The background dispatcher runs when woken (an action just queued a message), not only at its interval; one
that only runs when woken (the web's own, interval None) starts on the first wake and stops cleanly."""

from __future__ import annotations

import time

from engine.api.dispatcher import BackgroundDispatcher
from engine.lifecycle import State
from engine.store.db import Database
from engine.store.models import Case
from tests.helpers import World, make_world, wait_for


def _queued(db: Database) -> tuple[World, Case]:
    """A request transmitted: its message queued, nothing dispatched."""
    world = make_world(db)
    case = world.new_request("CO-FGN", "ES-MJ")
    for action, role in (("submit", "clerk"), ("approve", "judge"), ("transmit", "clerk")):
        world.act(case, action, "CO-FGN", role)
    return world, case


def test_a_wake_delivers_now_and_an_idle_dispatcher_waits_for_it(sqlite_db: Database) -> None:
    world, case = _queued(sqlite_db)
    dispatcher = BackgroundDispatcher(sqlite_db, None)  # only when woken
    dispatcher.start()
    try:
        time.sleep(0.5)  # started, but an interval of None never runs on its own…
        assert world.refresh(case).state == State.TRANSMITTED
        dispatcher.wake()  # …a wake does, at once
        wait_for(lambda: world.refresh(case).state == State.DELIVERED, 30, "the request delivered", 0.1)
    finally:
        dispatcher.stop()
    assert not dispatcher._thread.is_alive()
    dispatcher.wake()  # a stopped dispatcher does not start again
    assert not dispatcher._thread.is_alive()


def test_a_long_interval_does_not_delay_a_woken_delivery(sqlite_db: Database) -> None:
    world, case = _queued(sqlite_db)
    dispatcher = BackgroundDispatcher(sqlite_db, 3600)
    dispatcher.wake()  # starts it, and runs it now rather than in an hour
    try:
        wait_for(lambda: world.refresh(case).state == State.DELIVERED, 30, "the request delivered", 0.1)
    finally:
        dispatcher.stop()
