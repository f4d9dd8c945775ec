"""Who am I, the authorities directory, my authority's deadlines and audit check, and published public keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from sqlmodel import col, select

from engine import audit, directory, keys
from engine.api.deps import ActorDep, DbDep
from engine.api.routes.cases import deadline_entry
from engine.api.schemas import AuditReport, AuthorityEntry, DeadlineEntry, Me
from engine.errors import RoleNotAllowed
from engine.lifecycle import Role
from engine.store.models import Case, Deadline

router = APIRouter(tags=["directory"])

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.SUPERVISOR, Role.JUDGE})


@router.get("/me", response_model=Me)
def me(actor: ActorDep) -> Me:
    return Me(username=actor.username, authority=actor.authority_code, role=actor.role.value,
              language=actor.language)


@router.get("/authorities", response_model=list[AuthorityEntry])
def authorities(actor: ActorDep, db: DbDep) -> list[AuthorityEntry]:
    """Registered authorities (counterparts a request can be sent to)."""
    return [AuthorityEntry(code=a.code, country=a.country, name=a.name, languages=a.languages,
                           endpoint_url=a.endpoint_url) for a in directory.list_authorities(db)]


@router.get("/deadlines", response_model=list[DeadlineEntry])
def deadlines(actor: ActorDep, db: DbDep, status: str | None = Query("running"),
              due_before: datetime | None = None, limit: int = Query(500, ge=1, le=5000)) -> list[DeadlineEntry]:
    """Clocks on your authority's cases, soonest due first (``status=`` empty for all)."""
    with db.reader() as session:
        query = (select(Deadline, Case.reference).join(Case, col(Case.id) == Deadline.case_id)
                 .where(Case.authority_code == actor.authority_code))
        if status:
            query = query.where(Deadline.status == status)
        if due_before is not None:
            query = query.where(Deadline.due_at <= due_before)
        rows = session.exec(query.order_by(col(Deadline.due_at)).limit(limit)).all()
    return [deadline_entry(d, reference) for d, reference in rows]


@router.get("/audit/verify", response_model=AuditReport, tags=["audit"])
def verify_audit(actor: ActorDep, db: DbDep) -> AuditReport:
    """Check every audit chain of your authority (auditors, judges, supervisors)."""
    if actor.role not in AUDIT_ROLES:
        raise RoleNotAllowed(role=actor.role.value, action="audit verify",
                             allowed=", ".join(sorted(r.value for r in AUDIT_ROLES)))
    with db.reader() as session:
        checked, breaks = audit.verify_all(session, actor.authority_code)
    return AuditReport(intact=not breaks, checked=checked, breaks=[str(b) for b in breaks])


@router.get("/federation/keys", response_model=list[dict[str, Any]], tags=["federation"])
def published_keys(db: DbDep) -> list[dict[str, Any]]:
    """Public keys (with validity periods) of the authorities this node serves — no token needed."""
    return keys.export_public(db)
