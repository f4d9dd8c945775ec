"""Reads for the command line's quick listings with SQLAlchemy Core only.

Importing the ORM (SQLModel, pydantic, every table class) is most of a command's start-up; ``exhorto case list``
needs two tables and a few columns, so it reads them through lightweight table clauses here (issue 19). The
answers and errors are those of :func:`engine.directory.actor_for` and :func:`engine.cases.list_cases`;
tests/store/test_core_reads.py checks both against the models and the ORM functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import column, select, table

from engine.errors import InvalidInput, UserNotFound
from engine.store.db import Database

USERS = table("user", column("username"), column("authority_code"), column("active"))
CASES = table("case", column("id"), column("authority_code"), column("reference"), column("side"),
              column("counterpart_code"), column("state"), column("version"), column("urgency"))


def acting_authority(db: Database, username: str) -> str:
    """The authority of a registered, active user (refused as :func:`engine.directory.actor_for` refuses)."""
    with db.read_connection() as connection:
        row = connection.execute(select(USERS.c.authority_code, USERS.c.active)
                                 .where(USERS.c.username == username)).first()
    if row is None:
        raise UserNotFound(user=username)
    if not row.active:
        raise InvalidInput(field="user", reason=f"{username} is deactivated")
    return str(row.authority_code)


def case_rows(db: Database, *, authority: str, state: str | None = None, side: str | None = None,
              limit: int = 200) -> Sequence[Any]:
    """The authority's cases, newest first, with the columns of a listing (as :func:`engine.cases.list_cases`)."""
    query = select(CASES).where(CASES.c.authority_code == authority)
    if state:
        query = query.where(CASES.c.state == state)
    if side:
        query = query.where(CASES.c.side == side)
    with db.read_connection() as connection:
        return connection.execute(query.order_by(CASES.c.id.desc()).limit(limit)).all()
