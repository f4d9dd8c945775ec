"""Every way an action can be refused raises its own error and leaves state, audit log and outbox untouched."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.actions import apply_action
from engine.cases import create_case, update_draft
from engine.errors import (
    ActionNotAllowedInState,
    CaseNotFound,
    ExhortoError,
    ForeignCase,
    FormInvalid,
    InvalidInput,
    ReasonsRequired,
    RefusalGroundsRequired,
    RoleNotAllowed,
    SelfApproval,
    StaleVersion,
    UnknownAction,
    WrongSide,
)
from engine.guards import Actor
from engine.lifecycle import Role
from engine.store.db import Database
from tests.helpers import World, example, make_world


@pytest.fixture
def world(db: Database) -> World:
    return make_world(db)


def assert_refused(world: World, error: type[ExhortoError], attempt: Callable[[], object]) -> ExhortoError:
    before = world.counts()
    with pytest.raises(error) as caught:
        attempt()
    assert world.counts() == before
    assert caught.value.message("es") and caught.value.message("en")
    return caught.value


def test_refusals_each_say_why_and_write_nothing(world: World) -> None:
    db = world.db
    case = world.new_request()
    clerk, judge = world.actor("CO-FGN", "clerk"), world.actor("CO-FGN", "judge")

    def act(action: str, actor: Actor, payload: dict[str, object] | None = None,
            version: int | None = None, ref: str = case.reference) -> Callable[[], object]:
        return lambda: apply_action(db, case=ref, action=action, actor=actor, payload=payload,
                                    expected_version=version)

    assert_refused(world, UnknownAction, act("teleport", clerk))
    assert_refused(world, ActionNotAllowedInState, act("transmit", clerk))
    assert_refused(world, WrongSide, act("acknowledge", clerk))
    assert_refused(world, CaseNotFound, act("submit", clerk, ref="CO-FGN/2026/999999"))
    assert_refused(world, ForeignCase, act("submit", world.actor("ES-MJ", "clerk")))
    assert_refused(world, StaleVersion, act("submit", clerk, version=case.version + 5))
    assert_refused(world, ReasonsRequired, act("withdraw", judge, {"reasons": "   "}))
    assert_refused(world, RoleNotAllowed, act("withdraw", world.actor("CO-FGN", "auditor"), {"reasons": "x"}))

    world.act(case, "submit", "CO-FGN", "judge")  # the judge drafted and submitted it …
    error = assert_refused(world, SelfApproval, act("approve", judge))  # … so she may not approve it
    assert "co.judge" in error.message("pt")
    assert_refused(world, RoleNotAllowed, act("approve", clerk))
    world.act(case, "approve", "CO-FGN", "supervisor")
    world.act(case, "transmit", "CO-FGN", "clerk")

    from engine.outbox import dispatch_all

    dispatch_all(db)
    received = world.counterpart(case)
    es_judge = world.actor("ES-MJ", "judge")
    assert_refused(world, RefusalGroundsRequired,
                   act("refuse", es_judge, {**example("refusal"), "grounds": []}, ref=received.reference))
    assert_refused(world, FormInvalid, act("acknowledge", world.actor("ES-MJ", "clerk"),
                                           {"received_at": "yesterday"}, ref=received.reference))


def test_incomplete_request_can_be_saved_but_not_submitted(world: World) -> None:
    clerk = world.actor("CO-FGN", "clerk")
    draft = create_case(world.db, actor=clerk, counterpart="ES-MJ", payload={"language": "es"})
    error = assert_refused(world, FormInvalid,
                           lambda: apply_action(world.db, case=draft.reference, action="submit", actor=clerk))
    assert isinstance(error, FormInvalid) and len(error.errors) > 3  # all problems at once
    saved = update_draft(world.db, case=draft.reference, actor=clerk, payload=example("request"),
                         expected_version=draft.version)
    assert saved.version == draft.version + 1 and saved.legal_basis
    assert apply_action(world.db, case=draft.reference, action="submit", actor=clerk).case.state == \
        "pending_approval"


def test_bad_draft_input_is_refused_with_the_field(world: World) -> None:
    clerk = world.actor("CO-FGN", "clerk")
    with pytest.raises(FormInvalid) as caught:
        create_case(world.db, actor=clerk, counterpart="ES-MJ", payload={"urgency": {"level": "whenever"}})
    assert caught.value.errors[0].pointer.startswith("/urgency")
    assert_refused(world, InvalidInput, lambda: create_case(world.db, actor=clerk, counterpart="CO-FGN"))
    assert_refused(world, RoleNotAllowed, lambda: create_case(
        world.db, actor=Actor("x", "CO-FGN", Role.AUDITOR), counterpart="ES-MJ"))
