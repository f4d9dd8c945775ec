"""The per-case audit chain: append and verify.

Each event stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON of the event)``; the case row keeps
the head (last seq and hash) so deleting the newest event is caught as surely as editing an old one.

Each event also seals how many reads of the case its authority's access log held when it was appended
(``access_reads``, engine.privacy): the case's live counter may only grow past that, so cutting the access log
below a sealed count means rewriting this chain too.

Event formats (``AuditEvent.format``):

* 1 — the detail is hashed as written, free texts included. A chain that contains personal data in a refusal's
  reasons could not be erased without breaking it. Old events keep this format and still verify.
* 2 — the body also holds ``"v": 2``, and each free text of the detail (:data:`FREE_TEXT_KEYS`) is replaced by
  ``{"$text": sha256(salt + text)}``; text and salt live in ``audit_text``. Retention empties both: the chain still
  verifies (it covers the hash), an altered text is detected while present, and an erased one is accepted only
  when the chain holds a later ``redact`` event. Without the salt nobody can confirm a guessed text.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.canonical import canonical_json, sha256_hex
from engine.store.models import AuditEvent, AuditText, Case

GENESIS = "0" * 64
FORMAT = 2  # the format new events are written in
FREE_TEXT_KEYS = ("reasons",)  # detail keys holding free text (that can name people): kept beside the chain
TEXT_REF = "$text"
ERASED_TEXT = "[redacted]"
REDACT_ACTION = "redact"


def text_hash(salt: str, text: str) -> str:
    return sha256_hex((salt + text).encode())


def split_texts(detail: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The detail as chained (free texts replaced by their salted hash) and the (key, salt, text) to keep aside."""
    stored, texts = dict(detail), []
    for key in FREE_TEXT_KEYS:
        value = stored.get(key)
        if isinstance(value, str) and value:
            salt = secrets.token_hex(16)
            stored[key] = {TEXT_REF: text_hash(salt, value)}
            texts.append((key, salt, value))
    return stored, texts


def text_rows(case_id: int, seq: int, texts: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The column values of the ``audit_text`` rows of one event (plain dicts: the write path inserts them with
    Core, :func:`append` builds the ORM rows)."""
    return [{"case_id": case_id, "seq": seq, "key": k, "salt": salt, "text": t} for k, salt, t in texts]


def event_hash(prev_hash: str, *, reference: str, seq: int, at: datetime, actor: str, action: str,
               from_state: str | None, to_state: str | None, payload_hash: str | None,
               detail: dict[str, Any], access_reads: int | None = None, format: int = 1) -> str:
    body = {
        "case": reference, "seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor, "action": action, "from": from_state, "to": to_state,
        "payload_hash": payload_hash, "detail": detail,
    }
    if access_reads is not None:  # absent from events older than the seal, and while nothing was read
        body["access_reads"] = access_reads
    if format != 1:  # format 1 bodies stay byte-identical, so old chains verify unchanged
        body["v"] = format
    return sha256_hex(prev_hash.encode() + canonical_json(body))


def event_fields(case: Case, *, at: datetime, actor: str, action: str, from_state: str | None,
                 to_state: str | None, payload_hash: str | None = None,
                 detail: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The column values of the event that would extend the case's chain now, and those of the free-text rows to
    insert with it (pure: nothing is written)."""
    assert case.id is not None
    stored, texts = split_texts(detail or {})
    seq = case.audit_seq + 1
    fields = {"case_id": case.id, **_link(case.audit_head, seq, reference=case.reference, at=at, actor=actor,
                                          action=action, from_state=from_state, to_state=to_state,
                                          payload_hash=payload_hash, detail=stored,
                                          access_reads=case.access_reads or None)}
    return fields, text_rows(case.id, seq, texts)


def opening_fields(reference: str, *, at: datetime, actor: str, action: str, to_state: str,
                   payload_hash: str | None = None) -> dict[str, Any]:
    """The first event of a chain, computed before its case row exists (the caller adds ``case_id``): the case
    can then be inserted with its chain head already set."""
    return _link(GENESIS, 1, reference=reference, at=at, actor=actor, action=action, from_state=None,
                 to_state=to_state, payload_hash=payload_hash, detail={})


def _link(prev_hash: str, seq: int, *, reference: str, at: datetime, actor: str, action: str,
          from_state: str | None, to_state: str | None, payload_hash: str | None,
          detail: dict[str, Any], access_reads: int | None = None) -> dict[str, Any]:
    # Plain strings: the lifecycle's states are StrEnums, which canonical_json takes down its slower path (its fast
    # one checks exact types); the hash is the same either way.
    from_state = None if from_state is None else str(from_state)
    to_state = None if to_state is None else str(to_state)
    digest = event_hash(prev_hash, reference=reference, seq=seq, at=at, actor=actor, action=action,
                        from_state=from_state, to_state=to_state, payload_hash=payload_hash, detail=detail,
                        access_reads=access_reads, format=FORMAT)
    return {"seq": seq, "at": at, "actor": actor, "action": action, "from_state": from_state, "to_state": to_state,
            "payload_hash": payload_hash, "detail": detail, "access_reads": access_reads, "prev_hash": prev_hash,
            "hash": digest, "format": FORMAT}


def next_event(case: Case, **kwargs: Any) -> AuditEvent:
    """The event that would extend the case's chain now (not yet added to any session). Its detail must not
    hold free texts (use :func:`append`, which keeps them aside)."""
    fields, texts = event_fields(case, **kwargs)
    assert not texts, "free texts need append()"
    return AuditEvent(**fields)


def append(session: Session, case: Case, *, at: datetime, actor: str, action: str, from_state: str | None,
           to_state: str | None, payload_hash: str | None = None,
           detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event and move the case's chain head; the caller's transaction holds the case row."""
    fields, texts = event_fields(case, at=at, actor=actor, action=action, from_state=from_state,
                                 to_state=to_state, payload_hash=payload_hash, detail=detail)
    event = AuditEvent(**fields)
    session.add(event)
    session.add_all(AuditText(**values) for values in texts)
    case.audit_seq, case.audit_head = event.seq, event.hash
    session.add(case)
    return event


@dataclass(frozen=True)
class ChainBreak:
    reference: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"{self.reference}: event {self.seq}: {self.problem}"


def verify_case(session: Session, case: Case) -> ChainBreak | None:
    """Return the first broken link of one case's chain, or None when it is intact."""
    events = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id)
                          .order_by(col(AuditEvent.seq))).all()
    texts = {(t.seq, t.key): t for t in session.exec(select(AuditText).where(AuditText.case_id == case.id))}
    redacted_from = next((e.seq for e in events if e.action == REDACT_ACTION), None)
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainBreak(case.reference, expected_seq, "missing (deleted or renumbered)")
        if event.prev_hash != prev:
            return ChainBreak(case.reference, event.seq, "prev_hash does not match the previous event")
        recomputed = event_hash(prev, reference=case.reference, seq=event.seq, at=event.at, actor=event.actor,
                                action=event.action, from_state=event.from_state, to_state=event.to_state,
                                payload_hash=event.payload_hash, detail=event.detail,
                                access_reads=event.access_reads, format=event.format)
        if recomputed != event.hash:
            return ChainBreak(case.reference, event.seq, "content altered (hash mismatch)")
        if event.format >= 2 and (problem := _text_problem(event, texts, redacted_from)) is not None:
            return ChainBreak(case.reference, event.seq, problem)
        prev = event.hash
    if len(events) != case.audit_seq or prev != case.audit_head:
        return ChainBreak(case.reference, len(events) + 1, "newest events missing (chain head mismatch)")
    sealed = next((e for e in reversed(events) if e.access_reads is not None), None)
    if sealed is not None and case.access_reads < (sealed.access_reads or 0):
        return ChainBreak(case.reference, sealed.seq,
                          f"the case counts {case.access_reads} reads, fewer than the {sealed.access_reads} this "
                          "event sealed (access-log entries deleted?)")
    last_state = next((e.to_state for e in reversed(events) if e.to_state), None)
    if last_state is not None and last_state != case.state:
        return ChainBreak(case.reference, len(events), f"case state {case.state!r} differs from the audit log")
    return None


def _text_problem(event: AuditEvent, texts: dict[tuple[int, str], AuditText],
                  redacted_from: int | None) -> str | None:
    for key, value in event.detail.items():
        if not (isinstance(value, dict) and TEXT_REF in value):
            continue
        row = texts.get((event.seq, key))
        if row is None:
            return f"free text {key!r} missing"
        if row.text is None or row.salt is None:
            if row.erased_at is None or redacted_from is None or redacted_from <= event.seq:
                return f"free text {key!r} emptied without a later redact event"
            continue
        if text_hash(row.salt, row.text) != value[TEXT_REF]:
            return f"free text {key!r} altered (hash mismatch)"
    return None


def readable(session: Session, events: list[AuditEvent]) -> list[AuditEvent]:
    """Copies of the events with each kept-aside free text put back in its detail (``[redacted]`` once erased),
    for display; the stored rows are not changed."""
    ids = {e.case_id for e in events if e.format >= 2}
    if not ids:
        return events
    texts = {(t.case_id, t.seq, t.key): t.text for t in
             session.exec(select(AuditText).where(col(AuditText.case_id).in_(ids)))}
    shown = []
    for event in events:
        detail = {k: (texts.get((event.case_id, event.seq, k)) or ERASED_TEXT)
                  if isinstance(v, dict) and TEXT_REF in v else v for k, v in event.detail.items()}
        shown.append(event if detail == event.detail else
                     AuditEvent.model_construct(**{**event.model_dump(), "detail": detail}))
    return shown


def erase_texts(session: Session, case_id: int, at: datetime) -> int:
    """Empty the case's kept-aside free texts (retention); returns how many were erased."""
    rows = list(session.exec(select(AuditText).where(AuditText.case_id == case_id, col(AuditText.text).is_not(None))))
    for row in rows:
        row.text, row.salt, row.erased_at = None, None, at
        session.add(row)
    return len(rows)


def verify_all(session: Session, authority_code: str | None = None) -> tuple[int, list[ChainBreak]]:
    """Verify every case (of one authority, or all); return (cases checked, breaks)."""
    query = select(Case).order_by(col(Case.id))
    if authority_code:
        query = query.where(Case.authority_code == authority_code)
    breaks: list[ChainBreak] = []
    checked = 0
    for case in session.exec(query):
        checked += 1
        if (problem := verify_case(session, case)) is not None:
            breaks.append(problem)
    return checked, breaks
