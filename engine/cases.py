"""Creating and editing case records, allocating gap-free local references, and reading them back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from engine import audit, guards, system_fields
from engine.canonical import payload_hash
from engine.errors import CaseNotFound, FormInvalid, InvalidInput, MessageNotFound, RoleNotAllowed, StaleVersion
from engine.guards import Actor
from engine.ids import new_id
from engine.lifecycle import Role, Side, State
from engine.store.db import Database, connection_of
from engine.store.models import AuditEvent, Authority, Case, Message, ReferenceCounter, utcnow
from engine.store.queries import detached_case, load_authority, load_case
from engine.store.upsert import insert_ignore

DRAFTERS = frozenset({Role.CLERK, Role.JUDGE})

_COUNTERS = ReferenceCounter.__table__  # type: ignore[attr-defined]
_INSERT_CASE = Case.__table__.insert()  # type: ignore[attr-defined]
_INSERT_EVENT = AuditEvent.__table__.insert()  # type: ignore[attr-defined]
_NEXT_NUMBER = (  # built once; the row it bumps stays locked until the transaction ends
    _COUNTERS.update()
    .where(_COUNTERS.c.authority_code == bindparam("b_code"), _COUNTERS.c.year == bindparam("b_year"))
    .values(last=_COUNTERS.c.last + 1)
    .returning(_COUNTERS.c.last)
)


def allocate_reference(session: Session, authority: Authority, at: datetime) -> str:
    """Next ``CODE/YEAR/NNNNNN`` for the authority's local year. Runs in the caller's transaction, so a rolled-back
    case gives its number back: no gaps, and the row lock (PostgreSQL) or the write lock (SQLite) rules out
    duplicates."""
    year = at.astimezone(ZoneInfo(authority.timezone)).year
    key = {"b_code": authority.code, "b_year": year}
    number = session.execute(_NEXT_NUMBER, key).scalar()
    if number is None:  # the authority's first case this year
        insert_ignore(session, ReferenceCounter, {"authority_code": authority.code, "year": year, "last": 0})
        number = session.execute(_NEXT_NUMBER, key).scalar_one()
    return f"{authority.code}/{year}/{number:06d}"


def columns_from_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Case columns mirrored from the request form so that lists and deadlines need not parse payloads."""
    columns: dict[str, Any] = {}
    basis = payload.get("legal_basis")
    if isinstance(basis, Mapping) and isinstance(basis.get("instrument"), str):
        columns["legal_basis"] = basis["instrument"]
    urgency = payload.get("urgency")
    if isinstance(urgency, Mapping) and urgency.get("level") in ("normal", "urgent"):
        columns["urgency"] = urgency["level"]
    return columns


def _check_draft(payload: Mapping[str, Any], actor: Actor) -> str:
    from engine import forms

    forms.check_payload(payload, lang=actor.language)  # the input boundary first, then the schema
    errors = forms.validate("request", payload, complete=False, lang=actor.language)
    if errors:
        raise FormInvalid(form="request", errors=errors)
    return forms.schema_id("request")


def create_case(db: Database, *, actor: Actor, counterpart: str, payload: Mapping[str, Any] | None = None,
                now: datetime | None = None) -> Case:
    """Open a draft request on the requesting side of a new exchange."""
    now = now or utcnow()
    payload = dict(payload or {})
    if actor.role not in DRAFTERS:
        raise RoleNotAllowed(role=actor.role.value, action="create", allowed="clerk, judge")
    schema_id = _check_draft(payload, actor)
    with db.transaction() as session:
        owner = load_authority(session, actor.authority_code)
        requested = load_authority(session, counterpart)
        if counterpart == owner.code:
            raise InvalidInput(field="counterpart", reason="an authority cannot send a request to itself")
        reference = allocate_reference(session, owner, now)
        payload = system_fields.settle(payload, system_fields.system_values(system_fields.Facts(
            reference, None, owner, requested)), lang=actor.language)
        event = audit.opening_fields(reference, at=now, actor=actor.username, action="create",
                                     to_state=State.DRAFT.value, payload_hash=payload_hash(payload))
        # Two Core INSERTs, the chain head already in the case row: the busiest write of the API stays short.
        values = {"exchange_id": new_id(), "authority_code": owner.code, "side": Side.REQUESTING.value,
                  "reference": reference, "counterpart_code": counterpart, "counterpart_reference": None,
                  "state": State.DRAFT.value, "urgency": "normal", "legal_basis": None, "schema_id": schema_id,
                  "payload": payload, "created_by": actor.username, "submitted_by": None, "version": 1,
                  "audit_seq": event["seq"], "audit_head": event["hash"], "access_reads": 0, "created_at": now,
                  "updated_at": now,
                  **columns_from_payload(payload)}
        connection = connection_of(session)
        case_id = connection.execute(_INSERT_CASE, values).inserted_primary_key[0]
        connection.execute(_INSERT_EVENT, {**event, "case_id": case_id})
    return detached_case({**values, "id": case_id})


def update_draft(db: Database, *, case: int | str, actor: Actor, payload: Mapping[str, Any],
                 expected_version: int | None = None, now: datetime | None = None) -> Case:
    """Replace the request form of a case still in draft (incomplete forms are accepted; see submit)."""
    now = now or utcnow()
    payload = dict(payload)
    with db.transaction() as session:
        record = load_case(session, case, authority=actor.authority_code)
        guards.check(guards.UNIVERSAL_GUARDS, guards.GuardContext(record, actor, None, payload))  # type: ignore[arg-type]
        if actor.role not in DRAFTERS:
            raise RoleNotAllowed(role=actor.role.value, action="edit", allowed="clerk, judge")
        if record.state != State.DRAFT:
            raise InvalidInput(field="state", reason=f"only drafts can be edited; this case is {record.state}")
        if expected_version is not None and expected_version != record.version:
            raise StaleVersion(case=record.reference, expected=expected_version, actual=record.version)
        payload = system_fields.settle(payload, system_fields.system_values(system_fields.Facts(
            record.reference, record.counterpart_reference, load_authority(session, record.authority_code),
            load_authority(session, record.counterpart_code))), lang=actor.language)
        schema_id = _check_draft(payload, actor)
        values = {"payload": payload, "schema_id": schema_id, "version": record.version + 1, "updated_at": now,
                  **columns_from_payload(payload)}
        result = session.execute(update(Case).where(Case.id == record.id, Case.version == record.version)
                                 .values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleVersion(case=record.reference, expected=record.version, actual="newer")
        for key, value in values.items():
            setattr(record, key, value)
        audit.append(session, record, at=now, actor=actor.username, action="edit_draft",
                     from_state=record.state, to_state=record.state, payload_hash=payload_hash(payload))
    return record


def get_case(db: Database, case: int | str, *, actor: Actor | None = None) -> Case:
    with db.reader() as session:
        record = load_case(session, case, authority=actor.authority_code if actor is not None else None)
    if actor is not None:
        guards.check(guards.UNIVERSAL_GUARDS, guards.GuardContext(record, actor, None, {}))  # type: ignore[arg-type]
    return record


def list_cases(db: Database, *, authority: str, state: str | None = None, side: str | None = None,
               limit: int = 200) -> list[Case]:
    with db.reader() as session:
        query = select(Case).where(Case.authority_code == authority)
        if state:
            query = query.where(Case.state == state)
        if side:
            query = query.where(Case.side == side)
        return list(session.exec(query.order_by(col(Case.id).desc()).limit(limit)))


def history(db: Database, case: int | str, *, actor: Actor | None = None) -> list[AuditEvent]:
    record = get_case(db, case, actor=actor)
    with db.reader() as session:
        events = list(session.exec(select(AuditEvent).where(AuditEvent.case_id == record.id)
                                   .order_by(col(AuditEvent.seq))))
        return audit.readable(session, events)  # reasons kept beside the chain, put back for display


def messages(db: Database, case: int | str, *, actor: Actor | None = None) -> list[Message]:
    record = get_case(db, case, actor=actor)
    with db.reader() as session:
        return list(session.exec(select(Message).where(Message.case_id == record.id).order_by(col(Message.id))))


def case_of_message(db: Database, message_id: str, *, actor: Actor, case: int | str | None = None) -> Case:
    """The case a message belongs to, if it is the actor's authority's (and, with ``case``, if it is that case);
    otherwise the message "does not exist". On a hub one message has two rows, the sender's outbound and the
    recipient's inbound one, each on its own side's case: the actor's is the one that counts."""
    with db.reader() as session:
        wanted = load_case(session, case, authority=actor.authority_code) if case is not None else None
        rows = session.exec(select(Message).where(Message.message_id == message_id,
                                                  col(Message.case_id).is_not(None))).all()
        for message in rows:
            if wanted is not None and message.case_id != wanted.id:
                continue
            try:
                return load_case(session, message.case_id or 0, authority=actor.authority_code)
            except CaseNotFound:
                continue
        raise MessageNotFound(message=message_id)
