"""Stored PDF documents of a case rendered again from its pseudonymised payloads.

A document keeps its row, language(s), kind and file name; its bytes, size and hashes are replaced. The hashes
before and after go into the case's ``redact`` audit event, so the chain still proves which original existed.
A document that cannot be rendered again (renderer missing, form unknown) is deleted instead: erasure must not
depend on the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from engine.canonical import sha256_hex
from engine.lifecycle import Side
from engine.store.documents_models import Document
from engine.store.models import Authority, Case, Message


@dataclass(frozen=True)
class DocumentChange:
    document_id: int
    before: str
    after: str | None  # None: deleted

    def as_dict(self) -> dict[str, Any]:
        return {"document": self.document_id, "before": self.before, "after": self.after}


def _party(session: Session, code: str) -> Any:
    from engine.documents import Party

    authority = session.get(Authority, code)
    assert authority is not None, code
    return Party(code=authority.code, name=authority.name, country=authority.country), authority.timezone


def _render(session: Session, case: Case, document: Document, messages: dict[str, Message]) -> Any:
    from engine.documents import RenderRequest, render_pdf

    requesting, requested = (
        (case.authority_code, case.counterpart_code)
        if case.side == Side.REQUESTING.value
        else (case.counterpart_code, case.authority_code)
    )
    message = messages.get(document.message_id or "")
    if message is None or message.kind == "request":
        form, payload, schema_id = "request", case.payload, case.schema_id
        sender_code, recipient_code = requesting, requested
    else:
        form, payload, schema_id = message.kind, message.payload, message.schema_id
        sender_code, recipient_code = message.sender_code, message.recipient_code
    sender, timezone = _party(session, sender_code)
    recipient, _ = _party(session, recipient_code)
    mine, theirs = case.reference, case.counterpart_reference
    return render_pdf(
        RenderRequest(
            form=form,
            payload=payload,
            schema_id=schema_id,
            language=document.language,
            secondary_language=document.secondary_language,
            sender=sender,
            recipient=recipient,
            requesting_reference=mine if case.side == Side.REQUESTING.value else theirs,
            requested_reference=theirs if case.side == Side.REQUESTING.value else mine,
            issued_at=document.created_at,
            timezone=timezone,
            signer=None,
            draft=False,
        )
    )


def rerender_documents(
    session: Session, case: Case, messages: list[Message], *, rerender: bool = True
) -> list[DocumentChange]:
    """Replace every stored document of ``case`` by its rendering from the (already pseudonymised) payloads,
    inside the caller's transaction; delete those that cannot be rendered (all with ``rerender=False``)."""
    by_id = {m.message_id: m for m in messages}
    documents = list(
        session.exec(select(Document).where(Document.case_id == case.id).order_by(col(Document.id)))
    )
    changes: list[DocumentChange] = []
    taken: set[str] = set()
    for document in documents:
        assert document.id is not None
        before = document.sha256
        pdf = None
        if rerender:
            try:
                pdf = _render(session, case, document, by_id)
            except Exception:  # noqa: BLE001 - any rendering failure: fall back to erasing the document
                pdf = None
        if pdf is None or pdf.sha256 in taken:
            session.execute(delete(Document).where(col(Document.id) == document.id))
            changes.append(DocumentChange(document.id, before, None))
            continue
        taken.add(pdf.sha256)
        document.content, document.size, document.sha256 = pdf.content, pdf.size, pdf.sha256
        document.payload_sha256 = sha256_hex(pdf.payload_bytes)
        session.add(document)
        changes.append(DocumentChange(document.id, before, pdf.sha256))
    return changes
