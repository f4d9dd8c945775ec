"""What the pages of a document look like: the instrument's sections on them, every glyph inside the margins,
French typography, a bound on pages for large requests. Real PDFs, read back with pypdf and poppler's pdftotext."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from engine.documents import Party, RenderRequest, render_pdf
from engine.i18n import LANGUAGES, translate

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
EIO = "fr-es-eio-interception"
MLA = "co-es-bank-records"
MM = 72 / 25.4
MARGIN_X = 18 * MM  # document.css: @page margin left/right


def _payload(form: str, slug: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / form / f"{slug}.json").read_bytes())
    return data


def _render(payload: dict[str, Any], lang: str, *, form: str = "request", secondary: str | None = None,
            draft: bool = False, instrument: str | None = None) -> bytes:
    return render_pdf(RenderRequest(
        form=form, payload=payload, language=lang, secondary_language=secondary, draft=draft, instrument=instrument,
        sender=Party("FR-MJ", "Ministère de la Justice — Bureau de l'entraide pénale internationale", "FR"),
        recipient=Party("ES-MJ", "Ministerio de Justicia — Subdirección General de Cooperación Jurídica Internacional",
                        "ES"),
        issued_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), timezone="Europe/Paris",
    )).content


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def eio_pdfs() -> dict[str, bytes]:
    return {lang: _render(_payload("request", EIO), lang) for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_annex_a_section_is_on_the_eio_pages(eio_pdfs: dict[str, bytes], lang: str) -> None:
    text = "\n".join(_pages(eio_pdfs[lang]))
    word = translate(lang, "Section").upper()
    found = re.findall(rf"{word}\s+([A-L])\b", text)
    assert found == list("ABCDEFGHIJKL"), found
    for sub in range(1, 8):  # Annex A's seven subsections of section H
        assert f"H{sub} " in text, sub
    assert "H8 " not in text
    assert translate(lang, "Not applicable") in text  # section L and the empty H subsections
    assert "☒" in text and "☐" in text  # every option shown, ticked or not


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_carries_header_and_page_number(eio_pdfs: dict[str, bytes], lang: str) -> None:
    pages = _pages(eio_pdfs[lang])
    for number, text in enumerate(pages, start=1):
        expected = translate(lang, "Page {page} of {pages}").format(page=number, pages=len(pages))
        assert expected in text, (number, text[-200:])
        assert "FR-MJ/2026/DEE-0117" in text


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[int, float, float, float, float, float, str]]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    words, page_no, width = [], 0, 0.0
    for line in html.splitlines():
        if m := re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line):
            page_no, width = page_no + 1, float(m[1])
        elif m := re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line):
            words.append((page_no, width, float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5]))
    return words


@pytest.mark.parametrize(("slug", "lang", "secondary"), [(EIO, "fr", None), (EIO, "es", "fr"), (MLA, "pt", None)])
def test_no_glyph_outside_the_margins(slug: str, lang: str, secondary: str | None, tmp_path: Path) -> None:
    """The signature block once ran 6 mm past the right margin: every word's box stays within the text width."""
    words = _words(_render(_payload("request", slug), lang, secondary=secondary), tmp_path)
    assert words
    outside = [w for w in words if w[2] < MARGIN_X - 1 or w[4] > w[1] - MARGIN_X + 1]
    assert not outside, outside[:5]


def test_header_columns_have_a_gap(tmp_path: Path) -> None:
    words = _words(_render(_payload("request", EIO), "es"), tmp_path)
    first = [w for w in words if w[0] == 1 and w[3] < 32 * MM]  # the running header, above the top margin
    left = [w for w in first if w[2] < w[1] / 2]
    right = [w for w in first if w[2] >= w[1] / 2]
    assert left and right
    assert min(w[2] for w in right) - max(w[4] for w in left) >= 4 * MM


def test_french_typography(eio_pdfs: dict[str, bytes]) -> None:
    pdf = eio_pdfs["fr"]
    raw = "\n".join(_pages(pdf))
    assert "1er décembre 2026" in raw
    assert re.search("Date d'émission[\u202f\u00a0 ]:", raw)
    assert "Date d'émission:" not in raw
    # fields of an object run on one line, separated by ";", which French also spaces (formatting.punctuation)
    assert re.search("multilatérale[\u202f\u00a0 ]; Instrument", raw)
    assert "multilatérale; Instrument" not in raw


def test_a_draft_does_not_claim_transmission() -> None:
    text = "\n".join(_pages(_render(_payload("request", MLA), "en", draft=True)))
    assert "transmitted electronically" not in text
    assert "Draft, not transmitted" in text


def _many_persons(count: int) -> list[dict[str, Any]]:
    persons = []
    for i in range(count):
        persons.append({
            "role": ["suspect", "witness", "victim"][i % 3], "surname": f"Apellido{i} Gómez",
            "given_names": "María José",
            "birth_date": "1980-01-15", "birth_place": "Medellín", "nationalities": ["CO", "ES"], "languages": ["es"],
            "identity_documents": [{"type": "passport", "number": f"PA{i:07d}", "issuing_country": "CO"}],
            "addresses": [{"street": f"Calle {i} # 10-20", "postal_code": "050021", "city": "Medellín",
                           "country": "CO"}],
        })
    return persons


@pytest.mark.parametrize("slug", [MLA, EIO])
def test_sixty_persons_fit_in_ten_pages(slug: str) -> None:
    payload = copy.deepcopy(_payload("request", slug))
    payload["persons"] = _many_persons(60)
    pages = _pages(_render(payload, "es"))
    assert len(pages) <= 10, len(pages)
    text = "\n".join(pages)
    assert "Apellido59 Gómez" in text and "PA0000059" in text


def test_eio_acknowledgement_is_annex_b() -> None:
    payload = _payload("acknowledgement", "es-co-receipt")
    text = "\n".join(_pages(_render(payload, "es", form="acknowledgement", instrument="EIO")))
    assert re.findall(r"SECCIÓN\s+([A-E])\b", text) == list("ABCDE")
    assert "anexo B" in text


def test_un_convention_request_is_numbered() -> None:
    from engine.forms import profile_for_instrument

    text = "\n".join(_pages(_render(_payload("request", "ie-jm-search-and-seizure"), "en")))
    sections = profile_for_instrument("VIENNA_1988").documents["request"].sections
    positions = []
    for number, spec in enumerate(sections, start=1):
        title = r"\s+".join(map(re.escape, spec["title"]["en"].split()))  # a long title wraps
        found = re.search(rf"^{number}\.\s+{title}", text, re.M)
        assert found, spec["title"]["en"]
        positions.append(found.start())
    assert positions == sorted(positions)  # in the order of UNTOC Art. 18(15)
    # the items (a)-(f) in the words of the Convention (UNTOC Art. 18(15), UNCAC Art. 46(15): same text)
    assert [" ".join(s["title"]["en"].split()) for s in sections[:6]] == UNTOC_18_15


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_request_for_service_of_documents_needs_no_facts(lang: str) -> None:
    """UNTOC Art. 18(15)(c): no summary of the facts "in relation to requests for the purpose of service of judicial
    documents"; such a request renders with its section 3 (offences) and no facts."""
    payload = _payload("request", "cl-uy-service-of-documents")
    del payload["facts"]
    from engine.forms import profile_for_instrument
    from engine.i18n import localized

    text = " ".join("\n".join(_pages(_render(payload, lang))).split())
    sections = profile_for_instrument("OAS_NASSAU_1992").documents["request"].sections
    for number, spec in enumerate(sections, start=1):
        assert f"{number}. {' '.join(str(localized(spec['title'], lang)).split())}" in text, (number, lang)
    assert "El imputado habría obtenido" not in text  # the example's facts, left out
    assert payload["measures"][0]["description"][:40] in text  # section 4: the service asked for


UNTOC_18_15 = [
    "Identity of the authority making the request",
    "Subject matter and nature of the investigation, prosecution or judicial proceeding; name and functions of the"
    " authority conducting it",
    "Summary of the relevant facts",
    "Description of the assistance sought and details of any particular procedure to be followed",
    "Identity, location and nationality of any person concerned",
    "Purpose for which the evidence, information or action is sought",
]


def test_a_stored_v1_request_renders_with_its_own_schema() -> None:
    """Documents stored under request v1 (before Annex A in full) still render, with v1's labels and layout."""
    payload = {k: v for k, v in _payload("request", MLA).items() if k not in ("proceedings", "purpose")}
    payload["earlier_request"] = "CO-FGN/2025/000007"  # v1: a short text
    pdf = render_pdf(RenderRequest(form="request", payload=payload, language="es",
                                   schema_id="https://exhorto.eu/schemas/request/v1",
                                   issued_at=datetime(2026, 12, 1, tzinfo=UTC)))
    text = "\n".join(_pages(pdf.content))
    assert "CO-FGN/2025/000007" in text and "Solicitud anterior relacionada" in text
    assert "https://exhorto.eu/schemas/request/v1" in text.replace("\n", "")


def _text_origins(pdf: bytes) -> list[tuple[int, float, float, float, float, str]]:
    """Where pypdf places each run of text: (page, page width, page height, x, y, text), in user space."""
    runs: list[tuple[int, float, float, float, float, str]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):
        box = page.mediabox
        width, height = float(box.width), float(box.height)

        def visit(text: str, cm: list[float], tm: list[float], _font: Any, _size: Any,
                  number: int = number, width: float = width, height: float = height) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((number, width, height, x, y, text))

        page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_run_starts_inside_the_page_box(eio_pdfs: dict[str, bytes], lang: str) -> None:
    """A second reader (pypdf's text matrices, beside poppler's word boxes above): no run of text starts outside
    the MediaBox or in the side margins."""
    runs = _text_origins(eio_pdfs[lang])
    assert runs
    outside = [r for r in runs if not (MARGIN_X - 1 <= r[3] <= r[1] - MARGIN_X and 0 <= r[4] <= r[2])]
    assert not outside, outside[:5]


ANNEX_A_SECTION_C = [
    "obtain_existing_evidence", "database_information", "witness_hearing", "expert_hearing", "suspect_hearing",
    "victim_hearing", "third_party_hearing", "subscriber_identification", "transfer_of_detained_person",
    "transfer_to_executing_state", "bank_records", "bank_operations", "real_time_monitoring", "controlled_delivery",
    "covert_investigation", "interception", "provisional_measures",
]


def test_section_c_prints_the_annex_a_list_in_its_order() -> None:
    """Annex A section C lists the measures of the Directive's Arts. 10(2), 22-30 and 32; the EIO grid prints that
    list, in that order, and not the measures of other instruments (a joint investigation team is outside the
    Directive, Art. 3) unless a request chose one."""
    from engine.forms import profile_for_instrument

    spec = next(s for s in profile_for_instrument("EIO").documents["request"].sections if s["key"] == "C")
    assert spec["options"]["/measures/*/type"] == ANNEX_A_SECTION_C
    text = "\n".join(_pages(_render(_payload("request", EIO), "en"))).replace("\n", " ")
    section_c = text[text.index("SECTION C"):text.index("SECTION D")]
    expected = ["Obtaining information or evidence already in the possession", "police or judicial databases",
                "Hearing of a witness", "Hearing of an expert", "Hearing of a suspect", "Hearing of a victim",
                "Hearing of a third party", "Identification of the holder", "custody to the issuing State",
                "custody to the executing State", "Information on bank and other financial accounts",
                "banking and other financial operations", "in real time", "Controlled delivery",
                "Covert investigation", "Interception of telecommunications", "Provisional measures"]
    positions = [section_c.index(words) for words in expected]
    assert positions == sorted(positions)
    assert "Joint investigation team" not in section_c
    payload = copy.deepcopy(_payload("request", EIO))
    payload["measures"].append({"type": "search_and_seizure", "description": "Perquisition du domicile."})
    text = "\n".join(_pages(_render(payload, "en"))).replace("\n", " ")
    assert "☒ Search and seizure" in text[text.index("SECTION C"):text.index("SECTION D")]


def test_covert_investigation_reasons_follow_section_c_only_when_given() -> None:
    """Annex A section H has no subsection for a covert investigation: the reasons Art. 29(2) requires ("why it
    considers the covert investigation likely to be relevant") print after the measures of section C, and only
    when the request gives them; a numbered treaty request keeps them with the assistance sought (item 4)."""
    def between(text: str, start: str, end: str) -> str:
        return text[text.index(start):text.index(end)]

    title = "Covert investigation: why it is relevant (Art. 29(2))"
    text = "\n".join(_pages(_render(_payload("request", EIO), "en"))).replace("\n", " ")
    assert title not in text
    payload = copy.deepcopy(_payload("request", EIO))
    payload["measures"].append({"type": "covert_investigation", "description": "Infiltration d'un agent."})
    payload["specific_measures"]["covert_investigation"] = {"relevance": "Le réseau ne se réunit qu'en personne."}
    text = "\n".join(_pages(_render(payload, "en"))).replace("\n", " ")
    section_c = between(text, "SECTION C", "SECTION D")
    assert title in section_c and "Le réseau ne se réunit qu'en personne." in section_c
    assert section_c.index("Infiltration d'un agent.") < section_c.index(title)  # after the measures
    assert title not in between(text, "SECTION H", "SECTION I")
    text = "\n".join(_pages(_render(payload, "es"))).replace("\n", " ")
    assert "Investigación encubierta: por qué es pertinente (art. 29.2)" in between(text, "SECCIÓN C", "SECCIÓN D")
    numbered = copy.deepcopy(_payload("request", MLA))
    numbered["specific_measures"] = {"covert_investigation": {"relevance": "La red solo se reúne en persona."}}
    text = "\n".join(_pages(_render(numbered, "en"))).replace("\n", " ")
    assert "La red solo se reúne en persona." in text[text.index("4. "):text.index("5. ")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signature_block_has_name_position_place_date_and_stamp_box(eio_pdfs: dict[str, bytes], lang: str) -> None:
    last = _pages(eio_pdfs[lang])[-1]
    block = last[last.rindex(translate(lang, "Name")):]
    for label in ("Name", "Position", "Place", "Date", "Official stamp", "Signature and seal of the authority"):
        assert translate(lang, label) in block, label
    signature = _payload("request", EIO)["signature"]
    for value in (signature["name"], signature["position"], signature["place"]):
        assert value in block, value


CERTIFICATION = (
    "This European Investigation Order has been issued by a competent authority. The issuing authority certifies that"
    " issuing it is necessary and proportionate for the purpose of the proceedings specified in it, taking into"
    " account the rights of the suspected or accused person, and that the investigative measures requested could have"
    " been ordered under the same conditions in a similar domestic case. It requests that the investigative measures"
    " specified below be carried out taking due account of the confidentiality of the investigation and that the"
    " evidence obtained as a result of their execution be transferred."
)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_eio_opens_with_the_issuing_authoritys_certification(eio_pdfs: dict[str, bytes], lang: str) -> None:
    """Annex A opens with the certification of Art. 6(1)'s conditions (necessity, proportionality, a similar
    domestic case), before section A."""
    text = " ".join(" ".join(_pages(eio_pdfs[lang])).split())
    certification = translate(lang, CERTIFICATION)
    assert certification != CERTIFICATION or lang == "en"
    assert " ".join(certification.split()) in text
    assert text.index(" ".join(certification.split())) < text.index(translate(lang, "Section").upper() + " A")
