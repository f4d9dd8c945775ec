"""`exhorto case list` reads with SQLAlchemy Core only (engine/store/core_reads.py): same rows and same refusals
as the ORM functions it stands in for, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import update

from engine import directory
from engine.cases import list_cases
from engine.errors import InvalidInput, UserNotFound
from engine.seed import demo_username
from engine.store import core_reads
from engine.store.db import Database
from engine.store.models import Case, User
from tests.helpers import make_world

LISTED = ("id", "authority_code", "reference", "side", "counterpart_code", "state", "version", "urgency")


def test_the_light_tables_name_real_columns() -> None:
    # A renamed column of the models would otherwise only fail at run time.
    assert {c.name for c in core_reads.CASES.c} <= {c.name for c in Case.__table__.c}  # type: ignore[attr-defined]
    assert {c.name for c in core_reads.USERS.c} <= {c.name for c in User.__table__.c}  # type: ignore[attr-defined]


def test_case_rows_are_list_cases(db: Database) -> None:
    world = make_world(db)
    made = [world.new_request() for _ in range(3)]
    world.act(made[1], "submit", "CO-FGN", "clerk")
    world.new_request("ES-MJ", "CO-FGN")  # another authority's: never listed for CO-FGN
    authority = core_reads.acting_authority(db, demo_username("CO-FGN", "clerk"))
    assert authority == "CO-FGN"
    for state, side in ((None, None), ("draft", None), ("pending_approval", "requesting"), (None, "requested")):
        rows = core_reads.case_rows(db, authority=authority, state=state, side=side)
        cases = list_cases(db, authority=authority, state=state, side=side)
        assert [tuple(getattr(r, k) for k in LISTED) for r in rows] == \
               [tuple(getattr(c, k) for k in LISTED) for c in cases]
    assert len(core_reads.case_rows(db, authority=authority)) == 3
    assert len(core_reads.case_rows(db, authority=authority, state="pending_approval")) == 1


def test_acting_authority_refuses_as_actor_for(db: Database) -> None:
    make_world(db)
    with pytest.raises(UserNotFound):
        core_reads.acting_authority(db, "nobody")
    clerk = demo_username("ES-MJ", "clerk")
    with db.transaction() as session:
        session.execute(update(User).where(User.username == clerk).values(active=False))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as light:
        core_reads.acting_authority(db, clerk)
    with pytest.raises(InvalidInput) as orm:
        directory.actor_for(db, clerk)
    assert light.value.message("en") == orm.value.message("en")
