"""Errors of the documents area: all :class:`~engine.errors.ExhortoError`, so the CLI and API show them in one
line.

::

    ExhortoError
    ├── InvalidInput
    │   └── UnsupportedDocumentLanguage   a language outside es/pt/en/fr was asked for
    ├── NotRenderable                      no form to render (e.g. a delivery receipt) or an unknown form
    ├── DocumentNotFound                   no stored document with that id
    └── NoEmbeddedPayload                  the PDF carries no payload.json (not made by exhorto, or damaged)
"""

from __future__ import annotations

from engine.errors import ExhortoError, InvalidInput, NotFound
from engine.i18n import N_


class UnsupportedDocumentLanguage(InvalidInput):
    code = "unsupported_language"
    template = N_("Documents cannot be rendered in “{language}”. Supported languages: {supported}.")


class NotRenderable(ExhortoError):
    code = "not_renderable"
    template = N_("No document can be rendered for {form}: {reason}")


class DocumentNotFound(NotFound):
    code = "document_not_found"
    template = N_("Document {document} does not exist.")


class NoEmbeddedPayload(ExhortoError):
    code = "no_embedded_payload"
    template = N_("{file} carries no embedded exhorto payload (payload.json).")
