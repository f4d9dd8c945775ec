"""The operations view (supervisors): messages not delivered, failed notifications, and a retry for each."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from engine.i18n import N_
from engine.web import delivery, operations
from engine.web.context import PageNotFound, WebContext, WebRoute, web_context
from engine.web.routes._common import form_context

router = APIRouter(route_class=WebRoute)

RETRY_QUEUED = N_("Retry delivery")
NOTIFICATION_QUEUED = N_("Queue the notification again")


def _supervisor(request: Request) -> WebContext:
    ctx = web_context(request)
    if not operations.allowed(ctx.actor):  # logged in but not a supervisor: the page does not exist for them
        raise PageNotFound()
    return ctx


@router.get("/operations")
def operations_page(request: Request) -> Response:
    ctx = _supervisor(request)
    return ctx.render(
        "operations.html.j2",
        messages=operations.undelivered(ctx.db, ctx.actor.authority_code),
        notifications=operations.failed_notifications(ctx.db, ctx.actor.authority_code),
        timezone=form_context(ctx).timezone,
    )


@router.post("/operations/messages/{message_id}/retry")
def retry_message(request: Request, message_id: str) -> Response:
    ctx = _supervisor(request)
    operations.retry_message(ctx.db, ctx.actor, message_id)
    delivery.hand_over(request)  # the node's dispatcher, or the web's own: the page does not wait
    ctx.flash("done", RETRY_QUEUED)
    return ctx.redirect("/operations")


@router.post("/operations/notifications/{notification_id}/retry")
def retry_notification(request: Request, notification_id: int) -> Response:
    ctx = _supervisor(request)
    operations.retry_notification(ctx.db, ctx.actor, notification_id)
    ctx.flash("done", NOTIFICATION_QUEUED)
    return ctx.redirect("/operations")
