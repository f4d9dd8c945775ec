"""Retention: per-authority policies, the cases whose time is up, and pseudonymising one case.

Pseudonymisation is not a silent rewrite: in the same transaction that replaces the payloads, it appends a
hash-chained ``redact`` event to the case's audit log naming the hashes before and after (case payload,
message payloads, documents) and the erased attachment contents. The chain covers payload *hashes*, never
payloads, so every earlier event still verifies, and the new event proves when, by whom and under which
policy the personal data went. Statistics read codes, dates and audit events, which pseudonymisation keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from engine import audit
from engine.canonical import payload_hash
from engine.errors import StaleVersion
from engine.lifecycle import TERMINAL_STATES
from engine.privacy._documents import rerender_documents
from engine.privacy._errors import CaseNotClosed, InvalidRetention
from engine.privacy._files import files_of_case, outside_files
from engine.privacy._personal import REDACTED, pseudonymise, rename_files
from engine.privacy._scrub import ScrubResult, scrub
from engine.store.db import Database
from engine.store.deadline_models import DeadlineEvent, Notification
from engine.store.documents_models import Document
from engine.store.federation_models import Attachment, SignedMessage
from engine.store.models import AuditEvent, Case, Message, utcnow
from engine.store.ops_models import IdempotencyKey
from engine.store.privacy_models import CaseRedaction, RetentionPolicy
from engine.store.queries import load_authority, load_case

REDACT_ACTION = audit.REDACT_ACTION
_TERMINAL = tuple(s.value for s in TERMINAL_STATES)


# --- policies
def set_policy(
    db: Database, authority: str, years: int, *, by: str, now: datetime | None = None
) -> RetentionPolicy:
    """Keep personal data of ``authority``'s closed cases ``years`` after closure (1–100)."""
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
        raise InvalidRetention(years=years)
    with db.transaction() as session:
        load_authority(session, authority)
        policy = session.get(RetentionPolicy, authority) or RetentionPolicy(
            authority_code=authority, years=years, updated_by=by
        )
        policy.years, policy.updated_by, policy.updated_at = years, by, now or utcnow()
        session.add(policy)
    return policy


def get_policy(db: Database, authority: str) -> RetentionPolicy | None:
    with db.reader() as session:
        return session.get(RetentionPolicy, authority)


def list_policies(db: Database) -> list[RetentionPolicy]:
    with db.reader() as session:
        return list(session.exec(select(RetentionPolicy).order_by(col(RetentionPolicy.authority_code))))


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar instant ``years`` earlier (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def erase_after(closed_at: datetime, years: int) -> datetime:
    return years_before(closed_at, -years)


# --- which cases are due
def _closure_times(session: Session, authority: str) -> Any:
    """(case id, reference, when it entered closed/withdrawn) of its terminal, unredacted cases."""
    entered = col(AuditEvent.to_state).in_(_TERMINAL) & (
        col(AuditEvent.from_state).is_(None) | col(AuditEvent.from_state).not_in(_TERMINAL)
    )
    redacted = select(CaseRedaction.case_id).where(CaseRedaction.authority_code == authority)
    return (
        select(Case.id, Case.reference, func.max(AuditEvent.at).label("closed_at"))
        .join(AuditEvent, col(AuditEvent.case_id) == col(Case.id))
        .where(
            Case.authority_code == authority,
            col(Case.state).in_(_TERMINAL),
            entered,
            col(Case.id).not_in(redacted),
        )
        .group_by(col(Case.id), col(Case.reference))
    )


@dataclass(frozen=True)
class DueCase:
    case_id: int
    reference: str
    closed_at: datetime
    years: int


def due_cases(
    db: Database,
    authority: str,
    *,
    now: datetime | None = None,
    years: int | None = None,
    limit: int | None = None,
) -> list[DueCase]:
    """Closed or withdrawn cases of ``authority`` closed at least ``years`` (default: its policy) ago and not
    yet pseudonymised, oldest closure first. No policy and no ``years``: nothing is due."""
    now = now or utcnow()
    if years is None:
        policy = get_policy(db, authority)
        if policy is None:
            return []
        years = policy.years
    cutoff = years_before(now, years)
    with db.reader() as session:
        subquery = _closure_times(session, authority).subquery()
        rows = session.execute(
            select(subquery)
            .where(subquery.c.closed_at <= cutoff)
            .order_by(subquery.c.closed_at, subquery.c.id)
            .limit(limit)
        ).all()
    return [
        DueCase(case_id=r.id, reference=r.reference, closed_at=_aware(r.closed_at), years=years) for r in rows
    ]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- pseudonymising one case
def redact_case(
    db: Database,
    case: int | str,
    *,
    actor: str,
    reason: str = "retention",
    closed_at: datetime | None = None,
    policy_years: int | None = None,
    rerender: bool = True,
    now: datetime | None = None,
) -> CaseRedaction | None:
    """Pseudonymise one closed or withdrawn case (payload, messages, signed envelopes, documents, attachment
    contents) and chain a ``redact`` event, in one transaction. Returns None when it was already done."""
    now = now or utcnow()
    try:
        with db.transaction() as session:
            record = load_case(session, case)
            if record.state not in _TERMINAL:
                raise CaseNotClosed(case=record.reference, state=record.state)
            if session.exec(select(CaseRedaction).where(CaseRedaction.case_id == record.id)).first():
                return None
            return _redact(
                session,
                record,
                actor=actor,
                reason=reason,
                closed_at=closed_at,
                policy_years=policy_years,
                rerender=rerender,
                now=now,
            )
    except IntegrityError:  # a concurrent run redacted it first (unique case_id / audit seq)
        return None


def _redact(
    session: Session,
    case: Case,
    *,
    actor: str,
    reason: str,
    closed_at: datetime | None,
    policy_years: int | None,
    rerender: bool,
    now: datetime,
) -> CaseRedaction:
    assert case.id is not None
    new_payload, fields = pseudonymise("request", case.payload)
    messages = list(session.exec(select(Message).where(Message.case_id == case.id).order_by(col(Message.id))))
    document_names = frozenset(session.exec(select(Document.filename).where(Document.case_id == case.id)))
    message_changes: list[dict[str, Any]] = []
    for message in messages:
        payload, touched = pseudonymise(message.kind, message.payload)
        fields += touched
        message_changes.append(
            {
                "message_id": message.message_id,
                "direction": message.direction,
                "before": payload_hash(message.payload),
                "after": payload_hash(payload),
            }
        )
        message.payload = payload
        message.attachments = rename_files(
            message.attachments,
            list(payload.get("attachments") or []) + list(payload.get("evidence") or []),
            document_names,
        )
        session.add(message)
        _redact_envelope(session, message)
    documents = rerender_documents_after_payloads(session, case, new_payload, messages, rerender)
    erased = list(session.exec(select(Attachment.sha256).where(Attachment.case_id == case.id)))
    session.execute(delete(Attachment).where(col(Attachment.case_id) == case.id))
    answers, notices = _purge_copies(session, case.id)
    texts = audit.erase_texts(session, case.id, now)
    outside = files_of_case(session, case.id)
    detail = {
        "reason": reason,
        "policy_years": policy_years,
        "closed_at": closed_at.astimezone(UTC).isoformat() if closed_at else None,
        "payload": {"before": payload_hash(case.payload), "after": payload_hash(new_payload)},
        "messages": message_changes,
        "documents": [d.as_dict() for d in documents],
        "attachments_erased": sorted(erased),
        "idempotency_answers_erased": answers,
        "notifications_erased": notices,
        "audit_texts_erased": texts,
        # Out of reach: the operator must delete them (paths in external_file; hashes here).
        "files_outside": [{"kind": f["kind"], "sha256": f["sha256"]} for f in outside],
    }
    event = audit.next_event(
        case,
        at=now,
        actor=actor,
        action=REDACT_ACTION,
        from_state=case.state,
        to_state=case.state,
        payload_hash=payload_hash(new_payload),
        detail=detail,
    )
    values = {
        "payload": new_payload,
        "version": case.version + 1,
        "updated_at": now,
        "audit_seq": event.seq,
        "audit_head": event.hash,
    }
    moved = session.execute(
        update(Case)
        .where(col(Case.id) == case.id, col(Case.version) == case.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(case=case.reference, expected=case.version, actual="newer")
    session.add(event)
    redaction = CaseRedaction(
        case_id=case.id,
        authority_code=case.authority_code,
        at=now,
        actor=actor,
        reason=reason,
        closed_at=closed_at,
        policy_years=policy_years,
        audit_seq=event.seq,
        fields=fields,
        messages=len(messages),
        documents=len(documents),
        attachments=len(erased),
    )
    session.add(redaction)
    session.flush()
    return redaction


def _purge_copies(session: Session, case_id: int) -> tuple[int, int]:
    """Copies of the case's personal data kept for operational reasons go with it, not weeks later: the stored
    answers of idempotent writes (the case as it was) and the subjects, bodies and data of its notifications.
    A notification not sent yet is not sent any more; the reasons of clock extensions go too. Returns (answers
    deleted, notifications emptied)."""
    answers = session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.case_id) == case_id))
    notices = session.execute(
        update(Notification)
        .where(col(Notification.case_id) == case_id)
        .values(subject=REDACTED, body=REDACTED, data={}, last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Notification)
        .where(col(Notification.case_id) == case_id, col(Notification.status).in_(("pending", "sending")))
        .values(status="failed", last_error="case pseudonymised by retention: not sent")
        .execution_options(synchronize_session=False)
    )
    # A clock's timeline keeps the reasons of an agreed extension: free text, like the audit's.
    for clock_event in session.exec(select(DeadlineEvent).where(DeadlineEvent.case_id == case_id)):
        if any(key in clock_event.detail for key in audit.FREE_TEXT_KEYS):
            clock_event.detail = {k: REDACTED if k in audit.FREE_TEXT_KEYS else v
                                  for k, v in clock_event.detail.items()}
            session.add(clock_event)
    return int(answers.rowcount or 0), int(notices.rowcount or 0)  # type: ignore[attr-defined]


def rerender_documents_after_payloads(
    session: Session, case: Case, new_payload: dict[str, Any], messages: list[Message], rerender: bool
) -> list[Any]:
    """Render the case's documents from the pseudonymised payloads (the case row is updated by compare-and-set
    afterwards, so the renderer is handed a detached copy holding the new payload)."""
    shadow = Case(**{**case.model_dump(), "payload": new_payload})
    return rerender_documents(session, shadow, messages, rerender=rerender)


def _redact_envelope(session: Session, message: Message) -> None:
    """The stored signed envelope of the message gets the same pseudonymised payload. Its signature no longer
    matches — what it signed is gone on purpose; ``envelope_sha256`` and the signature stay as evidence that a
    message with that hash was signed, and the ``redact`` event links old and new payload hashes."""
    signed = session.exec(
        select(SignedMessage).where(
            SignedMessage.direction == message.direction, SignedMessage.message_id == message.message_id
        )
    ).first()
    if signed is None:
        return
    envelope = dict(signed.envelope)
    envelope["payload"] = message.payload
    if "attachments" in envelope:
        envelope["attachments"] = message.attachments
    signed.envelope = envelope
    session.add(signed)


# --- a whole run
@dataclass
class RetentionSummary:
    redacted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changed concurrently or already done: next run retries
    scrubbed: ScrubResult | None = None  # the checkpoint / vacuum after the run (None: no policy, nothing run)
    # Files written outside the database about the redacted cases: (reference, path), for the operator to delete.
    outside: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"redacted": len(self.redacted), "skipped": len(self.skipped),
                "scrub": self.scrubbed.as_dict() if self.scrubbed else None,
                "files_outside": [{"case": r, "path": p} for r, p in self.outside]}


def redact_due(
    db: Database,
    due: list[DueCase],
    *,
    actor: str = "system:retention",
    rerender: bool = True,
    now: datetime | None = None,
) -> RetentionSummary:
    """Pseudonymise the given due cases, one transaction each (a crash loses at most the case in hand, and a
    rerun skips those already done)."""
    summary = RetentionSummary()
    for item in due:
        try:
            done = redact_case(
                db,
                item.case_id,
                actor=actor,
                reason="retention",
                closed_at=item.closed_at,
                policy_years=item.years,
                rerender=rerender,
                now=now,
            )
        except StaleVersion:
            done = None
        (summary.redacted if done is not None else summary.skipped).append(item.reference)
        if done is not None:
            summary.outside += [(item.reference, f["path"]) for f in outside_files(db, item.case_id)]
    return summary


def run_retention(
    db: Database,
    *,
    authority: str | None = None,
    now: datetime | None = None,
    rerender: bool = True,
    limit: int | None = None,
    vacuum_full: bool = False,
) -> RetentionSummary:
    """Apply every authority's retention policy (or one authority's) now, then checkpoint or vacuum the
    database so the erased values leave its files too (``vacuum_full``: VACUUM FULL / VACUUM)."""
    now = now or utcnow()
    codes = [authority] if authority else [p.authority_code for p in list_policies(db)]
    total = RetentionSummary()
    for code in codes:
        summary = redact_due(db, due_cases(db, code, now=now, limit=limit), rerender=rerender, now=now)
        total.redacted += summary.redacted
        total.skipped += summary.skipped
        total.outside += summary.outside
    if codes:  # also when nothing new was redacted: an incomplete scrub of an earlier run is finished now
        total.scrubbed = scrub(db, full=vacuum_full)
    return total
