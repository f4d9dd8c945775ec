"""Cases of the caller's authority: list, create, read, edit drafts, act (optimistic locking), history."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from engine import audit, cases
from engine.actions import Outcome
from engine.api.boundary import body_schema, request_body
from engine.api.deps import (
    BEARER_SECURITY,
    CASE_ID_HELP,
    ActorDep,
    CaseDep,
    DbDep,
    LangDep,
    WriterDep,
    database,
    path_case_id,
    reading,
    request_case_writer,
    request_language,
    request_writer,
    writes,
)
from engine.api.schemas import (
    ActionRequest,
    ActionResult,
    AuditEntry,
    AuditReport,
    AvailableAction,
    CaseCreate,
    CaseDetail,
    CaseSummary,
    DeadlineEntry,
    DraftUpdate,
    MessageEntry,
    detail,
    json_response,
    summary,
)
from engine.i18n import translate
from engine.idempotency import act_once
from engine.lifecycle import ACTION_LABELS, available
from engine.store.models import Case, Deadline

router = APIRouter(prefix="/cases", tags=["cases"])

# Routes that hand out a case's personal data take the case through these (logged before the route runs).
DetailRead = Annotated[Case, reading("case detail")]
HistoryRead = Annotated[Case, reading("case.history")]

IDEMPOTENCY_HELP = ("A unique value per intended action (e.g. a UUID). Retrying with the same key and body "
                    "returns the first answer (header Idempotent-Replayed: true) without applying it twice.")


@router.get("", response_model=list[CaseSummary])
def list_cases(actor: ActorDep, db: DbDep, lang: LangDep, state: str | None = None, side: str | None = None,
               limit: int = Query(200, ge=1, le=1000)) -> list[CaseSummary]:
    """Cases of your authority, newest first."""
    return [summary(c, lang) for c in cases.list_cases(db, authority=actor.authority_code, state=state,
                                                       side=side, limit=limit)]


@router.post("", response_model=CaseDetail, status_code=201,
             openapi_extra={**BEARER_SECURITY, **body_schema(CaseCreate)})
async def create_case(request: Request) -> Response:
    """Open a draft request to another authority (clerks and judges)."""
    # The actor and the body are read here rather than as FastAPI parameters (issue 19: its dependency solving
    # and second parse of the body cost more than the checks themselves); the order is FastAPI's: token first.
    actor = await request_writer(request)
    body = await request_body(request, CaseCreate)
    # The write runs in its turn outside the event loop (writes); the answer is built on the event loop, and
    # serialized once by pydantic-core instead of validated again against the response model.
    lang = request_language(request)
    case = await writes(request).run(cases.create_case, database(request), actor=replace(actor, language=lang),
                                     counterpart=body.counterpart, payload=body.payload)
    return json_response(detail(case, lang, actor.role).model_dump_json(), status_code=201)


@router.get("/{case_id}", response_model=CaseDetail)
def read_case(case: DetailRead, actor: ActorDep, lang: LangDep) -> CaseDetail:
    """The case with its request form (personal data: the read is written to the access log first)."""
    return detail(case, lang, actor.role)


@router.put("/{case_id}/draft", response_model=CaseDetail)
async def edit_draft(case: CaseDep, body: DraftUpdate, actor: WriterDep, db: DbDep, lang: LangDep,
                     request: Request) -> CaseDetail:
    """Replace the request form of a draft; 409 if it changed since the version you read."""
    record = await writes(request).run(cases.update_draft, db, case=case.id or 0,
                                       actor=replace(actor, language=lang), payload=body.payload,
                                       expected_version=body.version)
    return detail(record, lang, actor.role)


@router.get("/{case_id}/actions", response_model=list[AvailableAction])
def next_actions(case: CaseDep, actor: ActorDep, lang: LangDep) -> list[AvailableAction]:
    """What you may do now, given the case's state and your role."""
    return [AvailableAction(action=t.action, label=translate(lang, ACTION_LABELS[t.action]),
                            to_state=t.to_state.value, form=t.form)
            for t in available(case.state, case.side) if actor.role in t.roles]


# The operation's parameters as FastAPI documents ``case_id: CaseId`` and the ``Idempotency-Key`` header; the
# route reads them itself (deps.path_case_id, request headers) so that FastAPI solves no parameter per request.
ACT_PARAMETERS = [
    {"name": "case_id", "in": "path", "required": True, "description": CASE_ID_HELP,
     "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "title": "Case Id",
                "description": CASE_ID_HELP}},
    {"name": "Idempotency-Key", "in": "header", "required": False, "description": IDEMPOTENCY_HELP,
     "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Idempotency-Key",
                "description": IDEMPOTENCY_HELP}},
]


@router.post("/{case_id}/actions", response_model=ActionResult,
             openapi_extra={**BEARER_SECURITY, "parameters": ACT_PARAMETERS, **body_schema(ActionRequest)})
async def act(request: Request) -> Response:
    """Apply a lifecycle action. ``version`` is the version you read: 409 if someone acted in between.
    With an ``Idempotency-Key`` header, a retry of the same request gets the first answer (applied once)."""
    # Token, then the case's id (an auditor: 404 for another authority's case, else 403), then the body: the
    # order in which FastAPI's dependencies checked them.
    actor = await request_case_writer(request)
    case_id = path_case_id(request)
    body = await request_body(request, ActionRequest)
    idempotency_key = request.headers.get("idempotency-key")

    def render(outcome: Outcome) -> dict[str, Any]:
        return ActionResult(case=detail(outcome.case, lang, actor.role), audit_seq=outcome.event.seq,
                            message_id=outcome.message.message_id if outcome.message else None
                            ).model_dump(mode="json")

    # One thread hop: the action reads the case with the actor's authority (another authority's: 404) in its
    # own transaction; the answer, already JSON-ready (stored as such for idempotent replays), is sent as is.
    lang = request_language(request)
    answer = await writes(request).run(act_once, database(request), key=idempotency_key, case=case_id,
                                       action=body.action, actor=replace(actor, language=lang),
                                       payload=body.payload, expected_version=body.version, render=render)
    response = json_response(orjson.dumps(answer.response))
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/{case_id}/history", response_model=list[AuditEntry])
def history(case: HistoryRead, actor: ActorDep, db: DbDep) -> list[AuditEntry]:
    """The case's audit trail (hash-chained). Its reasons (refusals, send-backs) are personal data: the read is
    written to the access log first."""
    return [AuditEntry(**e.model_dump()) for e in cases.history(db, case.id or 0, actor=actor)]


@router.get("/{case_id}/audit", response_model=AuditReport)
def verify_chain(case: CaseDep, db: DbDep) -> AuditReport:
    """Check the case's audit chain: any edited or deleted event is reported."""
    with db.reader() as session:
        problem = audit.verify_case(session, case)
    return AuditReport(intact=problem is None, checked=1, breaks=[str(problem)] if problem else [])


@router.get("/{case_id}/messages", response_model=list[MessageEntry])
def case_messages(case: CaseDep, actor: ActorDep, db: DbDep) -> list[MessageEntry]:
    """Messages sent and received for this case, with their receipts."""
    return [MessageEntry(message_id=m.message_id, direction=m.direction, kind=m.kind, sender=m.sender_code,
                         recipient=m.recipient_code, status=m.status, attempts=m.attempts,
                         created_at=m.created_at, sent_at=m.sent_at, receipt=m.receipt, last_error=m.last_error)
            for m in cases.messages(db, case.id or 0, actor=actor)]


@router.get("/{case_id}/deadlines", response_model=list[DeadlineEntry])
def case_deadlines(case: CaseDep, db: DbDep) -> list[DeadlineEntry]:
    """The case's clocks: what is due, by whom, and which reminders went out."""
    with db.reader() as session:
        rows = session.exec(select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.id))).all()
    return [deadline_entry(d, case.reference) for d in rows]


def deadline_entry(d: Deadline, reference: str | None) -> DeadlineEntry:
    assert d.id is not None
    return DeadlineEntry(id=d.id, case_id=d.case_id, reference=reference, kind=d.kind,
                         responsible=d.responsible_code, status=d.status, started_at=d.started_at,
                         due_at=d.due_at, paused_at=d.paused_at, stopped_at=d.stopped_at,
                         level_sent=d.level_sent)
