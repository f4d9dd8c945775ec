"""Documents: multilingual PDF/A-3b renderings of every form, with the JSON payload embedded for re-import."""

from __future__ import annotations

from engine.documents._errors import (
    DocumentNotFound,
    NoEmbeddedPayload,
    NotRenderable,
    UnsupportedDocumentLanguage,
)
from engine.documents._extract import extract_payload
from engine.documents._labels import enum_msgid
from engine.documents._pades import Verdict
from engine.documents._render import (
    PAYLOAD_NAME,
    Party,
    RenderedPdf,
    RenderRequest,
    document_language,
    render_html,
    render_pdf,
)
from engine.documents._signing import render_signed
from engine.documents._store import (
    Prerendered,
    attach_on_send,
    attach_outbound_document,
    get_document,
    list_documents,
    outbound_rendering,
    render_case,
    render_message,
    write_case_pdfs,
)
from engine.documents._verdict import describe, verify_document
from engine.documents._view import person_at
from engine.store.documents_models import Document

__all__ = [
    "person_at",
    "PAYLOAD_NAME",
    "Document",
    "DocumentNotFound",
    "NoEmbeddedPayload",
    "NotRenderable",
    "Party",
    "Prerendered",
    "RenderRequest",
    "RenderedPdf",
    "UnsupportedDocumentLanguage",
    "Verdict",
    "attach_on_send",
    "describe",
    "attach_outbound_document",
    "document_language",
    "enum_msgid",
    "extract_payload",
    "get_document",
    "list_documents",
    "outbound_rendering",
    "render_case",
    "render_html",
    "render_message",
    "render_pdf",
    "render_signed",
    "verify_document",
    "write_case_pdfs",
]
