"""Statistics for observatories and personal-data endpoints: ``GET /stats``, ``GET /privacy/access-log``,
``POST /privacy/subject-export`` (JSON, or PDF/A with ``?format=pdf``). Include with
``app.include_router(stats.router)``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from engine import privacy, stats
from engine.api.deps import ActorDep, DbDep, LangDep
from engine.errors import InvalidInput, RoleNotAllowed
from engine.lifecycle import Role

router = APIRouter(tags=["statistics and privacy"])
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}


@router.get("/stats", responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def get_stats(
    actor: ActorDep,
    db: DbDep,
    lang: LangDep,
    period_from: date = Query(..., alias="from", description="first day, in the authority's timezone"),
    period_to: date = Query(..., alias="to", description="last day, inclusive"),
    format: str = Query("json", pattern="^(json|csv|md)$"),
    min_group: int = Query(stats.DEFAULT_THRESHOLD, ge=1, le=1000),
) -> Response:
    """Aggregates of the caller's authority: no personal data, groups smaller than ``min_group`` suppressed."""
    report = stats.compute(db, actor.authority_code, period_from=period_from, period_to=period_to, threshold=min_group)
    return Response(stats.render(report, format, lang), media_type=MEDIA[format])


class AccessEntry(BaseModel):
    seq: int
    at: str
    user: str
    channel: str
    purpose: str
    case: str | None


@router.get("/privacy/access-log", response_model=list[AccessEntry])
def get_access_log(
    actor: ActorDep, db: DbDep, user: str | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[AccessEntry]:
    """Who read personal data of the caller's authority (supervisors and auditors), newest first."""
    if actor.role not in (Role.SUPERVISOR, Role.AUDITOR):
        raise RoleNotAllowed(role=actor.role.value, action="read the access log", allowed="supervisor, auditor")
    return [
        AccessEntry(
            seq=e.seq, at=e.at.isoformat(), user=e.username, channel=e.channel, purpose=e.purpose, case=e.case_reference
        )
        for e in privacy.access_log(db, actor.authority_code, user=user, limit=limit)
    ]


class SubjectRequest(BaseModel):
    surname: str | None = Field(None, max_length=300)
    given_names: str | None = Field(None, max_length=300)
    birth_date: date | None = None
    document_number: str | None = Field(None, max_length=64)


@router.post("/privacy/subject-export", responses={200: {"content": {"application/json": {}, "application/pdf": {}}}})
def subject_export(
    body: SubjectRequest, actor: ActorDep, db: DbDep, lang: LangDep, format: str = Query("json", pattern="^(json|pdf)$")
) -> Any:
    """Data-subject access export over the caller's authority's cases (supervisors); every read is logged."""
    if actor.role != Role.SUPERVISOR:
        raise RoleNotAllowed(role=actor.role.value, action="export personal data", allowed="supervisor")
    if body.birth_date is not None and body.birth_date > date.today():
        raise InvalidInput(field="birth_date", reason="in the future")
    query = privacy.SubjectQuery(
        surname=body.surname,
        given_names=body.given_names,
        birth_date=body.birth_date.isoformat() if body.birth_date else None,
        document_number=body.document_number,
    )
    data = privacy.subject_export(db, actor, query, channel="api")
    if format == "pdf":
        return Response(privacy.subject_pdf(data, lang), media_type="application/pdf")
    return data
