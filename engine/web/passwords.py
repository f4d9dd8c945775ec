"""Password login for the web UI: Argon2id hashes on the user row, never the password itself.

No FastAPI here: the CLI (``exhorto user passwd``) and the web login share these functions.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import select

from engine.errors import InvalidInput
from engine.i18n import N_
from engine.store.db import Database
from engine.store.models import User, utcnow
from engine.store.queries import load_user

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing cost grows with the input: refuse absurd inputs before hashing


class WeakPassword(InvalidInput):
    code = "weak_password"
    template = N_("The password must have between {min} and {max} characters.")


COST_ENV = "EXHORTO_PASSWORD_COST"


@cache
def _hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes). ``EXHORTO_PASSWORD_COST=test`` picks
    the cheapest parameters, for test suites only (such hashes are upgraded at the next real login)."""
    if os.environ.get(COST_ENV) == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


# Verifying against this when the user does not exist costs as much as a real check: response times do not
# tell which user names exist.
@cache
def _dummy_hash() -> str:
    return _hasher().hash("exhorto: no such user")


def hash_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(min=MIN_LENGTH, max=MAX_LENGTH)
    return _hasher().hash(password)


def set_password(db: Database, username: str, password: str) -> None:
    """Set (or replace) the password of an existing user; existing web sessions of that user end."""
    hashed = hash_password(password)
    with db.transaction() as session:
        user = load_user(session, username)
        user.password_hash = hashed
        session.add(user)


def revoke_sessions(db: Database, username: str, *, now: datetime | None = None) -> None:
    """End every open web session of the user (on logout): cookies signed before now no longer log in."""
    with db.transaction() as session:
        user = load_user(session, username)
        user.sessions_revoked_at = now or utcnow()
        session.add(user)


def check_login(db: Database, username: str, password: str) -> User | None:
    """The active user whose password this is, or None (unknown user, no password set, wrong password)."""
    with db.reader() as session:
        user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    stored = user.password_hash if user is not None else None
    try:
        _hasher().verify(stored or _dummy_hash(), password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not user.active:
        return None
    if _hasher().check_needs_rehash(stored):
        set_password(db, user.username, password)
        with db.reader() as session:  # the session fingerprint must see the new hash
            user = session.exec(select(User).where(User.username == user.username)).one()
    return user
