"""Bearer tokens for the REST API: issued once in clear, stored as SHA-256 only, tied to one active user.

A verified token is remembered by the process for a short while (``EXHORTO_TOKEN_CACHE_SECONDS``, default 2 s;
0 turns it off), keyed on its hash, so that a busy client's requests do not each read the token table in a
worker thread of their own before their real work. The entry never outlives the token's expiry. A revocation
made by this process (:func:`revoke`) empties the memory at once; one made by another process (``exhorto token
revoke``) is seen within those seconds, as is a deactivated user. Failures are never remembered.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import col, select

from engine.errors import ExhortoError, InvalidInput
from engine.guards import Actor
from engine.i18n import N_
from engine.lifecycle import Role
from engine.store.db import Database, connection_of
from engine.store.federation_models import ApiToken
from engine.store.models import User, utcnow
from engine.store.queries import load_user

PREFIX = "exh_"
DAYS_ENV = "EXHORTO_TOKEN_DAYS"
DEFAULT_DAYS = 90


def default_validity() -> timedelta:
    """How long a token lives when the issuer does not say: ``EXHORTO_TOKEN_DAYS`` (default 90) days."""
    raw = os.environ.get(DAYS_ENV, "")
    days = int(raw) if raw.strip().isdigit() else DEFAULT_DAYS
    return timedelta(days=days if days > 0 else DEFAULT_DAYS)


class InvalidToken(ExhortoError):
    code = "invalid_token"
    template = N_("The API token is missing, unknown, expired or revoked.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db: Database, username: str, *, label: str = "", valid_for: timedelta | None = None,
          now: datetime | None = None) -> tuple[str, ApiToken]:
    """A new token for ``username``: (the clear token — shown once, never stored —, its row). Every token
    expires: after ``valid_for``, or :func:`default_validity`."""
    now = now or utcnow()
    if valid_for is None:
        valid_for = default_validity()
    if valid_for <= timedelta(0):
        raise InvalidInput(field="days", reason="a token must expire after a positive number of days")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        load_user(session, username)
        row = ApiToken(token_hash=token_hash(token), prefix=token[:12], username=username, label=label,
                       created_at=now, expires_at=now + valid_for)
        session.add(row)
    return token, row


_TOKENS, _USERS = ApiToken.__table__, User.__table__  # type: ignore[attr-defined]
# One prebuilt Core query: this runs on every API request.
_BY_HASH = (
    select(_USERS.c.username, _USERS.c.authority_code, _USERS.c.role, _USERS.c.preferred_language,
           _USERS.c.active, _TOKENS.c.revoked_at, _TOKENS.c.expires_at)
    .join_from(_TOKENS, _USERS, _USERS.c.username == _TOKENS.c.username)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


CACHE_ENV = "EXHORTO_TOKEN_CACHE_SECONDS"
DEFAULT_CACHE_SECONDS = 2.0
_MAX_REMEMBERED = 10_000
# (database URL, token hash) -> (actor, the token's expiry, monotonic time until which the answer is reused): a
# token of one node's database is never taken for another's, even where two nodes share a process (tests, hubs).
_verified: dict[tuple[str, str], tuple[Actor, datetime | None, float]] = {}
_clock = time.monotonic  # tests move it forward


def cache_seconds() -> float:
    """How long a verified token is reused without reading the database: ``EXHORTO_TOKEN_CACHE_SECONDS``."""
    raw = os.environ.get(CACHE_ENV)
    if raw is None:
        return DEFAULT_CACHE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_CACHE_SECONDS
    return seconds if 0 <= seconds <= 60 else DEFAULT_CACHE_SECONDS


def forget_verified() -> None:
    """Empty the memory of verified tokens: the next request of every token reads the database again."""
    _verified.clear()


def remembered(db: Database, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """The actor of ``token`` if this process verified it against ``db`` moments ago and it has not expired
    since; None otherwise (then :func:`authenticate` decides). No I/O: the API calls it on its event loop."""
    if not token:
        return None
    entry = _verified.get((db.url, token_hash(token)))
    if entry is None:
        return None
    actor, expires_at, fresh_until = entry
    if _clock() >= fresh_until or (expires_at is not None and expires_at <= (now or utcnow())):
        return None
    return actor


def authenticate(db: Database, token: str | None, *, now: datetime | None = None) -> Actor:
    """The acting user of a valid token, or :class:`InvalidToken` (the same answer whatever the cause)."""
    now = now or utcnow()
    if not token or not token.startswith(PREFIX):
        raise InvalidToken()
    if (actor := remembered(db, token, now=now)) is not None:
        return actor
    digest = token_hash(token)
    with db.reader() as session:
        found = connection_of(session).execute(_BY_HASH, {"token_hash": digest}).first()
    if found is None:
        raise InvalidToken()
    if not found.active or found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= now):
        _verified.pop((db.url, digest), None)
        raise InvalidToken()
    actor = Actor(username=found.username, authority_code=found.authority_code, role=Role(found.role),
                  language=found.preferred_language)
    if (seconds := cache_seconds()) > 0:
        if len(_verified) >= _MAX_REMEMBERED:
            _verified.clear()
        _verified[(db.url, digest)] = (actor, found.expires_at, _clock() + seconds)
    return actor


def revoke(db: Database, prefix: str, *, now: datetime | None = None) -> int:
    """Revoke the tokens starting with ``prefix`` (as listed); returns how many."""
    if len(prefix) < 8:
        raise InvalidInput(field="prefix", reason="give at least 8 characters of the token")
    with db.transaction() as session:
        rows = session.exec(select(ApiToken).where(col(ApiToken.prefix).startswith(prefix[:12]),
                                                   col(ApiToken.revoked_at).is_(None))).all()
        for row in rows:
            row.revoked_at = now or utcnow()
            session.add(row)
    forget_verified()  # refused at once by this process; other processes within cache_seconds()
    return len(rows)


def list_tokens(db: Database, username: str | None = None) -> list[ApiToken]:
    with db.reader() as session:
        query = select(ApiToken).order_by(col(ApiToken.id))
        if username:
            query = query.where(ApiToken.username == username)
        return list(session.exec(query))
