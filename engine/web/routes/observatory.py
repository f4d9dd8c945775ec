"""The observatory's page: the combined figures of a period, with charts (users of an observatory only)."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response

from engine import formatting, observatory
from engine.errors import InvalidInput, NotFound
from engine.observatory.chart import chart_png
from engine.observatory.labels import BREAKDOWN_LABELS, category_label
from engine.observatory.render import sections
from engine.web.context import WebRoute, web_context

router = APIRouter(route_class=WebRoute)


@router.get("/observatory")
def observatory_page(request: Request, period: str = "") -> Response:
    ctx = web_context(request)
    try:
        config = observatory.config(ctx.db, ctx.actor.authority_code)
    except InvalidInput:
        raise NotFound() from None
    received = observatory.received_returns(ctx.db, config.code)
    periods = sorted({r.period for r in received}, reverse=True)
    chosen = period or (periods[0] if periods else "")
    table = observatory.publish(ctx.db, config.code, observatory.parse_period(chosen)) if chosen else None
    chart = base64.b64encode(chart_png(table, ctx.lang)).decode() if table and table.rows else None
    return ctx.render("observatory.html.j2", table=table, periods=periods, chosen=chosen, chart=chart,
                      sections=sections(table) if table else [], breakdown_labels=BREAKDOWN_LABELS,
                      category_label=lambda b, c: category_label(b, c, ctx.lang),
                      number=lambda n: formatting.format_number(n, ctx.lang),
                      money=lambda a, c: formatting.format_currency(a, c, ctx.lang))
