"""Request and response bodies of the REST API (they shape the published OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

from engine.i18n import translate
from engine.lifecycle import STATE_LABELS, State, available
from engine.store.models import Case


class CaseSummary(BaseModel):
    id: int
    reference: str
    exchange_id: str
    side: str
    state: str
    state_label: str
    counterpart: str
    counterpart_reference: str | None
    urgency: str
    legal_basis: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class CaseDetail(CaseSummary):
    schema_id: str | None
    payload: dict[str, Any]
    next_actions: list[str]


def _summary_fields(case: Case, lang: str) -> dict[str, Any]:
    assert case.id is not None
    return {"id": case.id, "reference": case.reference, "exchange_id": case.exchange_id, "side": case.side,
            "state": case.state, "state_label": translate(lang, STATE_LABELS[State(case.state)]),
            "counterpart": case.counterpart_code, "counterpart_reference": case.counterpart_reference,
            "urgency": case.urgency, "legal_basis": case.legal_basis, "version": case.version,
            "created_at": case.created_at, "updated_at": case.updated_at}


def summary(case: Case, lang: str) -> CaseSummary:
    return CaseSummary(**_summary_fields(case, lang))


def detail(case: Case, lang: str, role: str) -> CaseDetail:
    actions = sorted({t.action for t in available(case.state, case.side) if role in t.roles})
    return CaseDetail(**_summary_fields(case, lang), schema_id=case.schema_id, payload=case.payload,
                      next_actions=actions)


def json_response(content: bytes | str, status_code: int = 200) -> Response:
    """An answer already serialized (by pydantic-core or orjson): FastAPI sends a returned Response as it is,
    without validating it against the route's response model a second time; the model still documents it."""
    return Response(content=content, status_code=status_code, media_type="application/json")


class CaseCreate(BaseModel):
    counterpart: str = Field(description="code of the requested authority, e.g. ES-MJ", max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, description="request form (may be incomplete)")


class DraftUpdate(BaseModel):
    payload: dict[str, Any]
    version: int = Field(description="the version you read (optimistic lock)")


class ActionRequest(BaseModel):
    action: str = Field(max_length=64, description="lifecycle action, e.g. submit, approve, acknowledge")
    payload: dict[str, Any] = Field(default_factory=dict, description="the action's form, when it has one")
    version: int = Field(description="the version you read (optimistic lock): 409 if the case changed since")


class ActionResult(BaseModel):
    case: CaseDetail
    audit_seq: int
    message_id: str | None


class AvailableAction(BaseModel):
    action: str
    label: str
    to_state: str
    form: str | None


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    payload_hash: str | None
    detail: dict[str, Any]
    hash: str


class AuditReport(BaseModel):
    intact: bool
    checked: int
    breaks: list[str]


class MessageEntry(BaseModel):
    message_id: str
    direction: str
    kind: str
    sender: str
    recipient: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    receipt: dict[str, Any] | None
    last_error: str | None


class DeadlineEntry(BaseModel):
    id: int
    case_id: int
    reference: str | None = None
    kind: str
    responsible: str
    status: str
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    stopped_at: datetime | None
    level_sent: int


class AttachmentEntry(BaseModel):
    name: str
    media_type: str
    size: int
    sha256: str


class FormErrorEntry(BaseModel):
    pointer: str
    code: str
    message: str


class ValidationResult(BaseModel):
    form: str
    schema_id: str
    valid: bool
    errors: list[FormErrorEntry]


class Me(BaseModel):
    username: str
    authority: str
    role: str
    language: str


class AuthorityEntry(BaseModel):
    code: str
    country: str
    name: str
    languages: list[str]
    endpoint_url: str | None
