"""Small read helpers shared by the engine's write paths."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, select

from engine.errors import AuthorityNotFound, CaseNotFound, UserNotFound
from engine.store.models import Authority, Case, User

_CASE_BY_REFERENCE = select(Case).where(Case.reference == bindparam("reference"))  # compiled once, reused


def load_case(session: Session, case: int | str) -> Case:
    """A case by numeric id or by local reference (``ES-MJ/2026/000123``)."""
    found: Case | None
    if isinstance(case, int) or (isinstance(case, str) and case.isdigit()):
        found = session.get(Case, int(case))
    else:
        found = session.exec(_CASE_BY_REFERENCE, params={"reference": case}).first()
    if found is None:
        raise CaseNotFound(case=str(case))
    return found


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
