"""Rendering the documents of a case from the database, keeping those sent with the case, attaching them to
messages. Previews (web, API, ``exhorto pdf``) are rendered on demand and never kept.

Who issues a document and who receives it, its references, its date and the timezone its date-times are read
in all come from the case record and the message, so the same case renders to the same bytes every time."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import ScalarResult
from sqlmodel import Session, col, select

from engine.canonical import sha256_hex
from engine.documents._errors import DocumentNotFound, NotRenderable
from engine.documents._render import Party, RenderedPdf, RenderRequest, document_language, render_pdf
from engine.documents._signing import sign_rendering
from engine.formatting import negotiate_language
from engine.i18n import LANGUAGES
from engine.lifecycle import Side, State
from engine.store.db import Database
from engine.store.documents_models import Document
from engine.store.federation_models import Attachment
from engine.store.models import AuditEvent, Authority, Case, Message, User
from engine.store.queries import load_authority, load_case
from engine.store.upsert import insert_ignore

_DRAFT_STATES = {State.DRAFT.value, State.PENDING_APPROVAL.value, State.APPROVED.value}


# --- public API ---------------------------------------------------------------------------------------------
def render_case(db: Database, case_ref: int | str, lang: str, bilingual: str | None = None) -> Document:
    """Render the request of a case in ``lang`` (optionally side by side with ``bilingual``). A preview is not
    kept: the case's stored documents are those of messages actually sent. When the rendering is one of them
    (the request as transmitted), that stored, signed copy is returned."""
    lang, bilingual = _languages(lang, bilingual)
    with db.reader() as session:
        case = load_case(session, case_ref)
        request = _request_for_case(session, case, lang, bilingual)
    return _preview(db, case, request)


def render_message(db: Database, message_id: str, lang: str, bilingual: str | None = None, *,
                   case_id: int | None = None) -> Document:
    """Render the form a message carries (acknowledgement, refusal, …), without keeping it (the copy sent with
    the message, when the rendering is that one); with ``case_id``, the message's row on that case (a message
    of another case "does not exist")."""
    lang, bilingual = _languages(lang, bilingual)
    with db.reader() as session:
        message = _load_message(session, message_id, case_id)
        if message.case_id is None:
            raise NotRenderable(form=message.kind, reason=f"message {message_id} belongs to no case")
        case = load_case(session, message.case_id)
        request = _request_for_message(session, case, message, lang, bilingual)
    return _preview(db, case, request)


def write_case_pdfs(
    db: Database, case_ref: int | str, out_dir: Path, languages: Sequence[str] = LANGUAGES
) -> list[Path]:
    """Write the request and every form message of a case, in each language, into ``out_dir``; return the
    paths in order (language by language, then the exchange in the order it happened)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with db.reader() as session:
        case = load_case(session, case_ref)
        message_ids = [m.message_id for m in _form_messages(session, case)]
    paths: list[Path] = []
    for lang in languages:
        documents = [render_case(db, case.id or case_ref, lang)]
        documents += [render_message(db, message_id, lang, case_id=case.id) for message_id in message_ids]
        for number, document in enumerate(documents, start=1):
            tag = document.language.replace("_", "-")  # BCP 47: pt-BR
            path = out_dir / f"{_slug(case.reference)}_{number:02d}-{document.kind}_{tag}.pdf"
            path.write_bytes(document.content)
            paths.append(path)
    return paths


def list_documents(db: Database, case_ref: int | str) -> list[Document]:
    with db.reader() as session:
        case = load_case(session, case_ref)
        return list(
            session.exec(select(Document).where(Document.case_id == case.id).order_by(col(Document.id)))
        )


def get_document(db: Database, document_id: int) -> Document:
    with db.reader() as session:
        document = session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound(document=str(document_id))
    return document


def attach_on_send() -> bool:
    """Whether outbound messages get their PDF (``EXHORTO_ATTACH_PDF``, on unless set to ``0``/``off``).

    Rendering costs ~0.1 s of CPU per message and ~0.45 s per request; test suites that exercise only the
    lifecycle may switch it off, production never should."""
    return os.environ.get("EXHORTO_ATTACH_PDF", "1").strip().lower() not in ("0", "off", "false", "no")


@dataclass(frozen=True)
class Prerendered:
    """An outbound message's PDF rendered before the action's write transaction (see
    :func:`engine.actions.prepare_outbound`): the request it was rendered from, and the result."""

    request: RenderRequest
    pdf: RenderedPdf


def outbound_rendering(session: Session, case: Case, message: Message) -> RenderRequest:
    """What the PDF of an outbound message shows: its form in the recipient's language, side by side with the
    sender's when they differ."""
    sender, recipient = (
        session.get(Authority, message.sender_code),
        session.get(Authority, message.recipient_code),
    )
    lang = negotiate_language(None, recipient.languages if recipient else None)
    second = negotiate_language(None, sender.languages if sender else None)
    return _request_for_message(session, case, message, lang, second if second != lang else None)


def attach_outbound_document(session: Session, case: Case, message: Message,
                             prerendered: Prerendered | None = None) -> Document | None:
    """The hook :func:`engine.actions.apply_in_session` calls for every outbound message: the PDF of the form it
    carries (:func:`outbound_rendering`; ``prerendered`` when it was made before the transaction), kept with the
    case and listed in the message's ``attachments`` — inside the caller's transaction, so a rolled-back action
    leaves neither document nor attachment behind. Returns None when switched off (:func:`attach_on_send`)."""
    if not attach_on_send():
        return None
    request, pdf = ((prerendered.request, prerendered.pdf) if prerendered is not None
                    else (outbound_rendering(session, case, message), None))
    document = _store(session, case, message.message_id, request, pdf)
    entry = {
        "name": document.filename,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
    }
    # The transports carry a listed file's bytes only if the sender's attachment store holds them.
    insert_ignore(session, Attachment, {**entry, "authority_code": message.sender_code, "case_id": case.id,
                                        "content": document.content, "created_at": document.created_at})
    message.attachments = [*message.attachments, entry]  # a new list, so the JSON column is written
    return document


# --- building render requests -------------------------------------------------------------------------------
def _request_for_case(session: Session, case: Case, lang: str, bilingual: str | None) -> RenderRequest:
    requesting, requested = _sides(case)
    sent = session.exec(
        select(Message).where(Message.case_id == case.id, Message.kind == "request").order_by(col(Message.id))
    ).first()
    issuer = load_authority(session, requesting)
    return RenderRequest(
        form="request",
        payload=case.payload,
        schema_id=case.schema_id,
        language=lang,
        secondary_language=bilingual,
        sender=_party(issuer),
        recipient=_party(load_authority(session, requested)),
        requesting_reference=_reference(case, Side.REQUESTING),
        requested_reference=_reference(case, Side.REQUESTED),
        issued_at=sent.created_at if sent else case.created_at,
        timezone=issuer.timezone,
        signer=_approver(session, case),
        draft=case.side == Side.REQUESTING.value and case.state in _DRAFT_STATES,
    )


def _request_for_message(
    session: Session, case: Case, message: Message, lang: str, bilingual: str | None
) -> RenderRequest:
    if message.kind == "request":
        request = _request_for_case(session, case, lang, bilingual)
        return RenderRequest(
            **{
                **request.__dict__,
                "payload": message.payload,
                "schema_id": message.schema_id,
                "issued_at": message.created_at,
                "draft": False,
            }
        )
    from engine.forms import FORMS

    if message.kind not in FORMS:
        raise NotRenderable(form=message.kind, reason="this message carries no form")
    issuer = load_authority(session, message.sender_code)
    return RenderRequest(
        form=message.kind,
        payload=message.payload,
        schema_id=message.schema_id,
        language=lang,
        secondary_language=bilingual,
        sender=_party(issuer),
        recipient=_party(load_authority(session, message.recipient_code)),
        requesting_reference=_reference(case, Side.REQUESTING),
        requested_reference=_reference(case, Side.REQUESTED),
        issued_at=message.created_at,
        timezone=issuer.timezone,
        instrument=case.legal_basis,
    )


def _store(session: Session, case: Case, message_id: str | None, request: RenderRequest,
           pdf: RenderedPdf | None = None) -> Document:
    pdf = pdf or render_pdf(request)
    rendering = pdf.rendering_sha256 or pdf.sha256
    # A signature differs every time: the same rendering, already kept (signed), is that document.
    document = _kept(session, case, rendering).first()
    if document is None:
        pdf = sign_rendering(session, request, pdf)
        document = _insert(session, case, message_id, request, pdf, rendering)
    if message_id is not None and document.message_id is None:
        document.message_id = message_id  # first rendered on demand, now also sent with this message
        session.add(document)
    return document


def _preview(db: Database, case: Case, request: RenderRequest) -> Document:
    """``request`` rendered outside any transaction: the stored document with the same rendering (a message
    sent), else a new one that is not kept (signed like the stored ones would be, unless it is a draft)."""
    pdf = render_pdf(request)
    rendering = pdf.rendering_sha256 or pdf.sha256
    with db.reader() as session:
        stored = _kept(session, case, rendering).first()
        if stored is not None:
            return stored
        pdf = sign_rendering(session, request, pdf)
    return Document(**_row(case, None, request, pdf, rendering))


def _insert(session: Session, case: Case, message_id: str | None, request: RenderRequest, pdf: RenderedPdf,
            rendering: str) -> Document:
    insert_ignore(session, Document, _row(case, message_id, request, pdf, rendering))
    # A concurrent writer may have kept its own signed copy first: that one is the document.
    return _kept(session, case, rendering).one()


def _kept(session: Session, case: Case, rendering: str) -> ScalarResult[Document]:
    """The case's stored document with this rendering (its SHA-256 before signing): at most one."""
    return session.exec(select(Document).where(Document.case_id == case.id, Document.rendering_sha256 == rendering))


def _row(case: Case, message_id: str | None, request: RenderRequest, pdf: RenderedPdf,
         rendering: str) -> dict[str, object]:
    filename = (
        pdf.filename
        if message_id is None
        else pdf.filename.replace(f"_{request.form}_", f"_{request.form}-{message_id[-8:]}_")
    )
    return {
        "case_id": case.id,
        "message_id": message_id,
        "kind": request.form,
        "language": pdf.languages[0],
        "secondary_language": pdf.languages[1] if len(pdf.languages) > 1 else None,
        "filename": filename,
        "media_type": "application/pdf",
        "size": pdf.size,
        "sha256": pdf.sha256,
        "payload_sha256": sha256_hex(pdf.payload_bytes),
        "rendering_sha256": rendering,
        "content": pdf.content,
        "created_at": request.issued_at or case.updated_at,
    }


# --- helpers ------------------------------------------------------------------------------------------------
def _languages(lang: str, bilingual: str | None) -> tuple[str, str | None]:
    lang = document_language(lang)
    second = document_language(bilingual) if bilingual else None
    return lang, (second if second != lang else None)


def _sides(case: Case) -> tuple[str, str]:
    """(requesting authority, requested authority) of the exchange, whichever side this record is."""
    if case.side == Side.REQUESTING.value:
        return case.authority_code, case.counterpart_code
    return case.counterpart_code, case.authority_code


def _reference(case: Case, side: Side) -> str | None:
    return case.reference if case.side == side.value else case.counterpart_reference


def _party(authority: Authority) -> Party:
    return Party(code=authority.code, name=authority.name, country=authority.country)


def _approver(session: Session, case: Case) -> str | None:
    """Who approved the request (the four-eyes decision) signs it; on the requested side nobody here
    signed."""
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == "approve")
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    if event is None:
        return None
    user = session.exec(select(User).where(User.username == event.actor)).first()
    return user.full_name or user.username if user else event.actor


def _load_message(session: Session, message_id: str, case_id: int | None = None) -> Message:
    query = select(Message).where(Message.message_id == message_id)
    if case_id is not None:
        query = query.where(Message.case_id == case_id)
    message = session.exec(query.order_by(col(Message.direction).desc())).first()  # "out" before "in" on a hub
    if message is None:
        from engine.errors import MessageNotFound

        raise MessageNotFound(message=message_id)
    return message


def _form_messages(session: Session, case: Case) -> Iterable[Message]:
    from engine.forms import FORMS

    rows = session.exec(
        select(Message).where(Message.case_id == case.id).order_by(col(Message.created_at), col(Message.id))
    )
    return [m for m in rows if m.kind in FORMS and m.kind != "request"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
