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
    period: str | None = Query(None, description="a calendar period: 2026, 2026-Q2 or 2026-05"),
    period_from: date | None = Query(None, alias="from", description="first day of a calendar period"),
    period_to: date | None = Query(None, alias="to", description="its last day (the range must be a period)"),
    format: str = Query("json", pattern="^(json|csv|md)$"),
    min_group: int | None = Query(None, description="larger than the authority's policy, never smaller"),
    authority: str | None = Query(None, description="another authority: only for an observatory it reports to"),
) -> Response:
    """Aggregates of an authority (the caller's by default): no personal data, groups smaller than the
    authority's policy (or a larger ``min_group``) suppressed, calendar periods only."""
    code = stats.authorize(db, actor, authority)  # the one authorization path (also CLI and web)
    threshold = stats.threshold_for(db, code, min_group, "min_group")
    if period is not None:
        if period_from is not None or period_to is not None:
            raise InvalidInput(field="period", reason="give either period or from and to")
        span = stats.parse_period(period, "period")
    elif period_from is not None and period_to is not None:
        span = stats.calendar_period(period_from, period_to, ("from", "to"))
    else:
        raise InvalidInput(field="period", reason="give a calendar period (2026, 2026-Q1, 2026-03)")
    report = stats.compute(db, code, period=span, threshold=threshold)
    return Response(stats.render(report, format, lang), media_type=MEDIA[format])


class DisclosurePolicyBody(BaseModel):
    min_group: int = Field(..., ge=2, le=1000)


class DisclosurePolicyOut(BaseModel):
    authority: str
    min_group: int
    history: list[dict[str, Any]]


def _policy(db: Any, authority: str) -> DisclosurePolicyOut:
    return DisclosurePolicyOut(
        authority=authority,
        min_group=stats.min_group(db, authority),
        history=[
            {"min_group": r.min_group, "previous": r.previous, "set_by": r.set_by, "set_at": r.set_at.isoformat()}
            for r in stats.policy_history(db, authority)
        ],
    )


@router.get("/stats/policy", response_model=DisclosurePolicyOut)
def get_disclosure_policy(actor: ActorDep, db: DbDep) -> DisclosurePolicyOut:
    """The smallest published group of the caller's authority, and every change of it."""
    return _policy(db, actor.authority_code)


@router.put("/stats/policy", response_model=DisclosurePolicyOut)
def put_disclosure_policy(body: DisclosurePolicyBody, actor: ActorDep, db: DbDep) -> DisclosurePolicyOut:
    """Change the smallest published group of the caller's authority (supervisors; every change is kept)."""
    stats.set_min_group(db, actor, body.min_group)
    return _policy(db, actor.authority_code)


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
