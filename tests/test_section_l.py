"""EIO section L in the lifecycle: an order issued by an authority that is not a judge, court, investigating judge or
public prosecutor is approved by a judge for the validating judicial authority; an EIO only between two Member
States bound by the Directive. Real database, real lifecycle."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.errors import InstrumentNotApplicable, JudicialValidationRequired
from engine.store.db import Database
from tests.helpers import World, example, make_world

VALIDATION = {
    "authority_type": "investigating_judge",
    "authority": {"code": "FR-TJPARIS", "country": "FR", "name": "Tribunal judiciaire de Paris"},
    "main_contact": "validating",
    "signature": {"name": "Paul Lemoine", "position": "Juge d'instruction", "place": "Paris", "date": "2026-12-01"},
}


def _eio(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(example("request", "fr-es-eio-interception"))
    payload.update(changes)
    return payload


def _submitted(world: World, payload: dict[str, Any]) -> str:
    from engine.cases import create_case

    case = create_case(world.db, actor=world.actor("FR-MJ", "clerk"), counterpart="ES-MJ", payload=payload)
    world.act(case, "submit", "FR-MJ", "clerk")
    return case.reference


def test_other_competent_authority_needs_a_judge_for_section_l(db: Database) -> None:
    world = make_world(db)
    ref = _submitted(world, _eio(issuing_authority_type="other_competent_authority", validation=VALIDATION))
    before = world.counts()
    with pytest.raises(JudicialValidationRequired) as refused:
        world.act(ref, "approve", "FR-MJ", "supervisor")
    assert "section L" in refused.value.message("en") and "sección L" in refused.value.message("es")
    assert world.counts() == before  # nothing written
    assert world.act(ref, "approve", "FR-MJ", "judge").state == "approved"


def test_judicial_issuer_needs_no_validation(db: Database) -> None:
    world = make_world(db)
    ref = _submitted(world, _eio(issuing_authority_type="public_prosecutor"))
    assert world.act(ref, "approve", "FR-MJ", "supervisor").state == "approved"


def test_other_competent_authority_without_section_l_cannot_be_submitted(db: Database) -> None:
    from engine.cases import create_case
    from engine.errors import FormInvalid

    world = make_world(db)
    case = create_case(world.db, actor=world.actor("FR-MJ", "clerk"), counterpart="ES-MJ",
                       payload=_eio(issuing_authority_type="other_competent_authority"))
    with pytest.raises(FormInvalid) as refused:
        world.act(case, "submit", "FR-MJ", "clerk")
    assert [e.pointer for e in refused.value.errors] == ["/validation"]


def test_no_eio_outside_the_directive(db: Database) -> None:
    from engine.cases import create_case

    world = make_world(db)
    payload = _eio()
    del payload["requested_authority"]  # a system field: the engine fills it from the directory (MX-FGR)
    case = create_case(world.db, actor=world.actor("FR-MJ", "clerk"), counterpart="MX-FGR", payload=payload)
    with pytest.raises(InstrumentNotApplicable) as refused:
        world.act(case, "submit", "FR-MJ", "clerk")
    assert "MX" in refused.value.message("fr")
