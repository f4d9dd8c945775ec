"""The per-case audit chain: append and verify.

Each event stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON of the event)``; the case row keeps
the head (last seq and hash) so deleting the newest event is caught as surely as editing an old one.

Each event also seals how many reads of the case its authority's access log held when it was appended
(``access_reads``, engine.privacy): the case's live counter may only grow past that, so cutting the access log
below a sealed count means rewriting this chain too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.canonical import canonical_json, sha256_hex
from engine.store.models import AuditEvent, Case

GENESIS = "0" * 64


def event_hash(prev_hash: str, *, reference: str, seq: int, at: datetime, actor: str, action: str,
               from_state: str | None, to_state: str | None, payload_hash: str | None,
               detail: dict[str, Any], access_reads: int | None = None) -> str:
    body = {
        "case": reference, "seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor, "action": action, "from": from_state, "to": to_state,
        "payload_hash": payload_hash, "detail": detail,
    }
    if access_reads is not None:  # absent from events older than the seal, and while nothing was read
        body["access_reads"] = access_reads
    return sha256_hex(prev_hash.encode() + canonical_json(body))


def event_fields(case: Case, *, at: datetime, actor: str, action: str, from_state: str | None,
                 to_state: str | None, payload_hash: str | None = None,
                 detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of the event that would extend the case's chain now (pure: nothing is written)."""
    assert case.id is not None
    return {"case_id": case.id, **_link(case.audit_head, case.audit_seq + 1, reference=case.reference, at=at,
                                        actor=actor, action=action, from_state=from_state, to_state=to_state,
                                        payload_hash=payload_hash, detail=detail or {},
                                        access_reads=case.access_reads or None)}


def opening_fields(reference: str, *, at: datetime, actor: str, action: str, to_state: str,
                   payload_hash: str | None = None) -> dict[str, Any]:
    """The first event of a chain, computed before its case row exists (the caller adds ``case_id``): the case
    can then be inserted with its chain head already set."""
    return _link(GENESIS, 1, reference=reference, at=at, actor=actor, action=action, from_state=None,
                 to_state=to_state, payload_hash=payload_hash, detail={})


def _link(prev_hash: str, seq: int, *, reference: str, at: datetime, actor: str, action: str,
          from_state: str | None, to_state: str | None, payload_hash: str | None,
          detail: dict[str, Any], access_reads: int | None = None) -> dict[str, Any]:
    digest = event_hash(prev_hash, reference=reference, seq=seq, at=at, actor=actor, action=action,
                        from_state=from_state, to_state=to_state, payload_hash=payload_hash, detail=detail,
                        access_reads=access_reads)
    return {"seq": seq, "at": at, "actor": actor, "action": action, "from_state": from_state, "to_state": to_state,
            "payload_hash": payload_hash, "detail": detail, "access_reads": access_reads, "prev_hash": prev_hash,
            "hash": digest}


def next_event(case: Case, **kwargs: Any) -> AuditEvent:
    """The event that would extend the case's chain now (not yet added to any session)."""
    return AuditEvent(**event_fields(case, **kwargs))


def append(session: Session, case: Case, *, at: datetime, actor: str, action: str, from_state: str | None,
           to_state: str | None, payload_hash: str | None = None,
           detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event and move the case's chain head; the caller's transaction holds the case row."""
    event = next_event(case, at=at, actor=actor, action=action, from_state=from_state, to_state=to_state,
                       payload_hash=payload_hash, detail=detail)
    session.add(event)
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
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainBreak(case.reference, expected_seq, "missing (deleted or renumbered)")
        if event.prev_hash != prev:
            return ChainBreak(case.reference, event.seq, "prev_hash does not match the previous event")
        recomputed = event_hash(prev, reference=case.reference, seq=event.seq, at=event.at, actor=event.actor,
                                action=event.action, from_state=event.from_state, to_state=event.to_state,
                                payload_hash=event.payload_hash, detail=event.detail,
                                access_reads=event.access_reads)
        if recomputed != event.hash:
            return ChainBreak(case.reference, event.seq, "content altered (hash mismatch)")
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
