"""Lifecycle actions from the case page: one form per action (generated from the action's schema, or a short
confirmation), applied through :func:`engine.actions.apply_action` with the version the user saw."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from engine import forms
from engine.actions import Outcome, apply_action
from engine.errors import ExhortoError, FormInvalid, StaleVersion
from engine.i18n import N_
from engine.lifecycle import Transition
from engine.store.models import Case
from engine.web import delivery, effects, schema_form, services, story
from engine.web.context import PageNotFound, WebContext, WebRoute, web_context
from engine.web.routes._common import form_context, own_case, read_posted

router = APIRouter(route_class=WebRoute)

# Actions whose guard asks for reasons although they carry no form of their own.
REASONS_ONLY = frozenset({"send_back"})
# Decisions on the request itself: their page shows the request (a read of its personal data, logged first).
SHOWS_REQUEST = frozenset({"approve", "transmit", "send_back"})
NOTHING_DONE = N_("Nothing was done: correct the fields marked below.")
NOT_TRANSMITTED = N_("The request was not transmitted.")
STALE = N_(
    "Someone else acted on this case while you were looking at it: nothing was done. The page now "
    "shows the current state; check it and try again."
)


def _transition(ctx: WebContext, case: Case, action: str) -> Transition:
    row = services.transition_for(case, ctx.actor, action)
    if row is None:
        raise PageNotFound()
    return row


def _render(
    ctx: WebContext,
    case: Case,
    row: Transition,
    payload: dict[str, Any],
    *,
    version: int,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
    reasons: str = "",
    transmit: bool = True,
) -> Response:
    fields = (
        schema_form.build(row.form, payload, form_context(ctx), errors, skip=frozenset({"references"}))
        if row.form
        else []
    )
    summary = schema_form.summary(fields, errors or {})
    title = schema_form.label(forms.load_schema(row.form), ctx.lang, row.form) if row.form else None
    request_fields: list[schema_form.Field] = []
    if row.action in SHOWS_REQUEST:
        services.record_read(ctx.db, ctx.actor, case, "case.review")
        request_fields = schema_form.build(case.schema_id or "request", case.payload, form_context(ctx))
    own, other = case.authority_code, case.counterpart_code
    requesting, requested = (own, other) if case.side == "requesting" else (other, own)
    return ctx.render(
        "action.html.j2",
        status_code=status_code,
        case=case,
        row=row,
        fields=fields,
        request_fields=request_fields,
        request_title=schema_form.label(forms.load_schema(case.schema_id or "request"), ctx.lang, "request"),
        request_summary=story.request_summary(request_fields, ctx.lang),
        parties=[effects.party(ctx.db, code, ctx.lang) for code in (requesting, requested)],
        effects=effects.planned(ctx.db, case, row, ctx.lang),
        version=version,
        summary=summary,
        message=message,
        form_title=title,
        reasons_only=row.action in REASONS_ONLY,
        reasons=reasons,
        transmit=transmit,
    )


@router.get("/cases/{case_id}/actions/{action}")
def action_page(request: Request, case_id: int, action: str) -> Response:
    ctx = web_context(request)
    case = own_case(ctx, case_id)
    row = _transition(ctx, case, action)
    return _render(ctx, case, row, services.action_defaults(case, action, row.form), version=case.version)


@router.post("/cases/{case_id}/actions/{action}")
async def act(request: Request, case_id: int, action: str) -> Response:
    ctx = web_context(request)
    case = own_case(ctx, case_id)
    row = _transition(ctx, case, action)
    version = case.version
    if row.form:
        posted = await read_posted(ctx, row.form, case)
        payload = {**posted.payload, "references": services.references(case)}
        version = posted.version if posted.version is not None else case.version
        if posted.operation:
            return _render(
                ctx,
                case,
                row,
                schema_form.edit_list(payload, posted.operation),
                version=version,
                errors=posted.errors or None,
            )
        # The form's own errors first, each next to its field (the engine would stop at the first guard).
        problems = schema_form.errors_by_pointer(forms.validate(row.form, payload, complete=True, lang=ctx.lang))
        for pointer, texts in posted.errors.items():
            problems.setdefault(pointer, []).extend(texts)
        if problems:
            return _render(
                ctx, case, row, payload, version=version, errors=problems, status_code=422, message=ctx._(NOTHING_DONE)
            )
        reasons, transmit = "", False
    else:
        form = await request.form()
        raw_version = str(form.get("version") or "")
        version = int(raw_version) if raw_version.isdigit() else case.version
        reasons = str(form.get("reasons") or "").strip()
        transmit = form.get("transmit") == "1"
        payload = {"reasons": reasons} if row.action in REASONS_ONLY else {}
    try:
        outcome = await run_in_threadpool(_apply, ctx, case.id or 0, action, payload, version)
        outcomes = [outcome]
    except StaleVersion:
        ctx.flash("error", STALE)
        return ctx.redirect(f"/cases/{case.id}")
    except ExhortoError as error:  # the page again, with the fields marked (invalid form) or the reason
        invalid = isinstance(error, FormInvalid)
        return _render(
            ctx,
            case,
            row,
            payload,
            version=version,
            status_code=422,
            errors=schema_form.errors_by_pointer(error.errors) if isinstance(error, FormInvalid) else None,
            message=ctx._(NOTHING_DONE) if invalid else error.message(ctx.lang),
            reasons=reasons,
            transmit=transmit,
        )
    if action == "approve" and transmit:
        try:
            outcomes.append(await run_in_threadpool(_transmit, ctx, outcome))
        except ExhortoError as error:  # approved all the same: say so, and why it was not transmitted
            ctx.flash_said(effects.done(ctx.db, outcomes, ctx.lang, dispatching=False))
            ctx.flash_said(f"{ctx._(NOT_TRANSMITTED)} {error.message(ctx.lang)}", error=True)
            return ctx.redirect(f"/cases/{case.id}")
    # Delivered right away: by the node's own dispatcher (exhorto serve) or by one the page wakes (hub, small nodes).
    dispatching = any(o.message is not None for o in outcomes) and delivery.hand_over(request)
    ctx.flash_said(effects.done(ctx.db, outcomes, ctx.lang, dispatching=dispatching))
    return ctx.redirect(f"/cases/{case.id}")


def _apply(ctx: WebContext, case_id: int, action: str, payload: dict[str, Any], version: int) -> Outcome:
    """The action, in a worker thread: the database work must not hold up the event loop, and a PDF signature
    (pyHanko) cannot run inside it. The message's PDF is left to the dispatcher (``defer_document``): the page
    answers at once."""
    return apply_action(ctx.db, case=case_id, action=action, actor=ctx.actor, payload=payload,
                        expected_version=version, defer_document=True)


def _transmit(ctx: WebContext, approved: Outcome) -> Outcome:
    """Approve-and-transmit: the transmission is a second action on the version the approval produced."""
    return _apply(ctx, approved.case.id or 0, "transmit", {}, approved.case.version)
