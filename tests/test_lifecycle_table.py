"""The transition table itself: complete, consistent, and every pair outside it refused."""

from __future__ import annotations

import itertools

import pytest

from engine.actions import resolve
from engine.diagram import document, mermaid
from engine.errors import ActionNotAllowedInState, RoleNotAllowed, UnknownAction, WrongSide
from engine.guards import GUARDS
from engine.lifecycle import (
    ACTION_LABELS,
    ACTIONS,
    STAGES,
    STATE_LABELS,
    TRANSITIONS,
    Role,
    Side,
    State,
    available,
)
from engine.store.models import Case


def _case(state: State, side: Side) -> Case:
    return Case(id=1, exchange_id="x", authority_code="ES-MJ", side=side.value, reference="ES-MJ/2026/000001",
                counterpart_code="CO-FGN", state=state.value, payload={})


def test_every_state_is_in_exactly_one_stage_and_labelled() -> None:
    staged = [s for states in STAGES.values() for s in states]
    assert sorted(staged) == sorted(State)
    assert set(STATE_LABELS) == set(State)


def test_rows_are_unique_and_well_formed() -> None:
    keys = [(t.from_state, t.action, t.side) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))
    for t in TRANSITIONS:
        assert t.roles, t
        assert all(g in GUARDS for g in t.guards), t
        assert t.from_state not in (State.CLOSED, State.WITHDRAWN), "closure states are final"
        assert (Role.SYSTEM in t.roles) == t.action.startswith("record_"), t
    assert set(ACTIONS) == set(ACTION_LABELS)


def test_every_state_is_reachable_on_some_side() -> None:
    reached = {State.DRAFT, State.DELIVERED} | {t.to_state for t in TRANSITIONS}
    assert reached == set(State)


def test_refusal_withdrawal_and_postponement_require_reasons() -> None:
    for t in TRANSITIONS:
        if t.action in {"withdraw", "postpone", "send_back"}:
            assert "reasons_given" in t.guards, t
        if t.action == "refuse":
            assert "refusal_grounds_given" in t.guards
        if t.action == "approve":
            assert "four_eyes" in t.guards and Role.CLERK not in t.roles


@pytest.mark.parametrize("side", list(Side))
def test_every_pair_outside_the_table_is_refused(side: Side) -> None:
    allowed = {(t.from_state, t.action) for t in TRANSITIONS if t.side == side}
    other_side_only = {t.action for t in TRANSITIONS} - {t.action for t in TRANSITIONS if t.side == side}
    refused = 0
    for state, action in itertools.product(State, ACTIONS):
        if (state, action) in allowed:
            continue
        expected = WrongSide if action in other_side_only else ActionNotAllowedInState
        with pytest.raises(expected):
            resolve(_case(state, side), action, Role.SUPERVISOR)
        refused += 1
    assert refused == len(State) * len(ACTIONS) - len(allowed)


def test_every_row_resolves_to_itself_for_its_roles_and_refuses_other_roles() -> None:
    for t in TRANSITIONS:
        for role in Role:
            if role in t.roles:
                assert resolve(_case(t.from_state, t.side), t.action, role) == t
            else:
                with pytest.raises(RoleNotAllowed):
                    resolve(_case(t.from_state, t.side), t.action, role)


def test_unknown_action_lists_the_known_ones() -> None:
    with pytest.raises(UnknownAction, match="Known actions: submit"):
        resolve(_case(State.DRAFT, Side.REQUESTING), "teleport", Role.CLERK)


def test_available_actions_are_the_rows_from_that_state() -> None:
    assert {t.action for t in available(State.DELIVERED, Side.REQUESTED)} == {
        "acknowledge", "request_clarification", "refuse", "record_withdrawal"}


def test_diagram_shows_every_row() -> None:
    text = document()
    for t in TRANSITIONS:
        assert f"| {t.from_state.value} | `{t.action}` | {t.to_state.value} | {t.side.value} |" in text
        assert f"{t.from_state.value} --> {t.to_state.value} : {t.action}" in mermaid(t.side)
