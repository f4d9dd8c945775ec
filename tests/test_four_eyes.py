"""Four-eyes that means it: the approver differs from the creator, the submitter and every user who edited the
draft since it was last sent back (the editors are read from the audit trail)."""

from __future__ import annotations

import pytest

from engine.actions import apply_action
from engine.cases import create_case, history, update_draft
from engine.errors import SelfApproval
from engine.lifecycle import State
from engine.store.db import Database
from tests.helpers import World, example, make_world


@pytest.fixture
def world(sqlite_db: Database) -> World:
    return make_world(sqlite_db)


def _approve(world: World, case: str, role: str) -> State:
    return State(apply_action(world.db, case=case, action="approve", actor=world.actor("CO-FGN", role)).case.state)


def test_a_judge_who_created_the_draft_cannot_approve_it(world: World) -> None:
    case = create_case(world.db, actor=world.actor("CO-FGN", "judge"), counterpart="ES-MJ",
                       payload=example("request", "co-es-bank-records"))
    world.act(case, "submit", "CO-FGN", "clerk")
    before = world.counts()
    with pytest.raises(SelfApproval):
        _approve(world, case.reference, "judge")
    assert world.counts() == before
    assert _approve(world, case.reference, "supervisor") == State.APPROVED


def test_an_editor_of_the_draft_cannot_approve_it(world: World) -> None:
    case = world.new_request()
    update_draft(world.db, case=case.reference, actor=world.actor("CO-FGN", "judge"),
                 payload=example("request", "co-es-bank-records"))
    world.act(case, "submit", "CO-FGN", "clerk")
    with pytest.raises(SelfApproval) as refused:
        _approve(world, case.reference, "judge")
    assert "co.judge" in refused.value.message("en")
    assert [(e.actor, e.action) for e in history(world.db, case.reference)][:2] == [
        ("co.clerk", "create"), ("co.judge", "edit_draft")]  # the editor is in the audit trail


def test_the_submitter_cannot_approve(world: World) -> None:
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "judge")
    with pytest.raises(SelfApproval):
        _approve(world, case.reference, "judge")


def test_edits_before_the_last_send_back_do_not_count(world: World) -> None:
    case = world.new_request()
    update_draft(world.db, case=case.reference, actor=world.actor("CO-FGN", "judge"),
                 payload=example("request", "co-es-bank-records"))
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "send_back", "CO-FGN", "supervisor")
    update_draft(world.db, case=case.reference, actor=world.actor("CO-FGN", "clerk"),
                 payload=example("request", "co-es-bank-records"))
    world.act(case, "submit", "CO-FGN", "clerk")
    assert _approve(world, case.reference, "judge") == State.APPROVED
