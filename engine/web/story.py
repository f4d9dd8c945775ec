"""The case page's story: every message exchanged, both ways, as the reader can read it (the forms' own labels in
the reader's language, never only a PDF), with the delivery status of what is not delivered yet, and the
deadlines in the reader's time beside the counterpart's local date.

Framework-free; the case route records the read before calling this (engine.web.services.record_read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine import cases
from engine.errors import ExhortoError
from engine.guards import Actor
from engine.store.db import Database
from engine.store.models import Authority, Case, Deadline, Message
from engine.store.pki_models import DeliveryEvidence
from engine.web import schema_form

# The request itself is the case's own content, shown once in its own section.
SHOWN_ELSEWHERE = frozenset({"request"})
FAILURE_EVIDENCE = "RelayREMMDFailure"
SKIPPED = frozenset({"references"})


@dataclass(frozen=True)
class Delivery:
    """Why an outbound message is not delivered yet, from the dispatcher's stored attempts."""

    recipient: str
    queued_at: datetime
    attempts: int
    failing_since: datetime | None  # first failed attempt (its evidence), None while never tried
    next_attempt_at: datetime
    error: str | None
    preparing: bool = False  # its PDF is still being rendered and signed (engine.outbox.prepare_document)

    @property
    def in_progress(self) -> bool:
        """Being prepared or delivered right now (not waiting out a backoff): the page refreshes itself."""
        return not self.attempts


@dataclass
class MessageView:
    message: Message
    fields: list[schema_form.Field] = field(default_factory=list)
    delivery: Delivery | None = None

    @property
    def outgoing(self) -> bool:
        return self.message.direction == "out"


def conversation(db: Database, case: Case, actor: Actor, ctx: schema_form.Context) -> list[MessageView]:
    """The case's messages, oldest first, each with its content as a field tree of its own form (the schema
    version it was sent with) and, for an outbound one still pending, its delivery status."""
    messages = cases.messages(db, case.id or 0, actor=actor)
    failures = _first_failures(db, case, [m.message_id for m in messages if m.status == "pending"])
    views = []
    for message in messages:
        view = MessageView(message)
        if message.kind not in SHOWN_ELSEWHERE and message.payload:
            view.fields = _fields(message, ctx)
        if message.direction == "out" and message.status == "pending":
            view.delivery = Delivery(
                recipient=message.recipient_code,
                queued_at=message.created_at,
                attempts=message.attempts,
                failing_since=failures.get(message.message_id),
                next_attempt_at=message.next_attempt_at,
                error=message.last_error,
                preparing=message.document_pending,
            )
        views.append(view)
    return views


def _fields(message: Message, ctx: schema_form.Context) -> list[schema_form.Field]:
    try:
        # Both references are the case's own (its summary shows them): only what the message says is listed.
        return schema_form.build(message.schema_id or message.kind, message.payload, ctx, skip=SKIPPED)
    except ExhortoError:  # a form this node does not know (a newer counterpart): the PDF still carries it
        return []


def _first_failures(db: Database, case: Case, message_ids: list[str]) -> dict[str, datetime]:
    """When each message's first delivery attempt failed (one failure evidence per message: retries add none)."""
    if not message_ids:
        return {}
    with db.reader() as session:
        rows = session.exec(
            select(DeliveryEvidence.message_id, DeliveryEvidence.event_at).where(
                DeliveryEvidence.case_id == case.id,
                DeliveryEvidence.kind == FAILURE_EVIDENCE,
                col(DeliveryEvidence.message_id).in_(message_ids),
            )
        ).all()
    first: dict[str, datetime] = {}
    for message_id, at in rows:
        if message_id not in first or at < first[message_id]:
            first[message_id] = at
    return first


@dataclass(frozen=True)
class Clock:
    """A deadline as the page shows it: the moment in the reader's zone, the day it falls on at the counterpart."""

    deadline: Deadline
    counterpart_timezone: str | None  # None when both sides share the reader's zone


def clocks(db: Database, case: Case, rows: list[Any], reader_timezone: str) -> list[Clock]:
    with db.reader() as session:
        counterpart = session.get(Authority, case.counterpart_code)
    other = counterpart.timezone if counterpart is not None else None
    return [Clock(row, other if other and other != reader_timezone else None) for row in rows]


@dataclass(frozen=True)
class SummaryLine:
    label: str
    values: list[str]


def request_summary(fields: list[schema_form.Field], lang: str) -> list[SummaryLine]:
    """The request at a glance, from its field tree (labels and enum titles already in the reader's language): the
    legal basis, the urgency, who it concerns, the measures asked for and the facts in brief. The approval page
    shows it above the whole request."""
    from engine import formatting

    by_pointer = {f.pointer: f for top in fields for f in top.walk()}

    def shown(pointer: str) -> str:
        f = by_pointer.get(pointer)
        if f is None or f.value in (None, "", []):
            return ""
        if f.kind == "enum":
            return next((title for value, title in f.options if value == f.value), str(f.value))
        if f.kind == "date":
            return formatting.format_date(f.value, lang, style="medium")
        return str(f.value)

    def line(pointer: str, values: list[str]) -> list[SummaryLine]:
        f = by_pointer.get(pointer)
        kept = [v for v in values if v]
        return [SummaryLine(f.label, kept)] if f is not None and kept else []

    urgency = " · ".join(v for v in (shown("/urgency/level"), shown("/urgency/due_date")) if v)
    people = []
    for person in by_pointer["/persons"].children if "/persons" in by_pointer else []:
        p = person.pointer
        name = shown(f"{p}/company_name") or " ".join(v for v in (shown(f"{p}/given_names"),
                                                                  shown(f"{p}/surname")) if v)
        people.append(f"{name} ({shown(f'{p}/role')})" if shown(f"{p}/role") else name)
    measures = [shown(f"{m.pointer}/type") for m in by_pointer["/measures"].children] if "/measures" in by_pointer \
        else []
    return [
        *line("/legal_basis/instrument", [shown("/legal_basis/instrument") or shown("/legal_basis/kind")]),
        *line("/urgency/level", [urgency]),
        *line("/persons", people),
        *line("/measures", measures),
        *line("/facts/summary", [shown("/facts/summary")]),
    ]
