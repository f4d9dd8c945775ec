"""A case: summary, what the user may do now, the request's content, every message exchanged (read on the page,
in the reader's language), the timeline, PDFs and files."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from engine import documents, forms
from engine.i18n import check_language, is_language
from engine.web import schema_form, services, story
from engine.web.context import PageNotFound, WebRoute, web_context
from engine.web.routes._common import form_context, own_case

router = APIRouter(route_class=WebRoute)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int) -> Response:
    ctx = web_context(request)
    case = own_case(ctx, case_id)
    services.record_read(ctx.db, ctx.actor, case, "case.show")
    fctx = form_context(ctx)
    fields = schema_form.build(case.schema_id or "request", case.payload, fctx)
    schema = forms.load_schema(case.schema_id or "request")
    return ctx.render(
        "case.html.j2",
        case=case,
        fields=fields,
        actions=services.actions_for(case, ctx.actor),
        timeline=services.timeline(ctx.db, case, ctx.actor),
        clocks=story.clocks(ctx.db, case, services.clocks_of(ctx.db, case), fctx.timezone),
        conversation=story.conversation(ctx.db, case, ctx.actor, fctx),
        files=services.attachments_of(ctx.db, case),
        documents=[d for d in documents.list_documents(ctx.db, case.id or 0) if d.message_id],  # sent, not previews
        verdicts=services.signature_verdicts(ctx.db, case, ctx.lang),
        form_title=schema_form.label(schema, ctx.lang, "request"),
        timezone=fctx.timezone,
    )


@router.get("/cases/{case_id}/pdf/{lang}")
def case_pdf(request: Request, case_id: int, lang: str, download: bool = False) -> Response:
    ctx = web_context(request)
    if not is_language(lang):
        raise PageNotFound()
    lang = check_language(lang)
    case = own_case(ctx, case_id)
    services.record_read(ctx.db, ctx.actor, case, "document")
    document = documents.render_case(ctx.db, case.id or 0, lang)
    return _file(document.content, document.media_type, document.filename, download)


@router.get("/cases/{case_id}/documents/{document_id}")
def case_document(request: Request, case_id: int, document_id: int, download: bool = False) -> Response:
    ctx = web_context(request)
    case = own_case(ctx, case_id)
    document = documents.get_document(ctx.db, document_id)
    if document.case_id != case.id:
        raise PageNotFound()
    services.record_read(ctx.db, ctx.actor, case, "document")
    return _file(document.content, document.media_type, document.filename, download)


@router.get("/cases/{case_id}/files/{sha256}")
def case_file(request: Request, case_id: int, sha256: str) -> Response:
    ctx = web_context(request)
    case = own_case(ctx, case_id)
    row = services.attachment(ctx.db, case, sha256)
    if row is None:
        raise PageNotFound()
    services.record_read(ctx.db, ctx.actor, case, "attachment")
    return _file(row.content, row.media_type, row.name, True)


def _file(content: bytes, media_type: str, filename: str, download: bool) -> Response:
    # Uploaded files are always downloaded, never shown inline: their content is not ours to trust.
    disposition = "attachment" if download else "inline"
    fallback = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            # Chromium shows a PDF through an embedded viewer that a page policy with object-src 'none' blocks;
            # files run no script of ours, so only framing is restricted here.
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )
