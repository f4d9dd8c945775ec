"""Documents: multilingual PDF/A-3b renderings of every form, with the JSON payload embedded for re-import."""

from __future__ import annotations

from engine.documents._errors import (
    DocumentNotFound,
    NoEmbeddedPayload,
    NotRenderable,
    UnsupportedDocumentLanguage,
)
from engine.documents._extract import extract_payload
from engine.documents._render import PAYLOAD_NAME, Party, RenderedPdf, RenderRequest, render_html, render_pdf

__all__ = [
    "PAYLOAD_NAME",
    "DocumentNotFound",
    "NoEmbeddedPayload",
    "NotRenderable",
    "Party",
    "RenderRequest",
    "RenderedPdf",
    "UnsupportedDocumentLanguage",
    "extract_payload",
    "render_html",
    "render_pdf",
]
