"""Small read helpers shared by the engine's write paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from engine.errors import AuthorityNotFound, CaseNotFound, ForeignCase, UserNotFound
from engine.store import driver
from engine.store.db import connection_of
from engine.store.models import Authority, Case, User

_CASES = Case.__table__  # type: ignore[attr-defined]
# Compiled once, reused: the hot path only binds a value.
_CASE_BY_ID = _CASES.select().where(_CASES.c.id == bindparam("key"))
_CASE_BY_REFERENCE = _CASES.select().where(_CASES.c.reference == bindparam("key"))
_COLUMNS = [column.key for column in _CASES.c]
# PostgreSQL: FOR NO KEY UPDATE, the lock the transition's UPDATE takes anyway, only earlier. Not FOR UPDATE: that
# one also waits for every transaction inserting a row that references the case (a foreign key check takes KEY
# SHARE). SQLite's BEGIN IMMEDIATE already serializes writers, and its dialect omits the clause.
_LOCKED = {statement: statement.with_for_update(key_share=True) for statement in (_CASE_BY_ID, _CASE_BY_REFERENCE)}


def load_case(session: Session, case: int | str, *, authority: str | None = None, for_update: bool = False) -> Case:
    """A case by numeric id or by local reference (``ES-MJ/2026/000123``).

    With ``authority`` (the acting user's), another authority's case raises :class:`ForeignCase`, which says
    exactly what :class:`CaseNotFound` says for the identifier asked: the one authorization check every entry
    point (CLI, API, web, PDF, attachments) goes through before anything else.

    Every lifecycle action starts here, and the ORM's query machinery costs more than the rest of a transition:
    the row is read with one Core SELECT on the transaction's connection and returned *detached*, as if freshly
    loaded (no pending changes). Reading it needs no session; a caller that changes it ``session.add``-s it, as
    :func:`engine.audit.append` does. As with ``Session.get``, an instance the session already holds is returned
    as it is.

    ``for_update``: the write path of a transition locks the row as it reads it. Writers of one case then queue on
    the lock and each decides on the state the previous one committed, instead of all reading the same version
    and all but one failing at the compare-and-set UPDATE (StaleVersion) after doing the work; on a busy case
    that is the difference between most writes succeeding and most being retried. The compare-and-set stays.
    This locked read runs on the driver's cursor (engine.store.driver: the same SQL and values, without
    SQLAlchemy's per-execution work)."""
    by_id = isinstance(case, int) or case.isdigit()
    statement = _CASE_BY_ID if by_id else _CASE_BY_REFERENCE
    if for_update:
        statement = _LOCKED[statement]
    connection = connection_of(session)
    key = {"key": int(case) if by_id else case}
    row: Mapping[str, Any] | None
    if for_update:  # the transition's hot path (engine.store.driver)
        found = driver.compiled(statement, connection.dialect).first(connection, key)
        row = None if found is None else dict(zip(_COLUMNS, found, strict=True))
    else:
        row = connection.execute(statement, key).mappings().first()
    if row is None:
        raise CaseNotFound(case=str(case))
    if authority is not None and row["authority_code"] != authority:
        raise ForeignCase(case=str(case))
    held = session.identity_map.get(identity_key(Case, row["id"]))
    return held if held is not None else detached_case(row)  # type: ignore[no-any-return]


def detached_case(row: Mapping[str, Any]) -> Case:
    """A case built from its column values, detached "as freshly loaded": no validation, no pending changes."""
    record: Case = manager_of_class(Case).new_instance()  # what the ORM's loader builds: no validation
    record.__dict__.update(row)
    make_transient_to_detached(record)  # identity set, attribute history reset: as freshly loaded
    return record


def load_authority(session: Session, code: str) -> Authority:
    found = session.get(Authority, code)
    if found is None:
        raise AuthorityNotFound(authority=code)
    return found


def load_user(session: Session, username: str) -> User:
    found = session.exec(select(User).where(User.username == username)).first()
    if found is None:
        raise UserNotFound(user=username)
    return found
