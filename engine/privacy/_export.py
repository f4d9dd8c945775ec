"""Data-subject access export: what one authority holds about one person, across its cases, as JSON.

The search is itself a processing of personal data: each matched case is recorded in the access log (one entry
with no case when nothing matched) *before* the export is returned. Pseudonymised cases no longer match, which
is the point of pseudonymising them. Whether the export may be handed to the person (Directive (EU) 2016/680,
Art. 15 lets criminal-justice authorities restrict access) is the authority's decision, not the engine's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine.guards import Actor
from engine.lifecycle import TERMINAL_STATES
from engine.privacy._access import Read, record_accesses
from engine.privacy._errors import SubjectQueryEmpty
from engine.privacy._personal import SubjectQuery, mask_others, matching_persons
from engine.privacy._retention import erase_after, get_policy
from engine.store.db import Database
from engine.store.models import AuditEvent, Authority, Case, Message, utcnow
from engine.store.queries import load_authority

FORMAT = "exhorto/subject-access/v1"
_TERMINAL = tuple(s.value for s in TERMINAL_STATES)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _authority(authority: Authority | None, code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": authority.name if authority else code,
        "country": authority.country if authority else None,
    }


def find_subject_cases(db: Database, authority: str, query: SubjectQuery) -> list[tuple[Case, list[int]]]:
    """(case, indexes of matching persons) for every case of ``authority`` naming the person."""
    found: list[tuple[Case, list[int]]] = []
    with db.reader() as session:
        # A linear scan of the authority's payloads: JSON search differs between SQLite and PostgreSQL, and an
        # authority's cases number in the thousands, which Python matches in milliseconds.
        for case in session.exec(select(Case).where(Case.authority_code == authority).order_by(col(Case.id))):
            indexes = [i for i, _ in matching_persons(case.payload, query)]
            if indexes:
                found.append((case, indexes))
    return found


def subject_export(
    db: Database, actor: Actor, query: SubjectQuery, *, channel: str = "cli", now: datetime | None = None
) -> dict[str, Any]:
    """The export for ``query`` over ``actor``'s authority's cases; the reads are logged first."""
    if query.empty:
        raise SubjectQueryEmpty()
    now = now or utcnow()
    matches = find_subject_cases(db, actor.authority_code, query)
    reads = [Read("subject_export", case, {"persons": indexes}) for case, indexes in matches] or [
        Read("subject_export", None, {"matched": 0})
    ]
    record_accesses(db, actor, channel=channel, reads=reads, now=now)
    policy = get_policy(db, actor.authority_code)
    with db.reader() as session:
        owner = load_authority(session, actor.authority_code)
        cases = [
            _case_section(session, case, indexes, policy.years if policy else None)
            for case, indexes in matches
        ]
    return {
        "format": FORMAT,
        "authority": _authority(owner, owner.code),
        "generated_at": _iso(now),
        "generated_by": actor.username,
        "query": {k: v for k, v in vars(query).items() if v},
        "retention_years": policy.years if policy else None,
        "cases": cases,
    }


def _case_section(session: Any, case: Case, indexes: list[int], years: int | None) -> dict[str, Any]:
    payload = case.payload
    persons = payload.get("persons") or []
    measures = [
        m
        for m in payload.get("measures") or []
        if isinstance(m, dict) and set(m.get("persons") or []) & set(indexes)
    ]
    closed_at = None
    if case.state in _TERMINAL:
        closed_at = session.exec(
            select(AuditEvent.at)
            .where(AuditEvent.case_id == case.id, col(AuditEvent.to_state).in_(_TERMINAL))
            .order_by(col(AuditEvent.seq))
        ).first()
    exchanges = session.exec(
        select(Message).where(Message.case_id == case.id).order_by(col(Message.id))
    ).all()
    counterpart = session.get(Authority, case.counterpart_code)

    def others(value: Any) -> Any:
        # Free text can name the other persons of the case (a witness in a measure's description): they become
        # the pseudonyms retention gives them; the subject's own data stays.
        return mask_others(value, persons, indexes) if isinstance(value, str) else value

    return {
        "reference": case.reference,
        "side": case.side,
        "state": case.state,
        "counterpart": _authority(counterpart, case.counterpart_code),
        "legal_basis": case.legal_basis,
        "urgency": case.urgency,
        "opened_at": _iso(case.created_at),
        "closed_at": _iso(closed_at),
        "erase_after": _iso(erase_after(closed_at, years)) if closed_at and years else None,
        "roles": sorted({str(persons[i].get("role")) for i in indexes}),
        "persons": [persons[i] for i in indexes],
        "offences": [
            {k: others(o[k]) for k in ("iccs_code", "national_description", "legal_provision") if k in o}
            for o in payload.get("offences") or []
            if isinstance(o, dict)
        ],
        "measures": [{k: others(m[k]) for k in ("type", "description", "hearing_mode") if k in m}
                     for m in measures],
        "exchanges": [
            {
                "kind": m.kind,
                "direction": m.direction,
                "with": m.recipient_code if m.direction == "out" else m.sender_code,
                "at": _iso(m.created_at),
            }
            for m in exchanges
        ],
    }
