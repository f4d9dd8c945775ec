"""Idempotent lifecycle actions: a client that retries with the same key gets the first answer, applied once.

The key row is inserted in the very transaction that moves the case, so "the key exists" and "the
transition happened" are one fact: a worker killed mid-transaction leaves neither, a worker killed after
COMMIT leaves both and the retry is answered from the stored response. A lost database connection is retried
here (the lookup first, so a COMMIT whose acknowledgement was lost is not applied twice); when the database
stays away the caller gets :class:`DatabaseUnavailable` — never a partial write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from engine.actions import Outcome, apply_in_session, prepare_outbound, with_system_fields
from engine.canonical import canonical_json, sha256_hex
from engine.errors import ExhortoError, InvalidInput
from engine.guards import Actor
from engine.i18n import N_
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.ops_models import IdempotencyKey
from engine.store.queries import load_case

log = logging.getLogger("exhorto.idempotency")

MAX_KEY_LENGTH = 200
RETRIES = 3  # attempts after a lost connection before giving up with DatabaseUnavailable
RETRY_PAUSE = 0.5  # seconds, doubled at each attempt


class DatabaseUnavailable(ExhortoError):
    code = "database_unavailable"
    template = N_("The database is not reachable right now. Reload the case to see whether the action was "
                  "applied, then try again (with an Idempotency-Key a retry is always safe).")


class IdempotencyKeyReused(ExhortoError):
    code = "idempotency_key_reused"
    template = N_("Idempotency key {key} was already used for a different request.")


@dataclass(frozen=True)
class Answer:
    """The response of an idempotent action; ``replayed``: stored by an earlier identical request."""

    response: dict[str, Any]
    replayed: bool


def check_key(key: str) -> str:
    """The key if usable: 1–200 visible ASCII characters (UUIDs are the usual choice)."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise InvalidInput(field="Idempotency-Key",
                           reason=f"use 1 to {MAX_KEY_LENGTH} visible ASCII characters")
    return key


_SAFE_INTEGER = 2**53  # canonical JSON (RFC 8785) refuses integers beyond ±(2^53−1)


def fingerprint(case_id: int, action: str, payload: Mapping[str, Any] | None,
                expected_version: int | None) -> str:
    # It is taken before the case is read: an id no case can have in JSON terms is hashed as its digits, and the
    # write path then answers "not found" instead of the encoder failing.
    case = case_id if -_SAFE_INTEGER < case_id < _SAFE_INTEGER else str(case_id)
    return sha256_hex(canonical_json({"case": case, "action": action, "payload": dict(payload or {}),
                                      "version": expected_version}))


def lost_connection(error: BaseException) -> bool:
    """A failure of the connection itself (server restarted, backend terminated, network), not of the SQL."""
    return isinstance(error, DBAPIError) and (error.connection_invalidated or type(error).__name__ in (
        "OperationalError", "InterfaceError"))


def _stored(session: Session, username: str, key: str) -> IdempotencyKey | None:
    return session.exec(select(IdempotencyKey).where(IdempotencyKey.username == username,
                                                     IdempotencyKey.key == key)).first()


def _replay(db: Database, username: str, key: str, digest: str) -> Answer | None:
    with db.reader() as session:
        row = _stored(session, username, key)
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise IdempotencyKeyReused(key=key)
    return Answer(response=row.response, replayed=True)


def act_once(db: Database, *, key: str | None, case: int, action: str, actor: Actor,
             payload: Mapping[str, Any] | None, expected_version: int | None,
             render: Callable[[Outcome], dict[str, Any]], now: datetime | None = None) -> Answer:
    """Apply ``action`` to ``case`` once per (actor, ``key``) and return ``render(outcome)``. With ``key``
    None the action is simply applied; a lost connection then ends in :class:`DatabaseUnavailable`."""
    from engine.forms import check_payload

    payload = check_payload(dict(payload or {}), lang=actor.language)  # the input boundary, before hashing
    payload = with_system_fields(db, case, action, payload, actor)  # authorities and references: the system's
    digest = ""  # the request's fingerprint, kept beside its key: a request without a key needs none
    if key is not None:
        check_key(key)
        digest = fingerprint(case, action, payload, expected_version)
    pause = RETRY_PAUSE
    for attempt in range(RETRIES + 1):
        try:
            if key is not None and (answer := _replay(db, actor.username, key, digest)) is not None:
                return answer
            return _apply(db, key=key, digest=digest, case=case, action=action, actor=actor, payload=payload,
                          expected_version=expected_version, render=render, now=now)
        except IntegrityError:
            # A concurrent request with the same key committed first: answer with what it stored.
            if key is not None and (answer := _replay(db, actor.username, key, digest)) is not None:
                return answer
            raise
        except ExhortoError:
            # e.g. StaleVersion because the same request just won on another worker: that is its answer.
            if key is not None and (answer := _replay(db, actor.username, key, digest)) is not None:
                return answer
            raise
        except DBAPIError as error:
            if not lost_connection(error):
                raise
            if key is None:
                # Without a key, a COMMIT whose acknowledgement was lost looks like a rollback: say so.
                break
            log.warning("database connection lost during %s (attempt %d of %d); retrying", action,
                        attempt + 1, RETRIES + 1)
            if attempt < RETRIES:
                time.sleep(pause)
                pause *= 2
    raise DatabaseUnavailable()


def _apply(db: Database, *, key: str | None, digest: str, case: int, action: str, actor: Actor,
           payload: Mapping[str, Any] | None, expected_version: int | None,
           render: Callable[[Outcome], dict[str, Any]], now: datetime | None) -> Answer:
    now = now or utcnow()
    prepared = prepare_outbound(db, case=case, action=action, actor=actor, payload=payload, now=now)
    with db.transaction() as session:
        record = load_case(session, case, authority=actor.authority_code, for_update=True)
        outcome = apply_in_session(session, record, action=action, actor=actor, payload=payload,
                                   expected_version=expected_version, now=now, prepared=prepared)
        response = render(outcome)
        if key is not None:
            session.add(IdempotencyKey(username=actor.username, key=key, request_sha256=digest,
                                       case_id=record.id, response=response, created_at=now))
            session.flush()
    return Answer(response=response, replayed=False)


def purge(db: Database, *, older_than: datetime) -> int:
    """Forget keys stored before ``older_than`` (clients retry within minutes; a day or a week is plenty)."""
    from sqlalchemy import delete

    with db.transaction() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


__all__ = ["Answer", "DatabaseUnavailable", "IdempotencyKeyReused", "act_once", "check_key", "purge"]
