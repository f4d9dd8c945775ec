"""The work queues (inbox) and the authority's tracking list with filters."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from engine.lifecycle import Role, State
from engine.web import queries
from engine.web.context import WebRoute, web_context

router = APIRouter(route_class=WebRoute)


@router.get("/")
def inbox(request: Request) -> Response:
    ctx = web_context(request)
    actor = ctx.actor
    sections = []
    if actor.role in (Role.JUDGE, Role.SUPERVISOR):
        sections.append(("approvals", queries.pending_approval(ctx.db, actor)))
    sections.append(("action", queries.needing_action(ctx.db, actor)))
    sections.append(("incoming", queries.incoming(ctx.db, actor)))
    if actor.role in (Role.CLERK, Role.JUDGE):
        sections.append(("drafts", queries.my_drafts(ctx.db, actor)))
    return ctx.render("inbox.html.j2", sections=sections)


@router.get("/tracking")
def tracking(
    request: Request, state: str = "", country: str = "", urgency: str = "", overdue: str = "", side: str = ""
) -> Response:
    ctx = web_context(request)
    filters = queries.Filters(
        state=state if state in State._value2member_map_ else None,
        country=country.upper() if len(country) == 2 and country.isalpha() else None,
        urgency=urgency if urgency in ("normal", "urgent") else None,
        overdue=overdue in ("1", "on", "true"),
        side=side if side in ("requesting", "requested") else None,
    )
    rows = queries.tracking(ctx.db, ctx.actor, filters)
    return ctx.render(
        "tracking.html.j2",
        rows=rows,
        filters=filters,
        states=[s.value for s in State],
        countries=queries.counterpart_countries(ctx.db, ctx.actor.authority_code),
    )
