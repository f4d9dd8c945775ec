"""Getting the JSON payload back out of a rendered PDF, byte for byte."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from engine.documents._errors import NoEmbeddedPayload
from engine.documents._render import PAYLOAD_NAME

# pypdf logs repairs of damaged files as warnings on stderr; the caller gets one clear error instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_payload(pdf: bytes, *, source: str = "the PDF") -> bytes:
    """The exact bytes embedded as ``payload.json`` in an exhorto PDF, else :class:`NoEmbeddedPayload`."""
    if not pdf.startswith(b"%PDF-"):
        raise NoEmbeddedPayload(file=source)
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        found = attachments.get(PAYLOAD_NAME) or []
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise NoEmbeddedPayload(file=f"{source} ({error})") from None
    if not found:
        raise NoEmbeddedPayload(file=source)
    return found[0]
