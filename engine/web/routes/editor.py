"""The request editor: generated from the request schema, in the sections of the request's instrument profile;
saves drafts, submits them for approval."""

from __future__ import annotations

import dataclasses
from contextlib import suppress
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from engine import cases, forms, system_fields
from engine.actions import apply_action
from engine.errors import FormInvalid, StaleVersion
from engine.i18n import N_
from engine.lifecycle import Role, Side, State
from engine.store.models import Case
from engine.web import editor_sections, pickers, queries, schema_form, services
from engine.web.context import PageNotFound, WebContext, WebRoute, web_context
from engine.web.routes._common import form_context, own_case, read_posted

router = APIRouter(route_class=WebRoute)

STALE = N_(
    "Someone else changed this case while you were editing it. Your changes were not saved: "
    "open the case again to see the current version."
)


def _drafter(ctx: WebContext) -> None:
    if ctx.actor.role not in (Role.CLERK, Role.JUDGE):
        raise PageNotFound()


def _editable(ctx: WebContext, case_id: int) -> Case:
    case = own_case(ctx, case_id)
    _drafter(ctx)
    if case.state != State.DRAFT or case.side != Side.REQUESTING:
        raise PageNotFound()
    return case


@router.get("/requests/new")
def new_request_page(request: Request) -> Response:
    ctx = web_context(request)
    _drafter(ctx)
    return ctx.render(
        "new_request.html.j2",
        error=None,
        authorities=queries.authorities(ctx.db, excluding=ctx.actor.authority_code),
    )


@router.post("/requests/new")
async def new_request(request: Request) -> Response:
    ctx = web_context(request)
    _drafter(ctx)
    form = await request.form()
    counterpart = str(form.get("counterpart") or "")
    choices = queries.authorities(ctx.db, excluding=ctx.actor.authority_code)
    if counterpart not in {a.code for a in choices}:
        return ctx.render(
            "new_request.html.j2",
            status_code=422,
            authorities=choices,
            error=ctx._(N_("Choose the requested authority.")),
        )
    assert ctx.user is not None
    payload = services.new_request_payload(ctx.db, ctx.user, counterpart)
    case = await run_in_threadpool(
        partial(cases.create_case, ctx.db, actor=ctx.actor, counterpart=counterpart, payload=payload)
    )
    ctx.flash("success", N_("Draft created. Fill in the request and save it."))
    return ctx.redirect(f"/cases/{case.id}/edit")


def _render_editor(
    ctx: WebContext,
    case: Case,
    payload: dict[str, Any],
    *,
    version: int,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
    opened: str = "",
) -> Response:
    shown = dict(payload)
    shown.setdefault("references", {"requesting": case.reference})
    fctx = dataclasses.replace(form_context(ctx), pickers=True)
    fields = schema_form.build(case.schema_id or "request", shown, fctx, errors)
    editor_sections.directory_blocks(fields)
    sections = editor_sections.build_sections(_profile(ctx, case, shown), fields, ctx.lang)
    # The marks and the checklist: what would stop the draft from being submitted, from the same validation as the
    # submission itself. A draft may be incomplete: what is missing is listed, not marked as an error.
    summary = editor_sections.mark(sections, _problems(ctx, case, payload), errors or {}, opened=opened)
    return ctx.render(
        "editor.html.j2",
        status_code=status_code,
        case=case,
        sections=sections,
        version=version,
        summary=[(pointer, text) for pointer, text, _ in summary],
        checklist=[] if summary else [s for s in sections if s.missing or s.invalid],
        iccs_entries=pickers.iccs_entries(ctx.lang),
        message=message,
        form_title=_title(ctx, case),
    )


def _profile(ctx: WebContext, case: Case, payload: dict[str, Any]) -> forms.Profile:
    """The profile of the request's instrument; before one is chosen, the one the two States would use (an EIO
    between two States bound by the Directive, otherwise the general MLA profile)."""
    basis = payload.get("legal_basis")
    if isinstance(basis, dict) and basis.get("instrument"):
        return forms.profile_of(payload)
    with ctx.db.reader() as session:
        facts = system_fields.facts_of(session, case)
    return forms.profile_for_instrument(forms.default_instrument(facts.requesting.country, facts.requested.country))


def _problems(ctx: WebContext, case: Case, payload: dict[str, Any]) -> list[forms.FormError]:
    """Every problem that would stop ``payload`` from being submitted, with the system's fields as the engine
    will set them (they are shown, never posted)."""
    form = case.schema_id or "request"
    with ctx.db.reader() as session:
        values = system_fields.system_values(system_fields.facts_of(session, case), form)
    with suppress(FormInvalid):  # a contradiction is reported by the save itself
        payload = system_fields.settle(payload, values, lang=ctx.lang, form=form)
    return forms.validate(form, payload, complete=True, lang=ctx.lang)


def _keep_directory_blocks(payload: dict[str, Any], stored: dict[str, Any]) -> None:
    """The authority blocks are the directory's: whatever was posted for them, the stored ones stay."""
    for pointer in editor_sections.DIRECTORY_BLOCKS:
        key = pointer.strip("/")
        payload.pop(key, None)
        if key in stored:
            payload[key] = stored[key]


def _title(ctx: WebContext, case: Case) -> str:
    schema = forms.load_schema(case.schema_id or "request")
    return schema_form.label(schema, ctx.lang, "request")


@router.get("/cases/{case_id}/edit")
def edit_page(request: Request, case_id: int) -> Response:
    ctx = web_context(request)
    case = _editable(ctx, case_id)
    services.record_read(ctx.db, ctx.actor, case, "case.edit")
    return _render_editor(ctx, case, case.payload, version=case.version)


@router.post("/cases/{case_id}/edit")
async def save(request: Request, case_id: int) -> Response:
    ctx = web_context(request)
    case = _editable(ctx, case_id)
    posted = await read_posted(ctx, case.schema_id or "request", case)
    _keep_directory_blocks(posted.payload, case.payload)
    version = posted.version if posted.version is not None else case.version
    if posted.operation:  # add or remove an entry: show the form again, nothing saved yet, its section open
        payload = schema_form.edit_list(posted.payload, posted.operation)
        opened = posted.operation.partition(":")[2]
        return _render_editor(ctx, case, payload, version=version, errors=posted.errors or None, opened=opened)
    if posted.errors:
        return _render_editor(ctx, case, posted.payload, version=version, errors=posted.errors, status_code=422)
    try:
        saved = await run_in_threadpool(
            partial(cases.update_draft, ctx.db, case=case.id or 0, actor=ctx.actor, payload=posted.payload,
                    expected_version=version)
        )
    except FormInvalid as error:
        errors = schema_form.errors_by_pointer(error.errors)
        if posted.intent == "submit":  # all at once: what is wrong and what is still missing, not in rounds
            for pointer, texts in schema_form.errors_by_pointer(_problems(ctx, case, posted.payload)).items():
                errors.setdefault(pointer, []).extend(t for t in texts if t not in errors[pointer])
        return _render_editor(
            ctx,
            case,
            posted.payload,
            version=version,
            status_code=422,
            errors=errors,
            message=ctx._(N_("The draft was not saved: correct the fields marked below.")),
        )
    except StaleVersion:
        return _render_editor(ctx, case, posted.payload, version=version, status_code=409, message=ctx._(STALE))
    if posted.intent != "submit":
        ctx.flash("success", N_("Draft saved."))
        return ctx.redirect(f"/cases/{saved.id}/edit")
    problems = forms.validate(saved.schema_id or "request", saved.payload, complete=True, lang=ctx.lang)
    if problems:
        return _render_editor(
            ctx,
            saved,
            saved.payload,
            version=saved.version,
            status_code=422,
            errors=schema_form.errors_by_pointer(problems),
            message=ctx._(N_("The draft was saved, but it cannot be submitted yet: complete the fields marked below.")),
        )
    try:
        await run_in_threadpool(
            partial(apply_action, ctx.db, case=saved.id or 0, action="submit", actor=ctx.actor, payload={},
                    expected_version=saved.version)
        )
    except StaleVersion:
        return _render_editor(ctx, saved, saved.payload, version=saved.version, status_code=409, message=ctx._(STALE))
    ctx.flash("success", N_("The request was submitted for approval."))
    return ctx.redirect(f"/cases/{saved.id}")
