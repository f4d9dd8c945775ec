"""Shared steps of the routes that post forms: own case lookup, posted fields → payload, uploads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile

from engine import cases
from engine.errors import ExhortoError
from engine.store.models import Authority, Case
from engine.web import schema_form, uploads
from engine.web.context import WebContext


def own_case(ctx: WebContext, case_id: int) -> Case:
    """The case if the user's authority owns it; any other case raises "not found" (rendered as 404)."""
    return cases.get_case(ctx.db, case_id, actor=ctx.actor)


def form_context(ctx: WebContext) -> schema_form.Context:
    with ctx.db.reader() as session:
        authority = session.get(Authority, ctx.actor.authority_code)
    return schema_form.Context(lang=ctx.lang, timezone=authority.timezone if authority else "UTC")


@dataclass
class Posted:
    payload: dict[str, Any]
    fields: schema_form.Posted
    errors: dict[str, list[str]] = field(default_factory=dict)
    operation: str = ""
    intent: str = ""
    version: int | None = None


async def read_posted(ctx: WebContext, form_name: str, case: Case) -> Posted:
    """Parse the posted form; uploaded files are checked, kept with the case and listed in the payload (a
    rejected file is reported next to its upload field and stored nowhere)."""
    form = await ctx.request.form()
    fields = schema_form.Posted(list(form.multi_items()))
    fctx = form_context(ctx)
    payload = schema_form.parse(form_name, fields, fctx)
    posted = Posted(
        payload=payload, fields=fields, operation=fields.get("_op") or "", intent=fields.get("intent") or ""
    )
    version = fields.get("version") or ""
    posted.version = int(version) if version.isdigit() else None
    accepted: list[uploads.CheckedFile] = []
    for name, value in form.multi_items():
        if not (isinstance(value, UploadFile) and name.startswith("upload:") and value.filename):
            continue
        pointer = name.removeprefix("upload:")
        content = await value.read(ctx.config.max_upload_bytes + 1)
        try:
            checked = uploads.check(value.filename, content, ctx.config.max_upload_bytes)
        except ExhortoError as error:
            posted.errors.setdefault(pointer, []).append(error.message(ctx.lang))
            continue
        accepted.append(checked)
        description = (fields.get(f"{pointer}#description") or "").strip()
        entry = {**checked.descriptor(), **({"description": description} if description else {})}
        key = pointer.strip("/")
        listed = payload.setdefault(key, [])
        if isinstance(listed, list) and all(e.get("sha256") != checked.sha256 for e in listed if isinstance(e, dict)):
            listed.append(entry)
    if accepted:
        uploads.store(ctx.db, authority=case.authority_code, case_id=case.id or 0, files=accepted)
    return posted
