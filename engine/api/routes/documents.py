"""Documents of a case: the request as PDF/A in a chosen language, and attached files (upload / download)."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from engine.api.deps import ActorDep, CaseDep, DbDep, LangDep, WriterDep, reading, writes
from engine.api.schemas import AttachmentEntry
from engine.errors import InvalidInput, NotFound
from engine.i18n import N_
from engine.store.federation_models import Attachment
from engine.store.models import Case, utcnow
from engine.store.upsert import insert_ignore

router = APIRouter(prefix="/cases/{case_id}", tags=["documents"])

SAFE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,255}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
DocumentRead = Annotated[Case, reading("request document", channel="pdf")]
ListRead = Annotated[Case, reading("attachment list")]
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "the PDF/A document"}}


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    template = N_("Attachment {sha256} does not exist.")


@router.get("/document", response_class=Response, responses=PDF)
def request_pdf(case: DocumentRead, db: DbDep, lang: LangDep,
                language: str | None = Query(None, alias="lang"), bilingual: str | None = None) -> Response:
    """The request as a PDF/A-3 document (payload embedded), in ``lang`` or the Accept-Language."""
    from engine.documents import render_case

    document = render_case(db, case.id or 0, language or lang, bilingual)
    return Response(document.content, media_type="application/pdf",
                    headers={"Content-Disposition": disposition(document.filename),
                             "ETag": f'"{document.sha256}"'})


@router.post("/attachments", response_model=AttachmentEntry, status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload(case: CaseDep, actor: WriterDep, db: DbDep, request: Request,
                 name: str = Query(..., description="file name, e.g. extractos.pdf")) -> AttachmentEntry:
    """Store a file with the case (the body is the file). Put the returned descriptor in a form's
    ``attachments`` or ``evidence`` list: the file then travels, hash-checked, with the message."""
    limit = request.app.state.settings.max_upload_bytes
    media_type = (request.headers.get("content-type") or "application/octet-stream").split(";")[0].strip()
    if not SAFE_NAME.match(name):
        raise InvalidInput(field="name", reason="1 to 255 characters, no slashes or control characters")
    if not MEDIA_TYPE.match(media_type.lower()):
        raise InvalidInput(field="Content-Type", reason="not a media type such as application/pdf")
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > limit:
            raise InvalidInput(field="body", reason=f"larger than {limit} bytes")
    if not content:
        raise InvalidInput(field="body", reason="the file is empty")
    digest = hashlib.sha256(content).hexdigest()
    entry = AttachmentEntry(name=name, media_type=media_type.lower(), size=len(content), sha256=digest)
    def store() -> None:
        with db.transaction() as session:
            insert_ignore(session, Attachment, {"authority_code": actor.authority_code, "case_id": case.id,
                                                "content": bytes(content), "created_at": utcnow(),
                                                **entry.model_dump()})

    await writes(request).run(store)
    return entry


@router.get("/attachments", response_model=list[AttachmentEntry])
def list_attachments(case: ListRead, db: DbDep) -> list[AttachmentEntry]:
    """Files kept with the case (names can name a person: the read is written to the access log first)."""
    with db.reader() as session:
        rows = session.exec(select(Attachment).where(Attachment.case_id == case.id,
                                                     Attachment.authority_code == case.authority_code)
                            .order_by(col(Attachment.id))).all()
    return [AttachmentEntry(name=r.name, media_type=r.media_type, size=r.size, sha256=r.sha256) for r in rows]


@router.get("/attachments/{sha256}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})
def download(case: CaseDep, db: DbDep, actor: ActorDep, sha256: str) -> Response:
    """The file (personal data: the download is written to the access log first)."""
    from engine.privacy import record_access

    with db.reader() as session:
        row = session.exec(select(Attachment).where(Attachment.case_id == case.id,
                                                    Attachment.authority_code == case.authority_code,
                                                    Attachment.sha256 == sha256)).first()
    if row is None:
        raise AttachmentNotFound(sha256=sha256)
    record_access(db, actor, channel="api", purpose="attachment download", case=case)
    return Response(row.content, media_type=row.media_type,
                    headers={"Content-Disposition": disposition(row.name), "ETag": f'"{row.sha256}"'})


def disposition(name: str) -> str:
    """RFC 6266 with the RFC 5987 UTF-8 form, so any file name (accents, quotes) is a safe header value."""
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"
