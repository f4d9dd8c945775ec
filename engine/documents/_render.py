"""HTML (Jinja2 templates in ``forms/templates``) → PDF/A-3b (WeasyPrint), with the JSON payload embedded.

The payload travels inside the PDF as an associated file (``/AFRelationship /Data``), so a receiving authority
that only gets the PDF can re-import the exact JSON (:func:`engine.documents.extract_payload`). Output is
deterministic: the same payload, languages and issue date give the same bytes (fixed dates, no random
identifiers), so a document's SHA-256 identifies it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from engine import formatting
from engine.canonical import canonical_json, sha256_hex
from engine.documents._errors import NotRenderable, UnsupportedDocumentLanguage
from engine.documents._layout import build_form
from engine.documents._view import Bi, Languages, build_sections
from engine.i18n import LANGUAGES, N_, check_language, localized, translate

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "forms" / "templates"
PAYLOAD_NAME = "payload.json"
PDF_MEDIA_TYPE = "application/pdf"
_PAGE = N_("Page {page} of {pages}")
# The running header names each party by its role in the case, not by EIO's "issuing/executing authority": in
# EIO usage "issuing" means the requesting side, so a refusal sent by the requested side must not call its sender
# that (issue 22). Forms the requested side sends; every other form comes from the requesting side.
_REQUESTING, _REQUESTED = N_("Requesting authority"), N_("Requested authority")
REQUESTED_SIDE_FORMS = frozenset({"acknowledgement", "clarification_request", "execution_report", "postponement",
                                  "refusal"})
_REQUESTING_REF = N_("Reference of the requesting authority")
_REQUESTED_REF = N_("Reference of the requested authority")


@dataclass(frozen=True)
class Party:
    """An authority as the running header names it."""

    code: str
    name: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class RenderRequest:
    """Everything a document shows besides the payload itself."""

    form: str
    payload: Mapping[str, Any]
    language: str
    secondary_language: str | None = None
    schema_id: str | None = None
    sender: Party | None = None  # the authority issuing this document
    recipient: Party | None = None
    requesting_reference: str | None = None
    requested_reference: str | None = None
    issued_at: datetime | None = None  # also the PDF's creation date; fixed ⇒ reproducible bytes
    timezone: str = "UTC"  # of the issuing authority: where its date-times are read
    signer: str | None = None
    draft: bool = False
    payload_bytes: bytes | None = None  # embed these exact bytes (else canonical JSON of ``payload``)
    instrument: str | None = None  # legal basis of the case (else the payload's): picks the instrument's layout


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    payload_bytes: bytes
    filename: str
    languages: tuple[str, ...]
    rendering_sha256: str | None = None  # set once signed: the SHA-256 of the rendering before its signature
    # Where the drawn signature block's stamp box lies: (page index, x1, y1, x2, y2) in PDF points from the page's
    # lower-left corner. The visible PAdES signature is placed there.
    signature_box: tuple[int, float, float, float, float] | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.content)


def document_language(language: str) -> str:
    """``language`` normalised, or :class:`UnsupportedDocumentLanguage` naming the supported ones."""
    try:
        return check_language(language)
    except ValueError:
        raise UnsupportedDocumentLanguage(language=language, supported=", ".join(LANGUAGES)) from None


def render_html(request: RenderRequest) -> str:
    from engine import forms

    main = document_language(request.language)
    alt = document_language(request.secondary_language) if request.secondary_language else None
    try:
        schema_id = forms.schema_id(request.schema_id or request.form)
        form = schema_id.rstrip("/").split("/")[-2]
    except Exception as error:  # UnknownForm: say which form cannot be rendered
        raise NotRenderable(form=request.schema_id or request.form, reason=str(error)) from None
    langs = Languages(main, alt, request.timezone)
    issued = request.issued_at or datetime.now(UTC)
    payload_bytes = _payload_bytes(request)
    profile = forms.profile_for_instrument(request.instrument or _instrument(request.payload))
    layout = profile.document(form)
    form_view = None
    title = langs.title(forms.load_schema(schema_id), form)
    template_name = f"{form}.html.j2"
    if layout is not None and _layout_fits(schema_id, form, profile.id):
        form_view = build_form(forms.load_schema, schema_id, request.payload, langs, layout,
                               every_option=profile.layout == "eio")
        template_name = f"form_{profile.layout}.html.j2"
        if layout.title:
            title = langs.each(lambda lang: str(localized(layout.title, lang)))
    # An instrument's form lays out every field itself; the schema-order sections are for the other documents.
    sections = [] if form_view is not None else build_sections(forms.load_schema, schema_id, request.payload, langs)
    signature = request.payload.get("signature")
    template = _environment().get_template(template_name)
    return template.render(
        form=form,
        lang=main,
        alt_lang=langs.alt,
        langs=langs,
        sections=sections,
        payload=request.payload,
        title=title,
        form_view=form_view,
        profile=profile,
        signature=signature if isinstance(signature, Mapping) else {},
        signature_date=(langs.each(lambda lang: formatting.format_date(signature["date"], lang))
                        if isinstance(signature, Mapping) and signature.get("date") else None),
        sender=_party(request.sender, langs),
        recipient=_party(request.recipient, langs),
        requesting_reference=request.requesting_reference or _ref(request.payload, "requesting"),
        requested_reference=request.requested_reference or _ref(request.payload, "requested"),
        issued=langs.each(lambda lang: formatting.format_date(issued, lang)),
        issued_iso=_iso(issued),
        payload_hash=sha256_hex(payload_bytes),
        schema_id=schema_id,
        signer=request.signer,
        draft=request.draft,
        page_css=_page_css(langs),
        margin_css=_margin_css(langs, request, payload_bytes),
        _=lambda msgid: _bi_markup(langs.gettext(msgid)),
        colon=lambda msgid: _bi_markup(langs.each(lambda lang: formatting.with_colon(translate(lang, msgid), lang))),
        bi=_bi_markup,
        cell=_cell_markup,
    )


def _instrument(payload: Mapping[str, Any]) -> str | None:
    basis = payload.get("legal_basis")
    instrument = basis.get("instrument") if isinstance(basis, Mapping) else None
    return instrument if isinstance(instrument, str) else None


@cache
def _layout_fits(schema_id: str, form: str, profile_id: str) -> bool:
    """The instrument's layout is used for schema versions that have every field it names (older stored
    documents keep the layout they were issued with)."""
    from engine import forms
    from engine.forms._profiles import schema_node

    profile = next(p for p in forms.profiles() if p.id == profile_id)
    layout = profile.document(form)
    assert layout is not None
    pointers = list(layout.front) + [p for s in layout.sections for p in s["pointers"]]
    return all(schema_node(schema_id, p) is not None for p in pointers)


def render_pdf(request: RenderRequest) -> RenderedPdf:
    """The PDF/A-3b document for ``request`` with its payload embedded as ``payload.json``."""
    from weasyprint import Attachment

    html = render_html(request)
    payload_bytes = _payload_bytes(request)
    issued = _iso(request.issued_at or datetime.now(UTC))
    attachment = Attachment(
        string=payload_bytes,
        name=PAYLOAD_NAME,
        relationship="Data",
        description="JSON payload (" + (request.schema_id or request.form) + ")",
        created=issued,
        modified=issued,
    )
    fonts, stylesheet = _weasyprint_resources()
    options: dict[str, Any] = {"pdf_variant": "pdf/a-3b", "attachments": [attachment],
                               "pdf_identifier": sha256_hex(payload_bytes)[:32].encode(), "uncompressed_pdf": False}
    # Laid out first, then written (what write_pdf does in one go), to read where the stamp box landed.
    document = _html_class()(string=html, base_url=str(TEMPLATES_DIR)).render(
        stylesheets=[stylesheet], font_config=fonts, **options)
    content = document.write_pdf(**options)
    languages = (document_language(request.language),) + (
        (document_language(request.secondary_language),) if request.secondary_language else ()
    )
    return RenderedPdf(
        content=content,
        payload_bytes=payload_bytes,
        filename=_filename(request, languages),
        languages=languages,
        signature_box=None if request.draft else stamp_box(document),
    )


STAMP_CLASS = "stamp"  # the dashed box of the signature block (forms/templates/base.html.j2)
_PX_TO_PT = 0.75  # CSS px (1/96 in) to PDF points (1/72 in)


def stamp_box(document: Any) -> tuple[int, float, float, float, float] | None:
    """The border box of the signature block's stamp in the laid-out ``document``, in PDF coordinates — or None
    when the template has none. Read from WeasyPrint's box tree (``page._page_box``: the laid-out boxes, not a
    public API, pinned with WeasyPrint in requirements.lock and covered by tests/signatures)."""
    # The signature block closes the document: look from the last page back (each page's boxes are walked).
    for index, page in reversed(list(enumerate(document.pages))):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or getattr(box, "element_tag", None) != "div" \
                    or STAMP_CLASS not in (element.get("class") or "").split():
                continue
            x, y = box.position_x + box.margin_left, box.position_y + box.margin_top
            width, height = box.border_width(), box.border_height()
            return (index, round(x * _PX_TO_PT, 2), round((page.height - y - height) * _PX_TO_PT, 2),
                    round((x + width) * _PX_TO_PT, 2), round((page.height - y) * _PX_TO_PT, 2))
    return None


# --- helpers ------------------------------------------------------------------------------------------------
def _weasyprint_resources() -> tuple[Any, Any]:
    """One font configuration and one parsed stylesheet per thread (building them costs ~25 % of a render;
    Pango font maps are not meant to be shared between threads, e.g. the API's worker threads)."""
    return _resources_for_thread(threading.get_ident())


@cache
def _resources_for_thread(_thread: int) -> tuple[Any, Any]:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return fonts, CSS(filename=str(TEMPLATES_DIR / "document.css"), font_config=fonts)


@cache
def _html_class() -> type:
    """WeasyPrint's ``HTML`` reading the templates' markup with expat (:func:`_xml_root`) and styling it with
    :func:`user_agent_stylesheet` instead of its own sheet, each when it can."""
    import cssselect2
    from weasyprint import HTML

    sheet = user_agent_stylesheet()

    class DocumentHTML(HTML):  # type: ignore[misc]
        def __init__(self, string: str, base_url: str) -> None:
            root = _xml_root(string)
            # WeasyPrint sets up everything else (URL fetcher, media type, base URL: the templates have no
            # <base>) as for any document; only the tree is the one expat read.
            super().__init__(string=string if root is None else "<html></html>", base_url=base_url)
            if root is not None:
                self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
                self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return super()._ua_stylesheets(forms) if forms or sheet is None else [sheet]

    return DocumentHTML


def _xml_root(html: str) -> Any:
    """The document's element tree read by expat, ~50 times faster than WeasyPrint's HTML5 parser in Python (15 ms
    of a 60-person request's 0.3-0.4 s): the templates write well-formed XML (void elements closed, values escaped,
    CSS strings without ``&`` or ``<``), which gives the same tree, and the same PDF bytes, as the HTML parser
    (``tests/documents/test_rendering.py``). None when the markup is not well-formed XML (a control character in
    a value: XML 1.0 does not allow it); WeasyPrint then parses it as HTML. Expat resolves no external entity and
    the markup declares none."""
    from xml.etree import ElementTree

    try:
        return ElementTree.fromstring(html)
    except ElementTree.ParseError:
        return None


# WeasyPrint's user-agent stylesheet styles six pseudo-elements of *every* element through universal selectors
# (``::marker``, ``::footnote-call``, ``::footnote-marker``, ``::note-call``, ``::note-marker``, ``::note-callback``),
# and computes those six styles for each element of the document: for the 60-person request (~800 elements) that
# was ~4,800 of its ~7,500 computed styles. Here a marker is only ever drawn for ``li`` (the only list items:
# document.css sets no other ``display: list-item``) and no element is floated as a footnote or note, so the
# marker rule is scoped to ``li`` and the note rules are dropped: the same pages, bytes included.
_UA_MARKER = "\n::marker {"
_UA_NOTES = re.compile(r"^::(?:footnote|note)-[a-z-]+ \{[^}\n]*\}$", re.M)


@cache
def user_agent_stylesheet() -> Any:
    """The trimmed user-agent stylesheet — or None when this WeasyPrint's sheet is not the one it was written for
    (then WeasyPrint keeps its own)."""
    from weasyprint import CSS
    from weasyprint.html import UA

    text, notes = _UA_NOTES.subn("", UA)
    if text.count(_UA_MARKER) != 1 or notes != 5:
        return None
    # Its @counter-style rules go to a throw-away registry: documents get theirs from WeasyPrint's own sheet.
    return CSS(string=text.replace(_UA_MARKER, "\nli::marker {"), counter_style={})


@cache
def _environment() -> Environment:
    # The i18n extension is loaded only so that ``{% trans %}`` would work; labels go through the ``_``
    # global,
    # which renders both languages of a bilingual document. Babel extracts ``_("…")`` from the templates.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lines"] = _lines
    env.filters["stop"] = _with_stop
    return env


def _with_stop(text: object) -> str:
    """A heading run into its paragraph ends with a full stop ("1. Suspect — Doe, John."), once ("… S.A.")."""
    text = str(text)
    return text if text.endswith(".") else text + "."


def _lines(text: object) -> Markup:
    return Markup("<br/>").join(escape(line) for line in str(text).split("\n"))


def _bi_markup(value: Bi | str | None, lines: Any = _lines) -> Markup:
    if value is None:
        return Markup("")
    if isinstance(value, str):
        return lines(value)
    main = lines(value.main)
    return (
        main
        if value.alt is None
        else main + Markup('<span class="alt">') + lines(value.alt) + Markup("</span>")
    )


def _newlines(text: object) -> Markup:
    """Like :func:`_lines`, for elements with ``white-space: pre-line`` (document.css): line breaks stay newline
    characters. A ``<br>`` is an element with a generated ``::before`` box; a grid of 60 persons had 120 of them.
    A lone carriage return becomes a space, as the HTML parser's newline would collapse to under ``<br>``."""
    return escape(str(text).replace("\r\n", "\n").replace("\r", " "))


def _cell_markup(value: Bi | str | None) -> Markup:
    """:func:`_bi_markup` for the cells of a grid (``table.grid``, ``white-space: pre-line``)."""
    return _bi_markup(value, _newlines)


def _party(party: Party | None, langs: Languages) -> dict[str, Any] | None:
    if party is None:
        return None
    return {
        "code": party.code,
        "name": party.name,
        "country": langs.each(lambda lang: formatting.country_name(party.country, lang)),
    }


def _ref(payload: Mapping[str, Any], side: str) -> str | None:
    references = payload.get("references")
    return str(references[side]) if isinstance(references, Mapping) and references.get(side) else None


def _page_css(langs: Languages) -> Markup:
    """CSS ``content`` for the localized "Page X of Y" footer (both languages in a bilingual document)."""

    def one(lang: str) -> str:
        text = translate(lang, _PAGE)
        parts = re.split(r"(\{page\}|\{pages\})", text)
        css = []
        for part in parts:
            if part == "{page}":
                css.append("counter(page)")
            elif part == "{pages}":
                css.append("counter(pages)")
            elif part:
                css.append(_css_string(part))
        return " ".join(css)

    pieces = [one(langs.main)] + ([one(langs.alt)] if langs.alt else [])
    return Markup(' " · " '.join(pieces))


def _css_string(text: str) -> str:
    """A CSS string literal; line breaks become ``\\A`` (shown as breaks with ``white-space: pre``). ``&``, ``<``
    and ``>`` are CSS escapes too: the string sits in a ``<style>`` element, which must stay well-formed XML
    (:func:`_xml_root`) and which no value may close."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
               .replace("&", "\\26 ").replace("<", "\\3c ").replace(">", "\\3e "))
    return f'"{escaped}"'


def _margin_css(langs: Languages, request: RenderRequest, payload_bytes: bytes) -> Markup:
    """Running header (issuer | addressee, both references) and footer as page margin-box strings."""

    def label(msgid: str) -> str:
        return str(langs.gettext(msgid))

    def party(role: str, who: Party | None, reference_label: str, reference: str | None) -> str:
        lines = [label(role).upper()]
        if who is not None:
            country = langs.each(lambda lang: formatting.country_name(who.country, lang))
            lines += [who.name, f"{who.code} · {country}"]
        if reference:
            lines.append(f"{langs.each(lambda lang: formatting.with_colon(translate(lang, reference_label), lang))} "
                         f"{reference}")
        return "\n".join(lines)

    requesting = request.requesting_reference or _ref(request.payload, "requesting")
    requested = request.requested_reference or _ref(request.payload, "requested")
    # Left: the sender, with its own reference; right: the addressee, with its own.
    if request.form in REQUESTED_SIDE_FORMS:
        left = party(_REQUESTED, request.sender, _REQUESTED_REF, requested)
        right = party(_REQUESTING, request.recipient, _REQUESTING_REF, requesting)
    else:
        left = party(_REQUESTING, request.sender, _REQUESTING_REF, requesting)
        right = party(_REQUESTED, request.recipient, _REQUESTED_REF, requested)
    short_hash = f"SHA-256 {sha256_hex(payload_bytes)[:16]}…"
    footer = " · ".join([r for r in (requesting, requested) if r] + [short_hash])
    return Markup(f"@top-left {{ content: {_css_string(left)}; }} "
                  f"@top-right {{ content: {_css_string(right)}; }} "
                  f"@bottom-left {{ content: {_css_string(footer)}; }}")


def _payload_bytes(request: RenderRequest) -> bytes:
    return (
        request.payload_bytes if request.payload_bytes is not None else canonical_json(dict(request.payload))
    )


def _iso(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _filename(request: RenderRequest, languages: tuple[str, ...]) -> str:
    reference = (
        request.requesting_reference
        if request.form == "request"
        else (request.requested_reference or request.requesting_reference)
    )
    reference = reference or _ref(request.payload, "requesting") or "document"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", reference).strip("-")
    # Languages as BCP 47 tags (pt-BR), the form a reader and a browser recognise.
    return f"{stem}_{request.form}_{'-'.join(language.replace('_', '-') for language in languages)}.pdf"
