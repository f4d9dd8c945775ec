"""What the case screens need from the engine, without the web framework: the actions a user may take, the
prefilled forms, the merged timeline, and the reads recorded in the personal-data access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from engine import cases
from engine.deadlines import tracking as clocks
from engine.errors import ExhortoError
from engine.guards import Actor
from engine.lifecycle import Role, Side, State, Transition, available
from engine.store.db import Database
from engine.store.deadline_models import Escalation
from engine.store.federation_models import Attachment
from engine.store.models import Authority, Case, User

REPORT_TYPES = {"report_execution": "final", "report_partial_execution": "partial"}


def actions_for(case: Case, actor: Actor) -> list[Transition]:
    """The lifecycle rows this user may start from the case's current state (the engine re-checks guards)."""
    if actor.role in (Role.AUDITOR, Role.SYSTEM) or case.authority_code != actor.authority_code:
        return []
    return [t for t in available(case.state, case.side) if actor.role in t.roles]


def transition_for(case: Case, actor: Actor, action: str) -> Transition | None:
    return next((t for t in actions_for(case, actor) if t.action == action), None)


def references(case: Case) -> dict[str, str]:
    """The two sides' references as the forms carry them."""
    if case.side == Side.REQUESTING:
        pair = {"requesting": case.reference, "requested": case.counterpart_reference}
    else:
        pair = {"requesting": case.counterpart_reference, "requested": case.reference}
    return {k: v for k, v in pair.items() if v}


def action_defaults(case: Case, action: str, form: str | None) -> dict[str, Any]:
    """Values an action's form starts with: what the case already knows."""
    if form is None:
        return {}
    defaults: dict[str, Any] = {"references": references(case)}
    if form == "acknowledgement":
        defaults["received_at"] = case.created_at.isoformat()
    if form == "execution_report":
        defaults["report_type"] = REPORT_TYPES.get(action, "final")
        measures = case.payload.get("measures") if isinstance(case.payload.get("measures"), list) else []
        defaults["measures_executed"] = [
            {"type": m["type"]} for m in measures or [] if isinstance(m, dict) and isinstance(m.get("type"), str)
        ]
    return defaults


def _party(authority: Authority) -> dict[str, Any]:
    return {
        "code": authority.code,
        "country": authority.country,
        "name": authority.name,
        "email": authority.contact_email,
    }


def new_request_payload(db: Database, user: User, counterpart: str) -> dict[str, Any]:
    """A new draft starts with what the directory knows: both authorities, the language, the contact
    person."""
    with db.reader() as session:
        own = session.get(Authority, user.authority_code)
        other = session.get(Authority, counterpart)
    payload: dict[str, Any] = {}
    if own is not None:
        payload["requesting_authority"] = _party(own)
        payload["language"] = own.languages[0] if own.languages else "en"
    if other is not None:
        payload["requested_authority"] = _party(other)
    contact = {"name": user.full_name or user.username, **({"email": user.email} if user.email else {})}
    payload["contact_person"] = contact
    return payload


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # state | message | clock | escalation
    title: str  # msgid or code, rendered by the template
    detail: dict[str, Any]


def timeline(db: Database, case: Case, actor: Actor) -> list[TimelineItem]:
    """States (audit events), messages exchanged, clock events and escalations, oldest first."""
    items = [
        TimelineItem(e.at, "state", e.action, {"from": e.from_state, "to": e.to_state, "actor": e.actor, **e.detail})
        for e in cases.history(db, case.id or 0, actor=actor)
    ]
    for message in cases.messages(db, case.id or 0, actor=actor):
        items.append(
            TimelineItem(
                message.created_at,
                "message",
                message.kind,
                {
                    "direction": message.direction,
                    "status": message.status,
                    "sender": message.sender_code,
                    "recipient": message.recipient_code,
                    "attempts": message.attempts,
                    "sent_at": message.sent_at,
                    "error": message.last_error,
                    "attachments": len(message.attachments),
                },
            )
        )
    _, clock_events = clocks.timeline(db, case.id or 0, actor=actor)
    items += [
        TimelineItem(e.at, "clock", e.event, {"clock": e.kind, "due_at": e.due_at, "actor": e.actor})
        for e in clock_events
    ]
    with db.reader() as session:
        escalations = session.exec(
            select(Escalation).where(Escalation.case_id == case.id).order_by(col(Escalation.id))
        ).all()
    items += [
        TimelineItem(e.created_at, "escalation", e.name, {"level": e.level, "due_at": e.due_at}) for e in escalations
    ]
    from engine import evidence

    with db.reader() as session:
        items += [
            TimelineItem(e.event_at, "evidence", e.kind,
                         {"label": evidence.KINDS[e.kind].label, "etsi": evidence.KINDS[e.kind].etsi_event,
                          "issuer": e.issuer_code, "signed": e.signature is not None})
            for e in evidence.list_for_case(session, case.id or 0)
        ]
    return sorted(items, key=lambda item: item.at)


def clocks_of(db: Database, case: Case) -> list[Any]:
    return clocks.clocks_of(db, case.id or 0)


@dataclass(frozen=True)
class FileInfo:
    sha256: str
    name: str
    media_type: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class SignatureVerdict:
    valid: bool
    lines: list[str]


def signature_verdicts(db: Database, case: Case, lang: str) -> dict[str, SignatureVerdict]:
    """The PAdES verdict (as ``exhorto pdf verify`` words it) of every signed PDF of the case, by SHA-256."""
    from engine import documents

    with db.reader() as session:
        contents = dict(session.execute(
            sa_select(col(Attachment.sha256), col(Attachment.content))
            .where(col(Attachment.authority_code) == case.authority_code, col(Attachment.case_id) == case.id,
                   col(Attachment.media_type) == "application/pdf")).all())
    contents.update({d.sha256: d.content for d in documents.list_documents(db, case.id or 0)})
    verdicts = {}
    for digest, content in contents.items():
        if b"/ByteRange" not in content:  # no signature dictionary: nothing to verify
            continue
        try:
            verdict = documents.verify_document(db, content)
        except ExhortoError:
            continue
        verdicts[digest] = SignatureVerdict(verdict.valid, documents.describe(verdict, lang))
    return verdicts


def attachments_of(db: Database, case: Case) -> list[FileInfo]:
    """Files kept with the case (uploaded here or received with a message), without their contents."""
    with db.reader() as session:
        rows = session.execute(
            sa_select(
                col(Attachment.sha256),
                col(Attachment.name),
                col(Attachment.media_type),
                col(Attachment.size),
                col(Attachment.created_at),
            )
            .where(col(Attachment.authority_code) == case.authority_code, col(Attachment.case_id) == case.id)
            .order_by(col(Attachment.id))
        ).all()
    return [FileInfo(*row) for row in rows]


def attachment(db: Database, case: Case, sha256: str) -> Attachment | None:
    with db.reader() as session:
        return session.exec(
            select(Attachment).where(
                Attachment.authority_code == case.authority_code,
                Attachment.case_id == case.id,
                Attachment.sha256 == sha256,
            )
        ).first()


def record_read(db: Database, actor: Actor, case: Case, purpose: str) -> None:
    """Log the read of the case's personal data before showing it (engine.privacy). A failed log means no
    read."""
    from engine.privacy import record_access

    record_access(db, actor, channel="web", purpose=purpose, case=case)


TERMINAL = {State.CLOSED.value, State.WITHDRAWN.value}
