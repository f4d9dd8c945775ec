"""Every form, every language, from the examples: real PDFs read back with pypdf and pikepdf."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from engine import formatting
from engine.documents import (
    NoEmbeddedPayload,
    Party,
    RenderedPdf,
    RenderRequest,
    UnsupportedDocumentLanguage,
    extract_payload,
    render_html,
    render_pdf,
)
from engine.forms import FORMS, load_schema, profile_of
from engine.i18n import LANGUAGES, localized

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
ISSUED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
PAGE = {"es": "Página 1 de", "pt": "Página 1 de", "en": "Page 1 of", "fr": "Page 1 sur"}
ISSUED_LABEL = {
    "es": "Fecha de expedición",
    "pt": "Data de emissão",
    "en": "Date of issue",
    "fr": "Date d'émission",
}
CASES = [(form, path) for form in FORMS for path in sorted((EXAMPLES / form).glob("*.json"))]


def _request(form: str, raw: bytes, lang: str, secondary: str | None = None) -> RenderRequest:
    return RenderRequest(
        form=form,
        payload=json.loads(raw),
        language=lang,
        secondary_language=secondary,
        payload_bytes=raw,
        sender=Party("CO-FGN", "Fiscalía General de la Nación", "CO"),
        recipient=Party("ES-MJ", "Ministerio de Justicia", "ES"),
        issued_at=ISSUED,
        timezone="America/Bogota",
    )


@pytest.fixture(scope="session")
def rendered() -> dict[tuple[str, str], RenderedPdf]:
    """Each example in each language, rendered once for the whole session (~50 documents)."""
    return {
        (str(path), lang): render_pdf(_request(form, path.read_bytes(), lang))
        for form, path in CASES
        for lang in LANGUAGES
    }


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _squash(text: str) -> str:
    # Line wrapping (and break-anywhere hashes) put newlines inside values: compare without whitespace.
    return re.sub(r"\s+", "", text)


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key)
    else:
        yield key, value


_CODE = re.compile(r"^([a-z_]+|[A-Z0-9_]+|[a-z]{2}|[A-Z]{2})$")  # enum codes, ISO codes: shown as names
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def test_every_form_has_examples_to_render() -> None:
    assert {form for form, _ in CASES} == set(FORMS)


@pytest.mark.parametrize(("form", "path"), CASES, ids=[p.stem for _, p in CASES])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_labels_dates_and_values_are_in_the_pdf(
    rendered: dict[tuple[str, str], RenderedPdf], form: str, path: Path, lang: str
) -> None:
    pdf = rendered[(str(path), lang)]
    text = _text(pdf.content)
    flat = _squash(text)
    schema = load_schema(form)
    title = schema["title"] if lang == "en" else localized(schema["x-title"], lang)
    layout = profile_of(json.loads(path.read_bytes())).document(form) if form == "request" else None
    assert title in text or (layout is not None and layout.title is not None and localized(layout.title, lang) in text)
    assert PAGE[lang[:2]] in text
    assert ISSUED_LABEL[lang[:2]] in text
    assert formatting.format_date(ISSUED, lang) in text
    payload = json.loads(path.read_bytes())
    for key, value in _leaves(payload):
        if key == "$schema" or not isinstance(value, str):
            continue
        if _DATE.match(value):
            assert _squash(formatting.format_date(value, lang, style="long")) in flat, (key, value)
        elif _DATE_TIME.match(value):
            assert _squash(formatting.format_datetime(value, lang, "America/Bogota")) in flat, (key, value)
        elif not _CODE.match(value):
            assert _squash(value) in flat, (key, value)


@pytest.mark.parametrize(("form", "path"), CASES, ids=[p.stem for _, p in CASES])
def test_embedded_json_round_trips_byte_for_byte(
    rendered: dict[tuple[str, str], RenderedPdf], form: str, path: Path
) -> None:
    raw = path.read_bytes()
    for lang in LANGUAGES:
        assert extract_payload(rendered[(str(path), lang)].content) == raw


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pdf_a_3b_identification_and_metadata(
    rendered: dict[tuple[str, str], RenderedPdf], lang: str
) -> None:
    path = EXAMPLES / "request" / "co-es-bank-records.json"
    pdf = pikepdf.open(io.BytesIO(rendered[(str(path), lang)].content))
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
    title = load_schema("request")["title" if lang == "en" else "x-title"]
    assert (title if lang == "en" else localized(title, lang)) in meta["dc:title"]
    assert "CO-FGN/2026/004512" in meta["dc:title"]
    assert "Fiscalía General de la Nación" in str(meta["dc:creator"])
    assert str(pdf.Root.Lang) == lang.replace("_", "-")  # BCP 47
    assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
    spec = pdf.Root.AF[0]
    assert spec.AFRelationship == "/Data" and str(spec.UF) == "payload.json"
    assert spec.EF.F.Subtype == "/application/json"
    fonts = [f for page in pdf.pages for f in page.Resources.Font.values()]
    assert fonts and all(
        "/FontFile2" in f.DescendantFonts[0].FontDescriptor
        or "/FontFile3" in f.DescendantFonts[0].FontDescriptor
        for f in fonts
    )


def test_bilingual_document_shows_both_languages_side_by_side() -> None:
    raw = (EXAMPLES / "request" / "fr-mx-asset-freezing.json").read_bytes()
    pdf = render_pdf(_request("request", raw, "es", "fr"))
    text = _text(pdf.content)
    for needle in (
        "Solicitud de asistencia judicial",
        "Demande d'entraide judiciaire",
        "Autoridad requirente",
        "Autorité requérante",
        "Página 1 de",
        "Page 1 sur",
        "23 de noviembre de 2026",
        "23 novembre 2026",
    ):
        assert needle in text, needle
    assert pdf.languages == ("es", "fr") and pdf.filename.endswith("_request_es-fr.pdf")
    assert str(pikepdf.open(io.BytesIO(pdf.content)).Root.Lang) == "es"
    assert extract_payload(pdf.content) == raw


def test_rendering_is_deterministic() -> None:
    raw = (EXAMPLES / "refusal" / "mx-fr-double-criminality.json").read_bytes()
    first, second = render_pdf(_request("refusal", raw, "fr")), render_pdf(_request("refusal", raw, "fr"))
    assert first.content == second.content and first.sha256 == second.sha256


@pytest.mark.parametrize(("form", "slug", "lang", "second"), [
    ("request", "co-es-bank-records", "fr", None),  # numbered items (list markers), tables, checkboxes
    ("request", "fr-es-eio-interception", "es", "fr"),  # EIO letters, bilingual
    ("refusal", "mx-fr-double-criminality", "en", None),  # ordinary sections, bulleted items
])
def test_the_trimmed_user_agent_stylesheet_prints_the_same_bytes(
    form: str, slug: str, lang: str, second: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # engine.documents._render trims WeasyPrint's user-agent stylesheet for speed (docs/performance.md): it must be
    # in use with the pinned WeasyPrint, and print exactly what WeasyPrint's own sheet prints.
    from weasyprint import HTML

    from engine.documents import _render

    assert _render.user_agent_stylesheet() is not None, "WeasyPrint's user-agent stylesheet changed: check _render"
    css = (_render.TEMPLATES_DIR / "document.css").read_text()
    assert "list-item" not in css and "footnote" not in css and "float" not in css
    raw = (EXAMPLES / form / f"{slug}.json").read_bytes()
    trimmed = render_pdf(_request(form, raw, lang, second)).content
    monkeypatch.setattr(_render, "_html_class", lambda: HTML)
    assert render_pdf(_request(form, raw, lang, second)).content == trimmed


@pytest.mark.parametrize(("surname", "same_bytes"), [
    ("Línea uno\nLínea  dos\rsigue\n\nfin\n", True),  # a lone CR is a space; an empty line is kept
    ("\nuno \r\ndos", False),  # spaces before a break: not drawn either way, but the text runs differ
])
def test_line_breaks_in_grid_cells_print_as_with_br_elements(
    surname: str, same_bytes: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Grid cells keep line breaks as newline characters under white-space: pre-line (docs/performance.md); they
    # must print as the <br> elements they replaced, in cells without pre-line.
    from weasyprint import CSS

    from engine.documents import _render

    payload = json.loads((EXAMPLES / "request" / "co-es-bank-records.json").read_bytes())
    next(p for p in payload["persons"] if "surname" in p)["surname"] = surname
    raw = json.dumps(payload, ensure_ascii=False).encode()
    with_newlines = render_pdf(_request("request", raw, "en")).content
    css = (_render.TEMPLATES_DIR / "document.css").read_text()
    assert "table.grid td, table.grid th { white-space: pre-line; }" in css
    fonts = _render._weasyprint_resources()[0]
    old_css = CSS(string=css.replace("white-space: pre-line;", ""), font_config=fonts)
    monkeypatch.setattr(_render, "_weasyprint_resources", lambda: (fonts, old_css))
    monkeypatch.setattr(_render, "_cell_markup", _render._bi_markup)
    # The measures grid names the persons each measure concerns, one per line.
    assert "<br/>" in render_html(_request("request", raw, "en")).split("Measures requested")[-1].split("</table>")[0]
    with_br = render_pdf(_request("request", raw, "en")).content
    assert (with_newlines == with_br) is same_bytes
    drawn = []
    for name, pdf in (("newlines", with_newlines), ("br", with_br)):
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "100", "-png", tmp_path / f"{name}.pdf", tmp_path / name], check=True)
        text = subprocess.run(["pdftotext", "-layout", tmp_path / f"{name}.pdf", "-"], check=True,
                              capture_output=True, text=True).stdout
        drawn.append((text, [page.read_bytes() for page in sorted(tmp_path.glob(f"{name}-*.png"))]))
    assert drawn[0] == drawn[1] and drawn[0][1]


def test_without_raw_bytes_the_canonical_json_is_embedded() -> None:
    payload = json.loads((EXAMPLES / "withdrawal" / "cl-uy-withdrawal.json").read_bytes())
    pdf = render_pdf(RenderRequest(form="withdrawal", payload=payload, language="pt", issued_at=ISSUED))
    assert json.loads(extract_payload(pdf.content)) == payload
    assert b" " not in extract_payload(pdf.content).replace(b'": ', b"").split(b'"reasons"')[0]


def test_unsupported_language_is_refused_with_the_supported_list() -> None:
    raw = (EXAMPLES / "closure" / "es-co-executed.json").read_bytes()
    with pytest.raises(UnsupportedDocumentLanguage) as caught:
        render_pdf(_request("closure", raw, "de"))
    assert "es, pt_PT, pt_BR, en, fr" in caught.value.message("en")
    assert "«de»" in caught.value.message("es") and caught.value.message("es") != caught.value.message("en")
    with pytest.raises(UnsupportedDocumentLanguage):
        render_pdf(_request("closure", raw, "es", "xx"))


def test_a_pdf_without_payload_is_refused_clearly() -> None:
    with pytest.raises(NoEmbeddedPayload, match="not-a-pdf"):
        extract_payload(b"hello", source="not-a-pdf")
    with pytest.raises(NoEmbeddedPayload):
        from weasyprint import HTML

        extract_payload(HTML(string="<p>x</p>").write_pdf(), source="plain.pdf")


def test_markup_quotes_and_backslashes_in_values_are_shown_as_text() -> None:
    # Authority names go into CSS strings (running header) and values into HTML: neither may break out, and the
    # markup stays well-formed XML (read by expat).
    from engine.documents import _render

    tricky = 'Juzgado "Primero" \\ <b>Penal</b> & Cía </style>'
    payload = {"references": {"requesting": 'REF/"1"\\2'}, "reasons": "<script>alert('x')</script>\nLínea 2"}
    pdf = render_pdf(
        RenderRequest(
            form="withdrawal",
            payload=payload,
            language="es",
            issued_at=ISSUED,
            sender=Party("CO-FGN", tricky, "CO"),
            recipient=Party("ES-MJ", tricky, "ES"),
        )
    )
    assert _render._xml_root(render_html(RenderRequest(form="withdrawal", payload=payload, language="es",
                                                       sender=Party("CO-FGN", tricky, "CO")))) is not None
    text = _text(pdf.content)
    assert tricky in text and 'REF/"1"\\2' in text
    assert "<script>alert('x')</script>" in text and "Línea 2" in text
    assert json.loads(extract_payload(pdf.content)) == payload


def test_threads_render_the_same_bytes() -> None:
    # The API renders from worker threads; each thread has its own font configuration.
    import threading

    raw = (EXAMPLES / "postponement" / "pt-br-ongoing-investigation.json").read_bytes()
    expected = render_pdf(_request("postponement", raw, "pt")).content
    results: list[bytes] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(render_pdf(_request("postponement", raw, "pt")).content)
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_asset_amounts_are_money_in_their_currency_in_each_language() -> None:
    """Santa Marta §6: an execution report's frozen/seized amounts read as amounts of their currency (Babel)."""
    payload = json.loads((EXAMPLES / "execution_report" / "es-co-final.json").read_text(encoding="utf-8"))
    for lang, frozen, crypto in (("es", "845.000,00\xa0€", "40.210,00\xa0US$"), ("en", "€845,000.00", "$40,210.00"),
                                 ("fr", "845\u202f000,00\xa0€", "40\u202f210,00\xa0$US")):
        html = render_html(RenderRequest(form="execution_report", payload=payload, language=lang, issued_at=ISSUED))
        assert frozen in html and crypto in html, lang
    assert "Bienes inmuebles" in render_html(RenderRequest(form="execution_report", payload=payload, language="es",
                                                           issued_at=ISSUED))


_RENDERABLE = sorted(p for p in EXAMPLES.glob("*/*.json") if p.parent.name != "invalid")


@pytest.mark.parametrize("path", _RENDERABLE, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_markup_read_by_expat_prints_what_the_html_parser_prints(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The templates' markup is read as XML by expat (docs/performance.md): it must be well-formed for every form,
    # and give the very bytes WeasyPrint's own HTML parser gives, one language and bilingual.
    from engine.documents import _render

    raw = path.read_bytes()
    for lang, second in (("es", None), ("pt_BR", "en")):
        request = _request(path.parent.name, raw, lang, second)
        assert _render._xml_root(render_html(request)) is not None
        by_expat = render_pdf(request).content
        with monkeypatch.context() as patched:
            patched.setattr(_render, "_xml_root", lambda _html: None)
            assert render_pdf(request).content == by_expat, (lang, second)


def test_values_that_xml_cannot_hold_are_read_by_the_html_parser() -> None:
    # A control character is a legal JSON string but not XML 1.0: the document is still printed (HTML parser).
    # (Names with markup characters go through expat: test_markup_quotes_and_backslashes_in_values_are_shown_as_text.)
    from engine.documents import _render

    payload = json.loads((EXAMPLES / "withdrawal" / "cl-uy-withdrawal.json").read_bytes())
    payload["reasons"] = "Primera línea\x0bsegunda"
    request = RenderRequest(form="withdrawal", payload=payload, language="es", issued_at=ISSUED)
    assert _render._xml_root(render_html(request)) is None
    pdf = render_pdf(request).content
    assert json.loads(extract_payload(pdf))["reasons"] == payload["reasons"]
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
