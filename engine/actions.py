"""The single entry point that moves a case: check, then write state + audit + outbound message atomically."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from engine import audit, guards
from engine.canonical import payload_hash
from engine.errors import (
    ActionNotAllowedInState,
    ExhortoError,
    FormInvalid,
    RoleNotAllowed,
    StaleVersion,
    UnknownAction,
    WrongSide,
)
from engine.guards import Actor, GuardContext
from engine.ids import new_id
from engine.lifecycle import ACTIONS, TRANSITIONS, Role, Transition, available, transitions_for
from engine.store import driver
from engine.store.db import Database, connection_of
from engine.store.models import AuditEvent, AuditText, Case, Message, utcnow
from engine.store.queries import load_case

if TYPE_CHECKING:
    from engine.documents import Prerendered

# Payload fields worth keeping in the audit detail: the "why" of a decision, never personal data.
_AUDITED_FIELDS = ("reasons", "grounds", "ground", "report_type", "expected_until")


@dataclass(frozen=True)
class Outcome:
    case: Case
    event: AuditEvent
    message: Message | None


def resolve(case: Case, action: str, role: Role) -> Transition:
    """The table row for ``action`` on ``case`` by ``role``, or the error that says why there is none."""
    rows = transitions_for(action)
    if not rows:
        raise UnknownAction(action=action, known=", ".join(ACTIONS))
    on_side = [r for r in rows if r.side == case.side]
    if not on_side:
        raise WrongSide(action=action, expected=rows[0].side.value, side=case.side)
    row = next((r for r in on_side if r.from_state == case.state), None)
    if row is None:
        allowed = sorted({t.action for t in available(case.state, case.side) if role in t.roles})
        raise ActionNotAllowedInState(action=action, state=case.state, allowed=", ".join(allowed) or "-")
    if role not in row.roles:
        allowed_roles = ", ".join(sorted(r.value for r in row.roles))
        raise RoleNotAllowed(role=role.value, action=action, allowed=allowed_roles)
    return row


def apply_action(db: Database, *, case: int | str, action: str, actor: Actor,
                 payload: Mapping[str, Any] | None = None, expected_version: int | None = None,
                 now: datetime | None = None, defer_document: bool = False) -> Outcome:
    """Apply one lifecycle action in its own transaction. Raises an :class:`~engine.errors.ExhortoError`
    subclass (and writes nothing) when the action is not allowed.

    ``defer_document``: the PDF of the message the action sends is not rendered here but by the dispatcher,
    before it first delivers the message (:func:`engine.outbox.prepare_document`); the caller answers at once."""
    now = now or utcnow()
    payload = with_system_fields(db, case, action, _accepted(payload, actor), actor)
    prepared = (None if defer_document else
                prepare_outbound(db, case=case, action=action, actor=actor, payload=payload, now=now))
    with db.transaction() as session:
        record = load_case(session, case, authority=actor.authority_code, for_update=True)
        return apply_in_session(session, record, action=action, actor=actor, payload=payload,
                                expected_version=expected_version, now=now, prepared=prepared,
                                defer_document=defer_document, ends_transaction=True)


def _accepted(payload: Mapping[str, Any] | None, actor: Actor) -> dict[str, Any]:
    """The input boundary (depth, number range, size, object) before anything is read or hashed."""
    from engine.forms import check_payload

    if payload is None:
        return {}
    return check_payload(dict(payload) if isinstance(payload, Mapping) else payload, lang=actor.language)


_WITH_FORM = frozenset(action for action in ACTIONS if any(row.form for row in transitions_for(action)))


def with_system_fields(db: Database, case: int | str, action: str, payload: dict[str, Any],
                       actor: Actor) -> dict[str, Any]:
    """``payload`` with the references and authorities the system knows (engine.system_fields) filled in; a
    payload contradicting them is refused with a field error. Left as given when the action has no form here
    (the write path then says why it is refused). Every local entry point calls it before the outbound message
    is rendered; messages from the counterpart (the inbox) were settled by its node."""
    from engine import system_fields

    if action not in _WITH_FORM:
        return payload  # no form to settle: skip reading the case a second time (a third of a transition's cost)
    with db.reader() as session:
        record = load_case(session, case, authority=actor.authority_code)
        form = next((row.form for row in transitions_for(action) if row.side == record.side and row.form), None)
        if form is None:
            return payload
        values = system_fields.system_values(system_fields.facts_of(session, record), form)
    return system_fields.settle(payload, values, lang=actor.language, form=form)


_SENDING = frozenset(action for action in ACTIONS if any(row.sends for row in transitions_for(action)))


@dataclass(frozen=True)
class Prepared:
    """The outbound message of an action, made ready before its write transaction: valid for that action on
    that version of the case only (anything else is rendered again inside the transaction)."""

    case_id: int
    version: int
    action: str
    message_id: str
    document: Prerendered


def prepare_outbound(db: Database, *, case: int | str, action: str, actor: Actor,
                     payload: Mapping[str, Any] | None, now: datetime) -> Prepared | None:
    """Render the PDF an action will send *before* its write transaction: rendering takes ~0.1–0.5 s, and inside
    the transaction it would hold the database's write lock (SQLite: every other writer waits) that long.

    Reads only. None when the action sends nothing, PDFs are off, or the action would be refused anyway (the
    write path then reports why)."""
    if action not in _SENDING:
        return None
    from engine import documents

    if not documents.attach_on_send():
        return None
    body = dict(payload or {})
    with db.reader() as session:
        try:
            record = load_case(session, case)
            row = admissible(record, action, actor, body)
        except ExhortoError:
            return None
        if row.sends is None:
            return None
        message = _outbound(record, row, body, now, None)
        request = documents.outbound_rendering(session, record, message)
    assert record.id is not None
    return Prepared(case_id=record.id, version=record.version, action=action, message_id=message.message_id,
                    document=documents.Prerendered(request=request, pdf=documents.render_signed(db, request)))


def admissible(case: Case, action: str, actor: Actor, payload: Mapping[str, Any],
               expected_version: int | None = None, drafters: frozenset[str] = frozenset()) -> Transition:
    """The table row that ``action`` by ``actor`` takes on ``case`` as read, after every check that needs no
    write: the owner, the version read, the row, its guards, the action's form. Raises the error that says why
    not."""
    guards.check(guards.UNIVERSAL_GUARDS, _context(case, actor, None, payload))
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion(case=case.reference, expected=expected_version, actual=case.version)
    row = resolve(case, action, actor.role)
    guards.check(row.guards, GuardContext(case=case, actor=actor, transition=row, payload=payload,
                                          drafters=drafters))
    if row.form is not None:
        from engine import forms

        errors = forms.validate(row.form, payload, complete=True, lang=actor.language)
        if errors:
            raise FormInvalid(form=row.form, errors=errors)
    return row


def apply_in_session(session: Session, case: Case, *, action: str, actor: Actor,
                     payload: Mapping[str, Any] | None = None, expected_version: int | None = None,
                     now: datetime | None = None, in_reply_to: str | None = None,
                     prepared: Prepared | None = None, defer_document: bool = False,
                     ends_transaction: bool = False) -> Outcome:
    """Apply an action inside the caller's transaction (used by the inbox to apply counterpart messages).
    ``prepared`` (:func:`prepare_outbound`) is used when it was made for this action on this very version;
    ``defer_document`` leaves the message's PDF to the dispatcher (``Message.document_pending``).

    ``ends_transaction``: the caller writes nothing after this and commits the transaction as it returns
    (:func:`apply_action`). When the move is then the transaction's last write (no message, no clock), it is
    committed with the move itself (:func:`_move`)."""
    now = now or utcnow()
    if prepared is not None and (prepared.case_id, prepared.version, prepared.action) != (case.id, case.version,
                                                                                           action):
        prepared = None
    payload = dict(payload or {})
    drafters = drafters_since_sent_back(session, case) if action in _FOUR_EYES else frozenset()
    row = admissible(case, action, actor, payload, expected_version, drafters)
    detail = {k: payload[k] for k in _AUDITED_FIELDS if k in payload}
    message = (_outbound(case, row, payload, now, in_reply_to, prepared.message_id if prepared else None)
               if row.sends else None)
    if message is not None:
        detail["message_id"] = message.message_id
    fields, texts = audit.event_fields(case, at=now, actor=actor.username, action=action,
                                       from_state=row.from_state, to_state=row.to_state,
                                       payload_hash=payload_hash(payload) if payload else None, detail=detail)
    from engine import deadlines

    # Asked once here: the answer decides whether the move is the transaction's last write, and whether the clocks
    # need looking at after it (on_transition would otherwise ask again on every move).
    clocks = deadlines.moves_clocks(case, row.action, row.to_state)
    last = ends_transaction and message is None and not clocks
    inserted = _move(session, case, row, actor, fields, texts, now, commit=last and not _pending(session))
    # A plain record of what was just written (the ORM never needs to track it).
    event = AuditEvent.model_construct(id=inserted, **fields)
    if message is not None:
        from engine.documents import attach_on_send, attach_outbound_document

        if defer_document:  # the dispatcher renders, signs and lists it before the first delivery attempt
            message.document_pending = attach_on_send()
        else:  # its PDF, kept with the case and listed as attachment
            attach_outbound_document(session, case, message, prepared.document if prepared else None)
        _insert(session, message)
        from engine import evidence

        evidence.record(session, "SubmissionAcceptance", message, issuer=message.sender_code, at=now)
    if clocks:
        deadlines.on_transition(session, case, row.action, row.from_state, row.to_state, now)
    return Outcome(case=case, event=event, message=message)


_FOUR_EYES = frozenset(t.action for t in TRANSITIONS if "four_eyes" in t.guards)
_DRAFTING = frozenset({"create", "edit_draft", "submit"})


def drafters_since_sent_back(session: Session, case: Case) -> frozenset[str]:
    """Who created, edited or submitted the draft since it was last sent back, read from the audit trail."""
    events = session.execute(select(AuditEvent.actor, AuditEvent.action).where(AuditEvent.case_id == case.id)
                             .order_by(AuditEvent.seq)).all()  # type: ignore[arg-type]
    drafters: set[str] = set()
    for actor, action in events:
        if action == "send_back":
            drafters.clear()
        elif action in _DRAFTING:
            drafters.add(actor)
    return frozenset(drafters)


def _context(case: Case, actor: Actor, row: Transition | None, payload: Mapping[str, Any]) -> GuardContext:
    return GuardContext(case=case, actor=actor, transition=row, payload=payload)  # type: ignore[arg-type]


_CASES = Case.__table__  # type: ignore[attr-defined]
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
_TEXTS = AuditText.__table__  # type: ignore[attr-defined]
_CAS_COLUMNS = ("state", "version", "updated_at", "audit_seq", "audit_head", "submitted_by")
# Built once: statements with bound parameters are compiled once and cached, the hot path only binds values.
_COMPARE_AND_SET = (
    _CASES.update()
    .where(_CASES.c.id == bindparam("b_id"), _CASES.c.version == bindparam("b_expected"))
    .values({name: bindparam(f"b_{name}") for name in _CAS_COLUMNS})
)
_INSERT_MESSAGE = Message.__table__.insert()  # type: ignore[attr-defined]
_TEXT_COLUMNS = ("case_id", "seq", "key", "salt", "text")
# SQLite's move, run on the driver's cursor (engine.store.driver): every column named, so that one compiled
# statement serves every event and text row.
_INSERT_EVENT = _EVENTS.insert().values({c.name: bindparam(c.name, type_=c.type) for c in _EVENTS.columns
                                         if c.name != "id"})
_INSERT_TEXT = _TEXTS.insert().values({name: bindparam(name, type_=_TEXTS.c[name].type) for name in _TEXT_COLUMNS})


def _typed(name: str, column: Any) -> Any:
    """A parameter for ``column`` in a SELECT list, cast to its type: PostgreSQL infers no type there (a JSON text
    would stay text). Strings are cast without their length: ``CAST(x AS VARCHAR(40))`` would silently cut a
    longer value where the INSERT refuses it."""
    target = String() if isinstance(getattr(column.type, "impl_instance", column.type), String) else column.type
    return cast(bindparam(name, type_=column.type), target)


def _one_statement(texts: int) -> Any:
    """PostgreSQL: the compare-and-set UPDATE, the audit event and its ``texts`` free-text rows as one statement
    (data-modifying CTEs), one round trip instead of two or three. The INSERTs select from the UPDATE's RETURNING:
    when the version read no longer matches, the statement writes nothing and returns no row."""
    moved = _COMPARE_AND_SET.returning(_CASES.c.id).cte("moved")
    columns = [c for c in _EVENTS.columns if c.name != "id"]
    event = select(*[_typed(f"e_{c.name}", c) for c in columns]).select_from(moved)
    statement = _EVENTS.insert().from_select([c.name for c in columns], event).returning(_EVENTS.c.id)
    ctes = [moved]
    for i in range(texts):
        row = select(*[_typed(f"t{i}_{name}", _TEXTS.c[name]) for name in _TEXT_COLUMNS]).select_from(moved)
        ctes.append(_TEXTS.insert().from_select(list(_TEXT_COLUMNS), row).cte(f"text{i}"))
    return statement.add_cte(*ctes)


_ONE_STATEMENT = {n: _one_statement(n) for n in range(len(audit.FREE_TEXT_KEYS) + 1)}


def _pending(session: Session) -> bool:
    """Whether the ORM session holds changes it has not flushed yet (they would be written after the move)."""
    return bool(session.new or session.dirty or session.deleted)


def _move(session: Session, case: Case, row: Transition, actor: Actor, event: dict[str, Any],
          texts: list[dict[str, Any]], now: datetime, *, commit: bool = False) -> int:
    """Write the move: one UPDATE moves state, version and audit head together, guarded by the version read (of
    two concurrent writers exactly one matches the row), then the audit event and its free texts (the reasons,
    beside the chain: audit.py, format 2). Returns the event's id; raises StaleVersion (nothing written) when
    the case moved since it was read.

    ``commit`` (the transaction's last write): on PostgreSQL the transaction commits with the statement, which
    releases the case's row lock a round trip sooner; the next writer of the case waits that much less."""
    values: dict[str, Any] = {
        "state": row.to_state.value, "version": case.version + 1, "updated_at": now, "audit_seq": event["seq"],
        "audit_head": event["hash"],
        "submitted_by": actor.username if row.action == "submit" else case.submitted_by,
    }
    params = {"b_id": case.id, "b_expected": case.version, **{f"b_{k}": v for k, v in values.items()}}
    connection = connection_of(session)
    if connection.dialect.name == "postgresql":
        params.update({f"e_{k}": v for k, v in event.items()})
        for i, text_row in enumerate(texts):
            params.update({f"t{i}_{k}": v for k, v in text_row.items()})
        returned = driver.compiled(_ONE_STATEMENT[len(texts)], connection.dialect).first(connection, params,
                                                                                            commit=commit)
        if returned is None:
            _stale(session, case)
        inserted = returned[0]
    else:  # SQLite: no data-modifying CTEs; its writers are serialized by BEGIN IMMEDIATE anyway
        dialect = connection.dialect
        if driver.compiled(_COMPARE_AND_SET, dialect).write(connection, params).rowcount != 1:
            _stale(session, case)
        inserted = driver.compiled(_INSERT_EVENT, dialect).write(connection, event).lastrowid
        for text_row in texts:
            driver.compiled(_INSERT_TEXT, dialect).write(connection, text_row)
    for key, value in values.items():
        set_committed_value(case, key, value)  # already written: keep the ORM from flushing it again
    return int(inserted)


def _stale(session: Session, case: Case) -> None:
    current = session.execute(select(Case.version).where(Case.id == case.id)).scalar()
    raise StaleVersion(case=case.reference, expected=case.version, actual=current)


def _insert(session: Session, message: Message) -> None:
    """Core INSERT on the session's connection: the hot path skips the ORM unit of work (same transaction)."""
    values = {c.name: getattr(message, c.name) for c in _INSERT_MESSAGE.table.columns if c.name != "id"}
    message.id = connection_of(session).execute(_INSERT_MESSAGE, values).inserted_primary_key[0]


def _outbound(case: Case, row: Transition, payload: dict[str, Any], now: datetime,
              in_reply_to: str | None, message_id: str | None = None) -> Message:
    from engine import forms

    assert row.sends is not None
    body = case.payload if row.sends == "request" else payload
    schema = case.schema_id if row.sends == "request" else forms.schema_id(row.sends)
    message = Message(message_id=message_id or new_id(), direction="out", exchange_id=case.exchange_id, case_id=case.id,
                      kind=row.sends, sender_code=case.authority_code, recipient_code=case.counterpart_code,
                      schema_id=schema, payload=body, attachments=list(body.get("attachments", [])),
                      in_reply_to=in_reply_to, status="pending", created_at=now, next_attempt_at=now)
    return message
