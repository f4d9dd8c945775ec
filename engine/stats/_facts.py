"""From the database to plain facts: one :class:`CaseFacts` per case and one :class:`DeadlineFacts` per clock.

The only module of :mod:`engine.stats` that reads the database. It reads codes, dates and audit events, never
names or free text, and what it reads survives pseudonymisation (:mod:`engine.privacy`), so statistics of
erased cases stay the same.

Definitions (documented in ``docs/statistics.md``):

* a *sent* request is a requesting-side record, counted from its ``transmit`` event; a *received* request is a
  requested-side record, counted from its ``receive`` event (drafts never transmitted are not counted);
* times run from delivery (``record_delivery`` on the sent side, ``receive`` on the received side) to the
  first acknowledgement-like, decision-like and final-execution event of the side's own audit log;
* the outcome is the last of executed / partially executed / refused / withdrawn the case reached, else
  pending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from engine.lifecycle import Side
from engine.store.models import AuditEvent, Authority, Case, Deadline, Message

OUTCOME_STATES = ("executed", "partially_executed", "refused", "withdrawn")
PENDING = "pending"

# (opened, delivered, acknowledged, decided, executed) actions per side.
_EVENTS: dict[str, dict[str, frozenset[str]]] = {
    Side.REQUESTING.value: {
        "opened": frozenset({"transmit"}),
        "delivered": frozenset({"record_delivery"}),
        "acknowledged": frozenset({"record_acknowledgement", "record_clarification_request", "record_refusal"}),
        "decided": frozenset({"record_refusal", "record_postponement", "record_partial_execution", "record_execution"}),
        "executed": frozenset({"record_execution"}),
    },
    Side.REQUESTED.value: {
        "opened": frozenset({"receive"}),
        "delivered": frozenset({"receive"}),
        "acknowledged": frozenset({"acknowledge", "request_clarification", "refuse"}),
        "decided": frozenset({"start_execution", "refuse"}),
        "executed": frozenset({"report_execution"}),
    },
}
DIRECTION = {Side.REQUESTING.value: "sent", Side.REQUESTED.value: "received"}


@dataclass(frozen=True)
class CaseFacts:
    case_id: int
    direction: str  # sent | received
    counterpart_country: str
    opened_at: datetime
    urgency: str
    offence_categories: tuple[str, ...]  # ICCS level 1 (two digits), each once
    measure_types: tuple[str, ...]
    outcome: str  # executed | partially_executed | refused | withdrawn | pending
    refusal_grounds: tuple[str, ...]
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    decided_at: datetime | None = None
    executed_at: datetime | None = None
    offence_categories_l2: tuple[str, ...] = ()  # ICCS level 2 (four digits), each once
    instrument: str | None = None  # legal basis instrument (EIO, UNTOC, …)
    assets: tuple[AssetFigure, ...] = ()


ASSET_FLOWS = ("frozen", "seized", "confiscated", "returned")
ASSET_KINDS = ("account", "real_estate", "vehicle", "crypto", "other")


@dataclass(frozen=True)
class AssetFigure:
    """One amount of an execution report: how much of one asset kind, in one ISO 4217 currency, reached one
    stage (frozen, seized, confiscated, returned or shared)."""

    flow: str
    kind: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class DeadlineFacts:
    case_id: int
    direction: str
    kind: str
    responsible: str  # self | counterpart
    status: str  # running | paused | met | cancelled
    due_at: datetime
    stopped_at: datetime | None
    paused_at: datetime | None


def iccs_level1(code: Any) -> str | None:
    return code[:2] if isinstance(code, str) and len(code) >= 2 and code[:2].isdigit() else None


def iccs_level2(code: Any) -> str | None:
    return code[:4] if isinstance(code, str) and len(code) >= 4 and code[:4].isdigit() else None


def asset_figures(report: dict[str, Any]) -> tuple[AssetFigure, ...]:
    """The amounts of one execution report. The latest report of a case states the amounts so far: earlier
    partial reports are not added to it."""
    figures = []
    for measure in _items(report, "measures_executed"):
        for asset in _items(measure, "assets"):
            kind = asset.get("kind") if asset.get("kind") in ASSET_KINDS else "other"
            currency = asset.get("currency")
            if not isinstance(currency, str):
                continue
            for flow in ASSET_FLOWS:
                value = asset.get(flow)
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    figures.append(AssetFigure(flow, kind, currency, Decimal(str(value))))
    return tuple(figures)


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


def _items(payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [item for item in payload.get(key) or [] if isinstance(item, dict)]


def case_facts(
    case_id: int,
    side: str,
    country: str,
    urgency: str,
    payload: dict[str, Any],
    events: list[tuple[str, datetime, str | None, dict[str, Any]]],
    refusal_payloads: list[dict[str, Any]],
    instrument: str | None = None,
    last_report: dict[str, Any] | None = None,
) -> CaseFacts | None:
    """Facts of one case from its columns, payload and audit events (ordered by seq); None if never opened."""
    names = _EVENTS[side]

    def first(kind: str) -> datetime | None:
        return next((at for action, at, _, _ in events if action in names[kind]), None)

    opened = first("opened")
    if opened is None:
        return None
    outcome, grounds = PENDING, ()
    for action, _, to_state, detail in events:
        if to_state in OUTCOME_STATES and action != "redact":
            outcome = to_state
            if to_state == "refused":
                grounds = tuple(detail.get("grounds") or ())
    if outcome == "refused" and not grounds:
        grounds = tuple(g for p in refusal_payloads for g in p.get("grounds") or ())
    return CaseFacts(
        case_id=case_id,
        direction=DIRECTION[side],
        counterpart_country=country,
        opened_at=opened,
        urgency=urgency,
        offence_categories=_unique(iccs_level1(o.get("iccs_code")) for o in _items(payload, "offences")),
        measure_types=_unique(str(m.get("type")) for m in _items(payload, "measures") if m.get("type")),
        outcome=outcome,
        refusal_grounds=_unique(str(g) for g in grounds) if outcome == "refused" else (),
        delivered_at=first("delivered"),
        acknowledged_at=first("acknowledged"),
        decided_at=first("decided"),
        executed_at=first("executed"),
        offence_categories_l2=_unique(iccs_level2(o.get("iccs_code")) for o in _items(payload, "offences")),
        instrument=instrument,
        assets=asset_figures(last_report or {}),
    )


def collect(session: Session, authority: str) -> tuple[list[CaseFacts], list[DeadlineFacts]]:
    """Every opened case of ``authority`` and every clock on them (the period is applied by the caller)."""
    counterpart = aliased(Authority)
    cases = session.execute(
        select(Case.id, Case.side, counterpart.country, Case.urgency, Case.payload, Case.legal_basis)
        .join(counterpart, col(counterpart.code) == col(Case.counterpart_code))
        .where(
            Case.authority_code == authority,
            col(Case.state).not_in(("draft", "pending_approval", "approved")),
        )
    ).all()
    events: dict[int, list[tuple[str, datetime, str | None, dict[str, Any]]]] = defaultdict(list)
    for case_id, action, at, to_state, detail in session.execute(
        select(AuditEvent.case_id, AuditEvent.action, AuditEvent.at, AuditEvent.to_state, AuditEvent.detail)
        .join(Case, col(Case.id) == col(AuditEvent.case_id))
        .where(Case.authority_code == authority)
        .order_by(col(AuditEvent.case_id), col(AuditEvent.seq))
    ):
        events[case_id].append((action, at, to_state, detail or {}))
    refusals: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for case_id, payload in session.execute(
        select(Message.case_id, Message.payload)
        .join(Case, col(Case.id) == col(Message.case_id))
        .where(Case.authority_code == authority, Message.kind == "refusal")
    ):
        refusals[case_id].append(payload or {})
    reports: dict[int, dict[str, Any]] = {}
    for case_id, payload in session.execute(
        select(Message.case_id, Message.payload)
        .join(Case, col(Case.id) == col(Message.case_id))
        .where(Case.authority_code == authority, Message.kind == "execution_report")
        .order_by(col(Message.id))
    ):
        reports[case_id] = payload or {}  # the latest wins
    facts = [
        f
        for row in cases
        if (
            f := case_facts(
                row.id,
                row.side,
                row.country,
                row.urgency,
                row.payload or {},
                events[row.id],
                refusals[row.id],
                row.legal_basis,
                reports.get(row.id),
            )
        )
        is not None
    ]
    sides = {row.id: DIRECTION[row.side] for row in cases}
    clocks = [
        DeadlineFacts(
            case_id=d.case_id,
            direction=sides[d.case_id],
            kind=d.kind,
            responsible="self" if d.responsible_code == authority else "counterpart",
            status=d.status,
            due_at=d.due_at,
            stopped_at=d.stopped_at,
            paused_at=d.paused_at,
        )
        for d in session.execute(
            select(Deadline).join(Case, col(Case.id) == col(Deadline.case_id)).where(Case.authority_code == authority)
        ).scalars()
        if d.case_id in sides
    ]
    return facts, clocks
